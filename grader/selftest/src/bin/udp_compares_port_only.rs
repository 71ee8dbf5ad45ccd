//! # `udp_compares_port_only`: known-bad, checks the sender's port only
//!
//! Known-bad: the grader must reject it. It takes any datagram from the server's port for the
//! reply, whatever its address: any machine can send from that port number.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpAcceptsStrangers

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::ComparesPortOnly)
}
