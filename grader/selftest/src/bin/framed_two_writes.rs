//! # `framed_two_writes`: known-bad, sends the header and the payload in two writes
//!
//! Known-bad: the grader must reject it. It sends each frame's 4-byte header with one `write_all`
//! and the payload with another.
//!
//! The mistake: the reader does not care how the bytes are cut, but TCP does. The payload waits
//! until the server acknowledges the header (Nagle's algorithm), and the server, with no whole
//! frame to answer, delays its acknowledgement by up to 40 ms: every frame takes about 40 ms.
//!
//! Everything else is as the contract says. Symptom: every conversation is right, but slow: a
//! thousand lines take about 40 s.
//!
//! Contract: `framed_client HOST PORT`, as in `exercises/framed_client.rs` (chapter 5).
//!
//! selftest: framed_client rejects with SplitWrites

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::TwoWrites)
}
