//! Known-bad `daemon_check`: it never connects: a live process whose LISTEN socket on the port is in /proc is "running", whether or not anything accepts.
//! Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonNoProbe

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        never_connects: true,
        ..Default::default()
    })
}
