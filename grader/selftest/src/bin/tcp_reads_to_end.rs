//! # `tcp_reads_to_end`: known-bad, reads each reply to the end of the stream
//!
//! Known-bad: the grader must reject it. It reads each reply with `read_to_end`, "to be sure to
//! have all of it".
//!
//! The mistake: `read_to_end` returns only at the end of the stream, when the server closes; the
//! server closes only after the client's end of stream, which the client sends only once it has
//! its reply. Both wait for each other.
//!
//! Everything else is as the contract says. Symptom: it sends the first line and waits; the server
//! answered it and waits for the next; nothing is printed until the grader stops it.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with Hung

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::ReadsToEnd)
}
