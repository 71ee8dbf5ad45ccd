//! Known-bad `daemon_check`: the widespread recipe, with its two flaws. It reads any failure of
//! `kill(pid, 0)` as "no such process", as `kill -0 PID` in a shell does (EPERM, not ours, is
//! as much a failure as ESRCH), and it takes a successful connect as proof that the port is the
//! daemon's. The grader must answer `DaemonEpermMeansAlive` (and, elsewhere,
//! `DaemonConnectProvesNothing`).
//!
//! selftest: daemon_check rejects with DaemonEpermMeansAlive

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        eperm_is_dead: true,
        trusts_port: true,
        ..Default::default()
    })
}
