//! # `udp_not_dumpable`: known-bad, hides its descriptors
//!
//! Known-bad: the grader must reject it. It calls `prctl(PR_SET_DUMPABLE, 0)` first thing, which
//! gives its /proc/PID entries to root: an ordinary user (and `ss -p`, `lsof`) can no longer see
//! its sockets.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with Uninspectable

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::NotDumpable)
}
