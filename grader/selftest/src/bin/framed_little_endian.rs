//! Known-bad: writes and reads the length little-endian instead of in network byte order.
//! Keeps the `framed_client` contract otherwise.
//!
//! selftest: framed_client rejects with FramedByteOrder

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::LittleEndian)
}
