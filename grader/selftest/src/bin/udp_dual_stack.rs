//! # `udp_dual_stack`: known-bad, an IPv6 socket for an IPv4 server
//!
//! Known-bad: the grader must reject it. It always binds `[::]:0`, a dual-stack IPv6 socket, which
//! can talk to 127.0.0.1 too; but the replies then come from `::ffff:127.0.0.1`, which never equals
//! the `127.0.0.1` it compares them with, so it ignores every one.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpRepliesIgnored

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::DualStackSocket)
}
