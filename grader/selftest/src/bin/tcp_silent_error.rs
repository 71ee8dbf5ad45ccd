//! # `tcp_silent_error`: known-bad, fails in silence
//!
//! Known-bad: the grader must reject it. When the connection cannot be made, or the server closes
//! before replying (or any other error happens), it prints nothing and exits 0, as if all had gone
//! well.
//!
//! The mistake: a failure that looks like success. The contract asks for one line on standard error
//! and exit status 1, so that a person and a script can both tell.
//!
//! Everything else is as the contract says. Symptom: when nothing listens, or the server closes
//! before replying, standard output and standard error stay empty and the exit status is 0.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with ErrorNotReported

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::SilentError)
}
