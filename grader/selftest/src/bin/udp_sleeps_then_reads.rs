//! # `udp_sleeps_then_reads`: known-bad, sleeps a second, then looks
//!
//! Known-bad: the grader must reject it. After each try it sleeps the whole second, then takes
//! whatever has come: a reply that came at once is printed a second late.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpLateReply

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::SleepsThenReads)
}
