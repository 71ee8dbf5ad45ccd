//! # `udp_compares_ip_only`: known-bad, checks the sender's IP only
//!
//! Known-bad: the grader must reject it. It takes any datagram from the server's IP address for the
//! reply, whatever its port: another program on the server's machine can answer for the server.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpAcceptsStrangers

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::ComparesIpOnly)
}
