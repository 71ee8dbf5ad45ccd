//! A `daemon_check` with switches: each known-bad `daemon_*` program that includes it turns on one
//! classic mistake. With every switch off it keeps the contract. Not a program itself (a folder
//! without `main.rs`); the programs include it with `mod daemon_parts;`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The mistakes, one per switch.
#[derive(Default)]
pub struct Mistakes {
    /// Parses with `split(';')` and `parse`: takes a third field, a negative pid, port 0.
    pub lax_parse: bool,
    /// Connects to the port before it asks about the process: a dead daemon whose port is free
    /// is `not listening`.
    pub port_before_process: bool,
    /// Never connects: a live process and its LISTEN socket in /proc are taken as proof.
    pub never_connects: bool,
    /// `TcpStream::connect`, with no time limit.
    pub blocking_connect: bool,
    /// Closes the probe with SO_LINGER 0 "to leave no TIME-WAIT behind": a reset.
    pub linger_reset: bool,
    /// When /proc/PID/fd cannot be read, the port is "held by another process".
    pub guesses_owner: bool,
    /// A live process is a running daemon: it never connects.
    pub kill_only: bool,
    /// Reads any failure of `kill(pid, 0)` as "no such process", as `kill -0 PID` in a shell.
    pub eperm_is_dead: bool,
    /// A connection accepted on the port proves the daemon: /proc is never asked who holds it.
    pub trusts_port: bool,
    /// After printing, waits for the daemon to say something or close, the probe still open.
    pub keeps_probe: bool,
    /// Asks the daemon on the probe (`status`), but never reads the answer.
    pub sends_status: bool,
}

const BUDGET: Duration = Duration::from_secs(2);

// kill(2) from the C library, which std links anyway: no crate needed for one call.
unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

pub fn main(m: Mistakes) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pidfile] = args.as_slice() else {
        eprintln!("usage: daemon_check PIDFILE");
        return ExitCode::from(2);
    };
    let mut probe = None;
    let code = match check(pidfile, &m, Instant::now() + BUDGET, &mut probe) {
        Ok(Ok((pid, port))) => {
            println!("running {pid} {port}");
            ExitCode::SUCCESS
        }
        Ok(Err(reason)) => {
            println!("not running: {reason}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("daemon_check: {e}");
            ExitCode::FAILURE
        }
    };
    if let Some(mut probe) = probe.filter(|_| m.keeps_probe) {
        let _ = io::stdout().flush();
        let _ = probe.read(&mut [0u8; 64]);
    }
    code
}

type Verdict = Result<(i32, u16), &'static str>;

fn check(
    pidfile: &str,
    m: &Mistakes,
    deadline: Instant,
    probe: &mut Option<TcpStream>,
) -> io::Result<Verdict> {
    let text = match std::fs::read_to_string(pidfile) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Err("no pid file")),
        Err(e) => return Err(e),
    };
    let Some((pid, port)) = parse(&text, m) else {
        return Ok(Err("malformed pid file"));
    };
    let connects = !m.never_connects && !m.kill_only;
    if m.port_before_process && connects {
        *probe = accepts(port, m, deadline);
        if probe.is_none() {
            return Ok(Err("not listening"));
        }
    }
    if !exists(pid, m)? {
        return Ok(Err("no such process"));
    }
    if m.kill_only {
        return Ok(Ok((pid, port)));
    }
    if !m.port_before_process && connects {
        *probe = accepts(port, m, deadline);
        if probe.is_none() {
            return Ok(Err("not listening"));
        }
    }
    if m.trusts_port {
        return Ok(Ok((pid, port)));
    }
    let inodes = listening(port)?;
    if m.never_connects && inodes.is_empty() {
        return Ok(Err("not listening"));
    }
    match holds(pid, &inodes) {
        Ok(true) => Ok(Ok((pid, port))),
        Ok(false) => Ok(Err("port held by another process")),
        Err(_) if m.guesses_owner => Ok(Err("port held by another process")),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot read /proc/{pid}/fd: {e}"),
        )),
    }
}

fn parse(text: &str, m: &Mistakes) -> Option<(i32, u16)> {
    if m.lax_parse {
        let mut parts = text.trim().split(';');
        let pid = parts.next()?.trim().parse().ok()?;
        let port = parts.next()?.trim().parse().ok()?;
        return Some((pid, port));
    }
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

fn exists(pid: i32, m: &Mistakes) -> io::Result<bool> {
    // SAFETY: signal 0 sends nothing.
    if unsafe { kill(pid, 0) } == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(1) => Ok(!m.eperm_is_dead), // EPERM: exists, not ours
        Some(3) => Ok(false),            // ESRCH
        _ => Err(e),
    }
}

/// The probe, still open when `keeps_probe`; closed in order (or reset) otherwise.
fn accepts(port: u16, m: &Mistakes, deadline: Instant) -> Option<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let left = deadline.saturating_duration_since(Instant::now());
    let probe = if m.blocking_connect {
        TcpStream::connect(addr)
    } else {
        TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1)))
    }
    .ok()?;
    if m.sends_status {
        let _ = (&probe).write_all(b"status\n");
    }
    if m.linger_reset {
        let _ = socket2::SockRef::from(&probe).set_linger(Some(Duration::ZERO));
    } else if !m.keeps_probe {
        let _ = probe.shutdown(Shutdown::Both);
    }
    Some(probe)
}

fn listening(port: u16) -> io::Result<Vec<String>> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table)?.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local = f[1]
                .rsplit_once(':')
                .map(|(_, p)| u16::from_str_radix(p, 16));
            if f[3] == "0A" && matches!(local, Some(Ok(p)) if p == port) {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    Ok(inodes)
}

fn holds(pid: i32, inodes: &[String]) -> io::Result<bool> {
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))?.flatten() {
        if let Ok(target) = std::fs::read_link(entry.path())
            && inodes.iter().any(|i| target.as_os_str() == i.as_str())
        {
            return Ok(true);
        }
    }
    Ok(false)
}
