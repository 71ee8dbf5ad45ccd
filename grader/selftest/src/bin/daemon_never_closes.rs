//! Known-bad `daemon_check`: every verdict right, but it keeps its probe connection: after printing
//! it waits for the daemon to say something (or close) before it ends. A daemon that never
//! answers holds it forever. The grader must answer `DaemonProbeLeftOpen`.
//!
//! selftest: daemon_check rejects with DaemonProbeLeftOpen

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

static PROBE: OnceLock<TcpStream> = OnceLock::new();

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
            linger(port);
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

/// Waits for the daemon to say something or close, with the probe still open.
fn linger(_port: u16) {
    let _ = std::io::stdout().flush();
    if let Some(mut probe) = PROBE.get() {
        let mut buf = [0u8; 64];
        let _ = probe.read(&mut buf);
    }
}

/// The steps, cheapest first: the file, the process, the port, and who holds the port.
fn check(pidfile: &Path, deadline: Instant) -> Result<Verdict> {
    let text = match std::fs::read(pidfile) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Verdict::NotRunning("no pid file"));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", pidfile.display())),
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

/// Whether process `pid` exists: /proc/PID is there whoever owns the process.
fn process_exists(pid: i32) -> Result<bool> {
    Ok(std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Whether something accepts a TCP connection on 127.0.0.1:`port` before `deadline`.
fn accepts(port: u16, deadline: Instant) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let left = deadline.saturating_duration_since(Instant::now());
    // `connect_timeout`: a listener whose backlog is full may never finish the handshake.
    match TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1))) {
        Ok(probe) => {
            // The mistake: the probe is kept for "later".
            let _ = PROBE.set(probe);
            true
        }
        Err(_) => false,
    }
}

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
