//! Known-bad `sockstat`: takes each 32-bit word of an address as printed (`0100007F` as 1.0.0.127).
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatByteOrder

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        byte_order: true,
        ..Default::default()
    })
}
