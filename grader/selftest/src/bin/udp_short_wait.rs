//! # `udp_short_wait`: known-bad, waits half a second per try
//!
//! Known-bad: the grader must reject it. After each try it waits 0.5 s for the reply, not 1 s: a
//! server that answers in 0.7 s is given up on.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpTryWait

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::ShortWait)
}
