//! # `udp_sends_newline`: known-bad, sends the newline too
//!
//! Known-bad: the grader must reject it. It sends each line with its newline: the server receives
//! `"alpha\n"`, not `"alpha"`.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpNewlineSent

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::SendsNewline)
}
