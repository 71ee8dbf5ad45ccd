//! Known-bad `sockstat`: reads an IPv6 address as one little-endian 128-bit number, so its four words come out in reverse order.
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatIpv6WordOrder

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        ipv6_word_order: true,
        ..Default::default()
    })
}
