//! # `tcp_two_writes`: known-bad, sends each line in two writes
//!
//! Known-bad: the grader must reject it. It sends each line with one `write_all` and its newline
//! with another.
//!
//! The mistake: the bytes all arrive, in order, but the newline waits. Nagle's algorithm holds a
//! small write back while an earlier one is not acknowledged yet, and the server, which has no
//! whole line and so nothing to answer, delays its acknowledgement (up to 40 ms on Linux). Each
//! line then takes about 40 ms instead of a fraction of a millisecond.
//!
//! Everything else is as the contract says. Symptom: every conversation is right, but slow: a
//! thousand lines take about 40 s.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with SplitWrites

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::TwoWrites)
}
