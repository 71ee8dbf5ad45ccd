//! Is process PID alive? `kill(pid, 0)` sends no signal, but the kernel does every check that a
//! real `kill` does, and its error says what it found.
//!
//! Run: `cargo run -q -p book --example ch07_alive -- PID...`

use std::process::ExitCode;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

// ANCHOR: probe
/// What `kill(pid, 0)` says about process `pid`, in words.
fn probe(pid: i32) -> String {
    // `None` is signal 0: no signal is sent, only the checks are made.
    match kill(Pid::from_raw(pid), None) {
        Ok(()) => "exists, and we may signal it".to_string(),
        // The process exists, but it is another user's: we may not signal it.
        Err(Errno::EPERM) => "EPERM: exists, but is not ours to signal".to_string(),
        // No process has this pid (any more).
        Err(Errno::ESRCH) => "ESRCH: no such process".to_string(),
        Err(other) => format!("{other}: cannot tell"),
    }
}
// ANCHOR_END: probe

fn main() -> ExitCode {
    let pids: Vec<String> = std::env::args().skip(1).collect();
    if pids.is_empty() {
        eprintln!("usage: ch07_alive PID...");
        return ExitCode::from(2);
    }
    for arg in pids {
        // A pid is positive: 0 and -1 mean "my process group" and "every process" to kill(2).
        match arg.parse::<i32>() {
            Ok(pid) if pid > 0 => println!("kill({pid}, 0): {}", probe(pid)),
            _ => println!("{arg:?} is not a pid"),
        }
    }
    ExitCode::SUCCESS
}
