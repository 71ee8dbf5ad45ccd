//! # `tcp_double_newline`: known-bad, prints an empty line after every reply
//!
//! Known-bad: the grader must reject it. `read_until` keeps the newline it stops at; this program
//! leaves it in the reply and then prints the reply with a newline of its own, so every reply is
//! followed by an empty line.
//!
//! The mistake: not knowing which end of a line is whose. The reply is the bytes before the
//! newline; a line read with `read_until` (or `read_line`) still ends in it, and `println!` adds
//! another.
//!
//! Everything else is as the contract says. Symptom: every reply is printed, each followed by an
//! empty line the server never sent.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with WrongOutput

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::DoubleNewline)
}
