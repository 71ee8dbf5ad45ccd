//! Known-bad: clones the socket for every line and keeps the clone: one descriptor leaked per line.
//! Keeps the `framed_client` contract otherwise.
//!
//! selftest: framed_client rejects with DescriptorLeak

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::LeaksFd)
}
