//! Known-bad `daemon_check`: when it cannot read /proc/PID/fd it says "port held by another process" instead of reporting that it cannot tell.
//! Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonGuessedOwner

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        guesses_owner: true,
        ..Default::default()
    })
}
