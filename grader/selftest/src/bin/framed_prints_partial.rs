//! Known-bad: prints what it has of a frame the connection cuts short.
//! Keeps the `framed_client` contract otherwise.
//!
//! selftest: framed_client rejects with FramedPrintedBrokenFrame

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::PrintsPartial)
}
