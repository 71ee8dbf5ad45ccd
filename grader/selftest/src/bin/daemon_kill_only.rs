//! Known-bad `daemon_check`: it checks only `kill(pid, 0)` (rightly: EPERM means alive) and never
//! connects, so a live process that listens on nothing, or any process that reuses the pid, is
//! "running". Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonAliveIsNotListening

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        kill_only: true,
        ..Default::default()
    })
}
