//! # `tcp_reset_at_end`: known-bad, ends the connection with a reset
//!
//! Known-bad: the grader must reject it. At the end of its input it sets SO_LINGER to 0 ("so that
//! the port is not left in TIME-WAIT") and closes the connection, instead of half-closing.
//!
//! The mistake: a close with SO_LINGER 0 is an abort. The kernel sends a reset (RST) instead of an
//! end of stream (FIN) and throws away whatever is still on its way: the server's read fails with
//! "connection reset" instead of returning 0, and its last lines never arrive.
//!
//! Everything else is as the contract says: one connection, replies read whole, errors reported.
//! Symptom: it prints every reply and exits 0, but none of the lines the server sends after the end
//! of input; the server read a reset.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpReset

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::ResetAtEnd)
}
