//! # `tcp_no_half_close`: known-bad, never half-closes
//!
//! Known-bad: the grader must reject it. At the end of its input it never shuts down its sending
//! side: it just goes on reading, waiting for the server to close the connection.
//!
//! The mistake: the server cannot tell that the client has finished until it reads the end of the
//! stream, which only a shutdown (or a close) sends. Both sides wait for each other for ever.
//!
//! Everything else is as the contract says. Symptom: it prints every reply, then hangs in a read
//! (the server never sees the end of the stream, so never sends its last lines nor closes) until it
//! is killed.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpNoHalfClose

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::NoHalfClose)
}
