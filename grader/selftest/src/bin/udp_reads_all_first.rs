//! # `udp_reads_all_first`: known-bad, reads all of its input before it sends
//!
//! Known-bad: the grader must reject it. It collects every line of standard input first and
//! only then talks to the server: with its input given all at once it does everything right, but a
//! person who types one line and waits for the reply waits for ever.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with NotInteractive

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::ReadsAllFirst)
}
