//! # `udp_usage_exits_one`: known-bad, exits 1 on wrong usage
//!
//! Known-bad: the grader must reject it. On a wrong command line it prints its usage line and
//! exits 1, the status of an error once the program runs; by convention wrong usage exits 2.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UsageNotReported

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::UsageExitsOne)
}
