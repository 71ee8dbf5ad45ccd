//! Known-bad: takes one `read` as one frame (the payload is whatever came after the header).
//! Keeps the `framed_client` contract otherwise.
//!
//! selftest: framed_client rejects with FramedOneReadOneFrame

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::OneRead)
}
