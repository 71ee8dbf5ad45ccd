//! Known-bad `sockstat`: reads only /proc/PID/net/tcp and udp, so the IPv6 sockets are missing.
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatIpv4Only

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        ipv4_only: true,
        ..Default::default()
    })
}
