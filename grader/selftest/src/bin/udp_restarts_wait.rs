//! # `udp_restarts_wait`: known-bad, a stranger starts its wait over
//!
//! Known-bad: the grader must reject it. It sets a 1 s read timeout once, and after ignoring a
//! stranger's datagram calls `recv_from` again, which waits a whole second again: a stranger who
//! sends something every half second keeps it waiting for ever.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpStrangerRestartsWait

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::RestartsWaitOnStranger)
}
