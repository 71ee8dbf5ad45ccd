//! # `tcp_read_timeout`: known-bad, gives up on a reply after one second
//!
//! Known-bad: the grader must reject it. It sets a read timeout of one second on its connection,
//! "so as never to hang", and treats a reply that takes longer as an error.
//!
//! The mistake: the contract has no time limit; a reply may come seconds after its line. When the
//! timeout runs out, `read` fails with `WouldBlock`, "Resource temporarily unavailable (os error
//! 11)", which says nothing about a timeout to whoever reads it.
//!
//! Everything else is as the contract says. Symptom: when the server holds a reply back for two
//! seconds, it prints "cannot read from the server: Resource temporarily unavailable (os error
//! 11)" after one, and exits 1.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with FailedNeedlessly

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::ReadTimeout)
}
