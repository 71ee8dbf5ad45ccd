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

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;

// The tools for the TODOs.
#[allow(unused_imports)]
use {
    anyhow::Context,
    nix::{errno::Errno, sys::signal::kill, unistd::Pid},
    std::net::{Shutdown, SocketAddr, TcpStream},
};

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
#[allow(unused_variables)]
fn read_pid_file(pidfile: &Path) -> Result<Option<Vec<u8>>> {
    // TODO: Read the whole file; `Ok(None)` when it does not exist (io::ErrorKind::NotFound), an
    // error with context for anything else. Chapter 7, section "The pid file".
    todo!("read the pid file")
}
// ANCHOR_END: read_pid_file

// ANCHOR: parse
/// `PID;PORT` -> `(pid, port)`, or `None` when the file is malformed.
#[allow(unused_variables)]
fn parse_pid_file(text: &str) -> Option<(i32, u16)> {
    // TODO: Split `PID;PORT` (after trimming the newline and spaces), accept digits only, and
    // return `None` for anything else: a pid that is not positive or not an i32, a port that is
    // 0 or above 65535. Chapter 7, section "The pid file".
    todo!("parse PID;PORT")
}
// ANCHOR_END: parse

// ANCHOR: process_exists
/// Whether process `pid` exists.
#[allow(unused_variables)]
fn process_exists(pid: i32) -> Result<bool> {
    // TODO: Ask `kill(pid, None)` (signal 0) and tell ESRCH ("no such process") from EPERM (it
    // exists, but is not ours). Chapter 7, section "kill(pid, 0)".
    todo!("does process PID exist?")
}
// ANCHOR_END: process_exists

// ANCHOR: accepts
/// Whether something accepts a TCP connection on 127.0.0.1:`port` before `deadline`.
#[allow(unused_variables)]
fn accepts(port: u16, deadline: Instant) -> bool {
    // TODO: Connect to 127.0.0.1:PORT with `TcpStream::connect_timeout` (never past `deadline`),
    // send nothing, wait for nothing, and close the connection cleanly. Chapter 7, section
    // "Connecting to check".
    todo!("connect to the port and close")
}
// ANCHOR_END: accepts

// ANCHOR: holds_listener
/// Whether the socket listening on `port` is one of `pid`'s descriptors.
#[allow(unused_variables)]
fn holds_listener(pid: i32, port: u16) -> Result<bool> {
    // TODO: Find the inodes of the sockets in state LISTEN on PORT in /proc/net/tcp and tcp6,
    // then look for `socket:[INODE]` among the links in /proc/PID/fd. Chapter 7, section "Who
    // holds the port".
    todo!("find the listening socket among the process's descriptors")
}
// ANCHOR_END: holds_listener
