//! Known-bad: never half-closes, so it waits forever for the server's last frames.
//! Keeps the `framed_client` contract otherwise.
//!
//! selftest: framed_client rejects with TcpNoHalfClose

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::NoHalfClose)
}
