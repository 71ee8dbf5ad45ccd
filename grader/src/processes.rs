//! Stand-in processes a scenario needs: one that lives and holds no socket, and the pid of one
//! that is gone.

use crate::program::{Input, Run, Subject};

/// `sleep 600` as a child: a live process that holds no socket; killed when dropped.
pub fn sleeper() -> Result<Run, String> {
    let sleep = Subject {
        exe: "sleep".into(),
        shown_as: "sleep".into(),
    };
    Run::start(&sleep, &["600".into()], Input::Open).map_err(|e| format!("cannot start sleep: {e}"))
}

/// The pid of a process that has exited and been reaped: no `/proc/PID` any more, and
/// `kill(pid, 0)` fails with `ESRCH` (until the kernel hands the pid out again, which takes a
/// whole round of the pid range).
pub fn dead_pid() -> Result<i32, String> {
    let mut child = std::process::Command::new("true")
        .spawn()
        .map_err(|e| format!("cannot start true: {e}"))?;
    let pid = child.id() as i32;
    child.wait().map_err(|e| format!("cannot reap true: {e}"))?;
    Ok(pid)
}
