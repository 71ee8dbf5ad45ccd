//! Known-bad `daemon_check`: it closes its probe with SO_LINGER 0 (to leave no TIME-WAIT behind), which sends a reset instead of an end of stream.
//! Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonProbeReset

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        linger_reset: true,
        ..Default::default()
    })
}
