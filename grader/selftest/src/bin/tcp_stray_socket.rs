//! # `tcp_stray_socket`: known-bad, holds a listening socket it never uses
//!
//! Known-bad: the grader must reject it. Before it connects, it makes a listening socket on
//! 127.0.0.1 (a leftover of server code copied into the client) and keeps it until it exits.
//!
//! The mistake: every socket a program holds is a descriptor, and a port that others see: `ss
//! -tlnp` shows this client listening. A client needs one socket, its connection.
//!
//! Everything else is as the contract says. Symptom: its conversations are all right; while it
//! waits for a reply, the grader sees two sockets, one of them in LISTEN.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with SocketsHeld

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::StraySocket)
}
