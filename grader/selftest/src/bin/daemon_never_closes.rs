//! Known-bad `daemon_check`: every verdict right, but it keeps its probe connection: after
//! printing it waits for the daemon to say something (or close) before it ends. A daemon that
//! never answers holds it forever. Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonProbeLeftOpen

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        keeps_probe: true,
        ..Default::default()
    })
}
