//! Known-bad `daemon_check`: the widespread recipe, with its two flaws. It asks `kill -0 PID`,
//! whose failure means EPERM (not ours) as much as ESRCH (no such process), and it takes a
//! successful connect as proof that the port is the daemon's. The grader must answer
//! `DaemonEpermMeansAlive` (and, elsewhere, `DaemonConnectProvesNothing`).
//!
//! selftest: daemon_check rejects with DaemonEpermMeansAlive

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

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
                let alive = Command::new("kill")
                    .args(["-0", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                if !alive {
                    "not running: no such process".to_string()
                } else if let Ok(probe) = TcpStream::connect_timeout(&addr, Duration::from_secs(1))
                {
                    let _ = probe.shutdown(Shutdown::Both);
                    format!("running {pid} {port}")
                } else {
                    "not running: not listening".to_string()
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
