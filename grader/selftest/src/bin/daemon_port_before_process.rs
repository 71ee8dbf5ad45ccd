//! Known-bad `daemon_check`: it connects to the port before it asks whether the process exists, so a daemon that died (and freed its port) is "not listening" instead of "no such process".
//! Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonWrongVerdict

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        port_before_process: true,
        ..Default::default()
    })
}
