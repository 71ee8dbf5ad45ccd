//! Known-bad `daemon_check`: it takes a successful connect as proof that the socket on the port
//! is the daemon's, without looking in /proc/PID/fd. Keeps the `daemon_check` contract
//! otherwise.
//!
//! selftest: daemon_check rejects with DaemonConnectProvesNothing

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        trusts_port: true,
        ..Default::default()
    })
}
