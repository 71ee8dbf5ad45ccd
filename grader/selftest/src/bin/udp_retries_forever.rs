//! # `udp_retries_forever`: known-bad, never gives up
//!
//! Known-bad: the grader must reject it. When no reply comes it sends the datagram again every
//! second, for ever, instead of giving up after 3 tries.
//!
//! Everything else is as the contract says (see `udp_parts`).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpTooManyTries

mod udp_parts;

fn main() -> std::process::ExitCode {
    udp_parts::main(udp_parts::Mistake::RetriesForever)
}
