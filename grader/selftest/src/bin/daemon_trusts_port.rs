//! Known-bad `daemon_check`: it trusts the pid file's port. It tells a live process by /proc/PID
//! (right, EPERM or not), but takes a successful connect as proof that the socket on the port is
//! the daemon's, without looking in /proc/PID/fd. The grader must answer
//! `DaemonConnectProvesNothing`.
//!
//! selftest: daemon_check rejects with DaemonConnectProvesNothing

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::ExitCode;
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
                let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
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
