//! # `tcp_leaks_fd`: known-bad, opens a file per line and never closes it
//!
//! Known-bad: the grader must reject it. For every line it opens its log (`/dev/null` here, so
//! that the grader's runs leave no file behind) to note the line in, and keeps the handle in a
//! list "to flush at the end".
//!
//! The mistake: every `File` holds a descriptor until it is dropped. A program that keeps one per
//! line runs out of descriptors ("Too many open files") on a long enough input.
//!
//! Everything else is as the contract says. Symptom: it passes every short conversation; over a
//! thousand lines its descriptor count grows by one per line.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with DescriptorLeak

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::LeaksFd)
}
