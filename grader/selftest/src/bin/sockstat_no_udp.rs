//! Known-bad `sockstat`: reads only the TCP tables, so the UDP sockets are missing.
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatNoUdp

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        no_udp: true,
        ..Default::default()
    })
}
