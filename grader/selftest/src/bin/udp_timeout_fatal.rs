//! # `udp_timeout_fatal`: known-bad, takes the timeout for an error
//!
//! Known-bad: the grader must reject it. When its read timeout expires it reports the error
//! `Resource temporarily unavailable (os error 11)` and exits 1, instead of sending again.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpTimeoutIsError

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::TimeoutIsFatal)
}
