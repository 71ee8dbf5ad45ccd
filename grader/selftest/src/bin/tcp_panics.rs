//! # `tcp_panics`: known-bad, panics on errors
//!
//! Known-bad: the grader must reject it. It uses `.unwrap()` and `.expect()` on the connection and
//! on the reads, so a refused connection, a reset or a server that closes before replying ends in a
//! panic: a Rust message and backtrace hint on standard error and exit status 101.
//!
//! The mistake: errors are part of networking, not bugs. The contract asks for one readable line on
//! standard error and exit status 1.
//!
//! Everything else is as the contract says. Symptom: when nothing listens, it panics with "called
//! `Result::unwrap()` on an `Err` value: Os { code: 111, kind: ConnectionRefused, .. }"; when the
//! server closes before replying, it panics with "the server's reply"; exit 101 both times.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with Panicked

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::Panics)
}
