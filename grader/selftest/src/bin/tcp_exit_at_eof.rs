//! # `tcp_exit_at_eof`: known-bad, leaves at the end of input
//!
//! Known-bad: the grader must reject it. At the end of its input it exits at once, which closes the
//! socket, without reading what the server still has to say.
//!
//! The mistake: the end of the input is not the end of the conversation. A half-close
//! (`shutdown(Write)`) tells the server we are done sending while we go on reading until it closes.
//!
//! Everything else is as the contract says. Symptom: it prints the reply to each line and exits 0,
//! but none of the lines the server sends after the end of input.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpLeftEarly

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::ExitAtEof)
}
