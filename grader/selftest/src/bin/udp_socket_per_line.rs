//! # `udp_socket_per_line`: known-bad, a new socket for every line
//!
//! Known-bad: the grader must reject it. It binds a new socket (a new ephemeral port) for every
//! line, so one conversation comes from many addresses; a reply that comes late reaches a socket
//! that is gone.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpManySockets

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::SocketPerLine)
}
