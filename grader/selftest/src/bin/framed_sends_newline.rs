//! # `framed_sends_newline`: known-bad, puts the newline in the frame
//!
//! Known-bad: the grader must reject it. It sends each input line as `read_until` gave it, with
//! its newline, as the frame's payload.
//!
//! The mistake: the newline ended the line on standard input; in a framed protocol the length
//! says where a message ends, and the payload is the line alone.
//!
//! Everything else is as the contract says. Symptom: the server receives frames that end in "\n",
//! and its replies end in one too, so the program prints an empty line after each.
//!
//! Contract: `framed_client HOST PORT`, as in `exercises/framed_client.rs` (chapter 5).
//!
//! selftest: framed_client rejects with WrongRequests

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::SendsNewline)
}
