//! Known-bad: believes any length, allocates it, and waits for that many bytes.
//! Keeps the `framed_client` contract otherwise.
//!
//! selftest: framed_client rejects with FramedNoLimit

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::NoLimit)
}
