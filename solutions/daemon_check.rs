//! # `daemon_check`: is the daemon running?
//!
//! A daemon writes `PID;PORT` to a pid file. This program finds out whether that daemon really
//! runs: the process exists, something accepts connections on the port, and the socket listening
//! on the port belongs to that very process (a pid file can outlive its daemon, and the pid or
//! the port can be taken by someone else since).
//!
//! Read chapter 7, "Daemons and liveness", before you start; each `TODO` names the section that
//! helps.
//!
//! Grade it with `cargo test -p grader -- daemon_check`; try it by hand against the chapter's
//! daemon: `cargo run -p support --bin daemon -- --pidfile /tmp/d.pid`, then
//! `cargo run -p exercises --bin daemon_check -- /tmp/d.pid`.
//!
//! An `#[allow(...)]` line in front of a stub or an import only keeps the compiler quiet about
//! what the unfinished program does not use yet: delete it when you are done.
//!
//! ## The contract
//!
//! The grader checks exactly this, and nothing else: you may rewrite the whole file as long as
//! the program keeps it.
//!
// ANCHOR: contract
// `daemon_check PIDFILE`: PIDFILE holds `PID;PORT` (a trailing newline, `\r\n` or spaces are
// fine; anything else is malformed: PID is a positive pid, PORT is 1 to 65535). Print
// `running PID PORT` on standard output and exit 0 when the process exists, something accepts a
// TCP connection on 127.0.0.1:PORT, and the socket listening on PORT belongs to that process.
// Otherwise print `not running: REASON` and exit 1, where REASON is exactly one of `no pid file`,
// `malformed pid file`, `no such process`, `not listening`, `port held by another process`.
//
// The check connects and closes its connection cleanly (the daemon reads an end of stream, not a
// reset), sends nothing, waits for nothing from the daemon, and takes no more than 2 s in all: a
// connection not made by then counts as `not listening`. Wrong usage (no PIDFILE, or more than
// one argument) prints a usage line on standard error and exits 2. When the check itself fails
// (e.g. /proc/PID/fd cannot be read, so nothing proves who holds the port), it prints no verdict:
// it says why in one line on standard error and exits 1, never panics.
// ANCHOR_END: contract

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

const USAGE: &str = "usage: daemon_check PIDFILE";
/// The whole check may take this long, however the daemon behaves.
const BUDGET: Duration = Duration::from_secs(2);

/// What the check found out.
enum Verdict {
    Running { pid: i32, port: u16 },
    NotRunning(&'static str),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pidfile] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match check(Path::new(pidfile), Instant::now() + BUDGET) {
        Ok(Verdict::Running { pid, port }) => {
            println!("running {pid} {port}");
            ExitCode::SUCCESS
        }
        Ok(Verdict::NotRunning(reason)) => {
            println!("not running: {reason}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("daemon_check: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The steps, cheapest first: the file, the process, the port, and who holds the port.
fn check(pidfile: &Path, deadline: Instant) -> Result<Verdict> {
    let Some(text) = read_pid_file(pidfile)? else {
        return Ok(Verdict::NotRunning("no pid file"));
    };
    let Some((pid, port)) = std::str::from_utf8(&text).ok().and_then(parse_pid_file) else {
        return Ok(Verdict::NotRunning("malformed pid file"));
    };
    if !process_exists(pid)? {
        return Ok(Verdict::NotRunning("no such process"));
    }
    if !accepts(port, deadline) {
        return Ok(Verdict::NotRunning("not listening"));
    }
    if !holds_listener(pid, port)? {
        return Ok(Verdict::NotRunning("port held by another process"));
    }
    Ok(Verdict::Running { pid, port })
}

// ANCHOR: read_pid_file
/// The pid file's bytes, or `None` when there is no such file.
fn read_pid_file(pidfile: &Path) -> Result<Option<Vec<u8>>> {
    // "No such file" is a verdict (the daemon is not running, or never was); any other error
    // (a folder, no permission) is a failure of the check itself.
    match std::fs::read(pidfile) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", pidfile.display())),
    }
}
// ANCHOR_END: read_pid_file

// ANCHOR: parse
/// `PID;PORT` -> `(pid, port)`, or `None` when the file is malformed.
fn parse_pid_file(text: &str) -> Option<(i32, u16)> {
    // `trim` drops the trailing newline (`\n` or `\r\n`) and spaces. `parse` alone would accept
    // a leading `+`, which no program writes: digits only.
    let (pid, port) = text.trim().split_once(';')?;
    let (pid, port) = (pid.trim(), port.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(port) {
        return None;
    }
    // Too big for a pid_t (i32) or a port (u16) fails to parse: malformed too.
    let pid: i32 = pid.parse().ok()?;
    let port: u16 = port.parse().ok()?;
    (pid > 0 && port > 0).then_some((pid, port))
}
// ANCHOR_END: parse

// ANCHOR: process_exists
/// Whether process `pid` exists.
fn process_exists(pid: i32) -> Result<bool> {
    // Signal 0 sends nothing, but the kernel does every check of a real kill. ESRCH: no such
    // process. EPERM: the process exists, we just may not signal it (it is another user's).
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot check process {pid}")),
    }
}
// ANCHOR_END: process_exists

// ANCHOR: accepts
/// Whether something accepts a TCP connection on 127.0.0.1:`port` before `deadline`.
fn accepts(port: u16, deadline: Instant) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let left = deadline.saturating_duration_since(Instant::now());
    // `connect_timeout`: a listener whose backlog is full may never finish the handshake.
    match TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1))) {
        Ok(probe) => {
            // We send nothing and read nothing: a daemon that never answers cannot hold us.
            // `shutdown` sends our FIN at once, and dropping the stream closes it; with nothing
            // unread in our receive buffer the close is orderly, never a reset.
            let _ = probe.shutdown(Shutdown::Both);
            true
        }
        Err(_) => false,
    }
}
// ANCHOR_END: accepts

// ANCHOR: holds_listener
/// Whether the socket listening on `port` is one of `pid`'s descriptors.
fn holds_listener(pid: i32, port: u16) -> Result<bool> {
    // /proc/net/tcp and tcp6 list every TCP socket, one per line: field 1 is the local address
    // (`0100007F:1F90`: the port is the hex after the colon), field 3 the state (`0A` is LISTEN),
    // field 9 the socket's inode.
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text =
            std::fs::read_to_string(table).with_context(|| format!("cannot read {table}"))?;
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || fields[3] != "0A" {
                continue;
            }
            let local_port = fields[1]
                .rsplit_once(':')
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port) {
                inodes.push(format!("socket:[{}]", fields[9]));
            }
        }
    }
    // Each /proc/PID/fd/N is a link to what descriptor N is open on: `socket:[INODE]` for a
    // socket. A descriptor closed while we read the folder has no link any more: skip it.
    let folder = format!("/proc/{pid}/fd");
    let entries = std::fs::read_dir(&folder).with_context(|| format!("cannot read {folder}"))?;
    for entry in entries.flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if inodes.iter().any(|i| target.as_os_str() == i.as_str()) {
            return Ok(true);
        }
    }
    Ok(false)
}
// ANCHOR_END: holds_listener
