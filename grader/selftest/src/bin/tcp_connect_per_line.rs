//! # `tcp_connect_per_line`: known-bad, one connection per line
//!
//! Known-bad: the grader must reject it. It opens a new connection for every input line: connects,
//! sends the line, half-closes, prints everything the server sends until it closes, and starts
//! again with the next line.
//!
//! The mistake: a TCP connection is a conversation, not one message. The contract asks for one
//! connection for the whole input, so that the server sees one client and its state (here, the
//! count of lines) spans the conversation.
//!
//! Everything else is as the contract says. Symptom: the server accepts as many connections as
//! there are lines; after each reply the program also prints that connection's closing lines (which
//! say "you sent 1 lines"); exit 0.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpConnectionPerLine

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::ConnectionPerLine)
}
