//! Known-bad `daemon_check`: it checks only `kill(pid, 0)` (rightly: EPERM means alive) and never
//! connects, so a live process that listens on nothing, or any process that reuses the pid, is
//! "running". The grader must answer `DaemonAliveIsNotListening`.
//!
//! selftest: daemon_check rejects with DaemonAliveIsNotListening

use std::io;
use std::process::ExitCode;

// kill(2) from the C library, which std links anyway: no crate needed for one call.
unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pidfile] = args.as_slice() else {
        eprintln!("usage: daemon_check PIDFILE");
        return ExitCode::from(2);
    };
    let verdict = match std::fs::read_to_string(pidfile) {
        Err(_) => "not running: no pid file".to_string(),
        Ok(text) => match parse(&text) {
            None => "not running: malformed pid file".to_string(),
            Some((pid, port)) => {
                // SAFETY: kill with signal 0 sends nothing and touches no memory of ours.
                let alive = unsafe { kill(pid, 0) } == 0
                    || io::Error::last_os_error().raw_os_error() == Some(1); // EPERM
                if alive {
                    // The mistake: a live process is taken for a daemon that serves its port.
                    format!("running {pid} {port}")
                } else {
                    "not running: no such process".to_string()
                }
            }
        },
    };
    println!("{verdict}");
    if verdict.starts_with("running") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn parse(text: &str) -> Option<(i32, u16)> {
    let (pid, port) = text.trim().split_once(';')?;
    let (pid, port) = (pid.trim(), port.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(port) {
        return None;
    }
    let pid: i32 = pid.parse().ok()?;
    let port: u16 = port.parse().ok()?;
    (pid > 0 && port > 0).then_some((pid, port))
}
