//! Known-bad `sockstat`: prints every line of the kernel's tables, the whole machine's sockets, not the process's own.
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatNotOwnSockets

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        all_sockets: true,
        ..Default::default()
    })
}
