//! # `tcp_one_read`: known-bad, takes one `read` for one reply
//!
//! Known-bad: the grader must reject it. After sending each line it makes one `read` call into a
//! 4096-byte buffer and prints what that call returned as the server's reply.
//!
//! The mistake: TCP carries a stream of bytes, not messages. One `read` returns whatever has
//! arrived: part of a line, or a line and a half. A reply line is complete only at its newline.
//!
//! Everything else is as the contract says (after the half-close it prints the rest of the stream
//! line by line). Symptom: when the server sends a reply in pieces (one byte per write), it prints
//! a fragment (e.g. the first byte) as the reply to each line, and the rest of the replies come out
//! later as if they were the server's last lines; exit 0.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpOneReadOneMessage

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::OneRead)
}
