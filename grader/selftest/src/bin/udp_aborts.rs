//! # `udp_aborts`: known-bad, aborts when it gives up
//!
//! Known-bad: the grader must reject it. When no reply comes after 3 tries it calls
//! `std::process::abort()` instead of saying so on standard error and exiting 1: it dies of
//! SIGABRT.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with Crashed

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::AbortsWhenGivingUp)
}
