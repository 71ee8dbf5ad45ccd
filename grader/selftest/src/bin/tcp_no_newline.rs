//! # `tcp_no_newline`: known-bad, sends its lines without their newline
//!
//! Known-bad: the grader must reject it. It sends each input line as it read it, without the
//! newline that `read_until` (like `lines()`) took off.
//!
//! The mistake: on a byte stream the newline is what ends a line. Without it the server has one
//! line that never ends, and answers nothing: the program waits for a reply that never comes.
//!
//! Everything else is as the contract says. Symptom: it connects, sends, and waits; the server
//! received no whole line; the grader stops it.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with WrongRequests

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::NoNewline)
}
