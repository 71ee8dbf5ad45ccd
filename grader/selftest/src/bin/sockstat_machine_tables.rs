//! Known-bad `sockstat`: reads `/proc/net/tcp` and the others, the tables of its own network
//! namespace, instead of the process's `/proc/PID/net/...`: a process in another network
//! namespace seems to hold no socket. Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatOtherNamespace

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        machine_tables: true,
        ..Default::default()
    })
}
