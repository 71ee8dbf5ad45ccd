//! # `framed_stray_socket`: known-bad, holds a UDP socket it never uses
//!
//! Known-bad: the grader must reject it. Before it connects, it binds a UDP socket (meant for
//! statistics that were never written) and keeps it until it exits.
//!
//! The mistake: every socket a program holds is a descriptor and a port, held until it is
//! dropped. This client needs one socket, its connection.
//!
//! Everything else is as the contract says. Symptom: its conversations are all right; while it
//! waits for a reply, the grader sees a UDP socket beside the connection.
//!
//! Contract: `framed_client HOST PORT`, as in `exercises/framed_client.rs` (chapter 5).
//!
//! selftest: framed_client rejects with SocketsHeld

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::StraySocket)
}
