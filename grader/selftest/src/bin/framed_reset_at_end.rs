//! # `framed_reset_at_end`: known-bad, ends the connection with a reset
//!
//! Known-bad: the grader must reject it. At the end of its input it sets SO_LINGER to 0 and
//! closes the connection, instead of half-closing.
//!
//! The mistake: a close with SO_LINGER 0 is an abort. The kernel sends a reset (RST) instead of an
//! end of stream (FIN), so the server's read fails with "connection reset" instead of returning
//! 0, and the frames it sends after the end of input never arrive.
//!
//! Everything else is as the contract says (see `framed_parts`). Symptom: it prints every reply and exits 0, but none of the frames the server sends
//! after the end of input; the server read a reset.
//!
//! Contract: `framed_client HOST PORT`, as in `exercises/framed_client.rs` (chapter 5).
//!
//! selftest: framed_client rejects with TcpReset

mod framed_parts;

fn main() -> std::process::ExitCode {
    framed_parts::main(framed_parts::Mistake::ResetAtEnd)
}
