//! # `tcp_usage_exit_1`: known-bad, exits 1 on wrong usage
//!
//! Known-bad: the grader must reject it. On a wrong command line it prints its usage line and
//! exits with status 1, like any other error.
//!
//! The mistake: by convention a wrong command line exits 2, so that a script can tell "you called
//! me wrong" from "I ran and failed".
//!
//! Everything else is as the contract says. Symptom: `tcp_client` with no arguments prints
//! "usage: tcp_client HOST PORT" and exits 1.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with UsageNotReported

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::UsageExitsOne)
}
