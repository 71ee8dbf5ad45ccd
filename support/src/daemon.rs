//! Daemons and liveness: the `PID;PORT` pid file, checking that "the daemon" runs, and the
//! daemon itself (chapter 7).
//!
//! The widespread recipe reads the pid file, asks `kill(pid, 0)` whether the process exists, and
//! connects to the port. [`check`] does that, reads `EPERM` as "exists, but not ours" (not as "no
//! such process"), and then proves that the socket listening on the port belongs to that very
//! process: a successful connect proves only that *something* listens there.
//!
//! The pid file is written atomically ([`write_pid_file`]): a reader sees the old file or the
//! new one, never half of one.

use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;
use socket2::{Domain, Protocol, Socket, Type};

use crate::proc_net::{self, TcpEntry};

/// What a check found out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Running { pid: i32, port: u16 },
    NoPidFile,
    MalformedPidFile,
    NoSuchProcess,
    NotListening,
    PortHeldByAnother,
}

impl fmt::Display for Verdict {
    /// The line `daemon_check` prints: `running PID PORT` or `not running: REASON`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = match self {
            Verdict::Running { pid, port } => return write!(f, "running {pid} {port}"),
            Verdict::NoPidFile => "no pid file",
            Verdict::MalformedPidFile => "malformed pid file",
            Verdict::NoSuchProcess => "no such process",
            Verdict::NotListening => "not listening",
            Verdict::PortHeldByAnother => "port held by another process",
        };
        write!(f, "not running: {reason}")
    }
}

/// `PID;PORT`, with spaces around either and a trailing newline (`\n` or `\r\n`) allowed. The pid
/// must be a positive `pid_t` and the port 1 to 65535; anything else is malformed.
pub fn parse_pid_file(text: &str) -> Option<(i32, u16)> {
    let (pid, port) = text.trim().split_once(';')?;
    // `parse` alone would take a leading `+`; a pid file written by a program never has one.
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (pid, port) = (pid.trim(), port.trim());
    if !digits(pid) || !digits(port) {
        return None;
    }
    let pid: i32 = pid.parse().ok()?;
    let port: u16 = port.parse().ok()?;
    (pid > 0 && port > 0).then_some((pid, port))
}

/// Writes `PID;PORT\n` to `path` atomically: into a temporary file in the same folder, flushed to
/// disk, then renamed over `path`. `rename(2)` replaces the name in one step, so a reader opens
/// either the old file or the complete new one, never an empty or half-written one.
pub fn write_pid_file(path: &Path, pid: i32, port: u16) -> io::Result<()> {
    let temporary = temporary_name(path);
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(format!("{pid};{port}\n").as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// `FILE.tmp.PID`: in the same folder (a rename cannot cross file systems), and one per process,
/// so two daemons starting at once never write into the same temporary file.
fn temporary_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

/// Removes the pid file if it still names `pid`: a daemon started after us may have replaced it,
/// and its file is not ours to remove.
pub fn remove_pid_file(path: &Path, pid: i32) -> io::Result<()> {
    match fs::read_to_string(path) {
        Ok(text) if parse_pid_file(&text).map(|(p, _)| p) == Some(pid) => fs::remove_file(path),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether process `pid` exists: `kill(pid, 0)` sends nothing but does every check. `ESRCH`: no
/// such process. `EPERM`: it exists, but we may not signal it (another user's), so it *exists*.
pub fn process_exists(pid: i32) -> io::Result<bool> {
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The inodes of the TCP sockets listening on `port`, IPv4 and IPv6, as `ss -tlnp` lists them.
pub fn listening_inodes(port: u16) -> io::Result<Vec<u64>> {
    Ok(listening_sockets(port)?.iter().map(|e| e.inode).collect())
}

/// The TCP sockets listening on `port`, IPv4 and IPv6, with their inodes and owners.
fn listening_sockets(port: u16) -> io::Result<Vec<TcpEntry>> {
    const LISTEN: u8 = 10;
    Ok(proc_net::tcp_sockets()?
        .into_iter()
        .filter(|e| e.state == LISTEN && e.local.port() == port)
        .collect())
}

/// The user ids process `pid` runs as (real, effective, saved, file system): the `Uid:` line of
/// `/proc/PID/status`, which anyone may read.
fn process_uids(pid: i32) -> io::Result<Vec<u32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .map(|ids| {
            ids.split_whitespace()
                .filter_map(|id| id.parse().ok())
                .collect()
        })
        .ok_or_else(|| io::Error::other(format!("no Uid line in /proc/{pid}/status")))
}

/// Whether the socket listening on `port` is `pid`'s, the same answer for any user who asks.
///
/// Root may read any process's `/proc/PID/fd`; anyone else only their own processes'. When the
/// descriptors cannot be read, the owners still can: `/proc/net/tcp` says which user made each
/// socket, `/proc/PID/status` which users the process runs as. A listener made by a user the
/// process does not run as is another process's. (One case only the descriptors tell: a daemon
/// that binds as one user and then becomes another. Asked by a third user, the check takes its
/// socket for someone else's.) When the owners match, only the descriptors could tell, and the
/// check says it cannot.
fn holds_listener(pid: i32, port: u16) -> io::Result<bool> {
    let listeners = listening_sockets(port)?;
    let inodes: Vec<u64> = listeners.iter().map(|e| e.inode).collect();
    match holds_socket(pid, &inodes) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            let uids = process_uids(pid)?;
            if listeners.iter().all(|l| !uids.contains(&l.uid)) {
                Ok(false)
            } else {
                Err(io::Error::new(
                    e.kind(),
                    format!(
                        "cannot tell whether process {pid} holds port {port}: \
                         cannot read /proc/{pid}/fd ({e}), and its user made the listener"
                    ),
                ))
            }
        }
        answer => answer,
    }
}

/// Whether one of `pid`'s descriptors is one of these sockets: `/proc/PID/fd/N` is a link to
/// `socket:[INODE]`. Descriptors that close while we look are skipped.
pub fn holds_socket(pid: i32, inodes: &[u64]) -> io::Result<bool> {
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(target) = fs::read_link(entry?.path()) else {
            continue;
        };
        if wanted.iter().any(|w| target.as_os_str() == w.as_str()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The whole check, in `budget` at most: pid file, process, a connection (closed in order at
/// once), and the owner of the listening socket.
pub fn check(path: &Path, budget: Duration) -> io::Result<Verdict> {
    let deadline = Instant::now() + budget;
    let text = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Verdict::NoPidFile),
        Err(e) => return Err(e),
    };
    let Some((pid, port)) = std::str::from_utf8(&text).ok().and_then(parse_pid_file) else {
        return Ok(Verdict::MalformedPidFile);
    };
    if !process_exists(pid)? {
        return Ok(Verdict::NoSuchProcess);
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = deadline.saturating_duration_since(Instant::now());
    match TcpStream::connect_timeout(&addr, timeout.max(Duration::from_millis(1))) {
        // We send nothing and wait for nothing: a daemon that accepts and never answers cannot
        // hold us. Shutting down then dropping sends a FIN: the daemon reads an end of stream.
        Ok(probe) => {
            let _ = probe.shutdown(Shutdown::Both);
        }
        Err(_) => return Ok(Verdict::NotListening),
    }
    if holds_listener(pid, port)? {
        Ok(Verdict::Running { pid, port })
    } else {
        Ok(Verdict::PortHeldByAnother)
    }
}

/// A TCP socket bound to a free loopback port and *not* listening: connecting to the port is
/// refused, and no other program can take it while the socket lives. Tests use it for "alive
/// but not listening" without racing another program for a port they closed.
pub fn reserve_port() -> io::Result<(Socket, u16)> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    let port = socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("not an internet address"))?;
    Ok((socket, port))
}

/// How long a status connection may stay silent before the daemon closes it.
const IDLE: Duration = Duration::from_secs(5);

/// Serves the status protocol on `listener` forever, one thread per connection: a line `status`
/// gets `running PID PORT`, anything else `error: unknown command`; the connection stays open for
/// more. How each connection ended goes to standard error, so that one can see whether a checker
/// closed its probe in order (end of stream) or reset it.
pub fn serve(listener: TcpListener, pid: i32) -> io::Result<()> {
    let port = listener.local_addr()?.port();
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // A connection reset before we accepted it is the peer's business, not a failure.
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(e) => return Err(e),
        };
        thread::spawn(move || {
            let ending = answer(stream, pid, port);
            eprintln!("daemon: connection from {peer}: {ending}");
        });
    }
}

fn answer(stream: TcpStream, pid: i32, port: u16) -> String {
    if let Err(e) = stream.set_read_timeout(Some(IDLE)) {
        return format!("error: {e}");
    }
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(e) => return format!("error: {e}"),
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return "end of stream (closed in order)".into(),
            Ok(_) => {
                let reply = match line.trim() {
                    "status" => format!("running {pid} {port}\n"),
                    _ => "error: unknown command\n".into(),
                };
                if let Err(e) = writer.write_all(reply.as_bytes()) {
                    return format!("error: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return "reset by the peer".into();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return format!("silent for {} s: closed it", IDLE.as_secs());
            }
            Err(e) => return format!("error: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pid_files() {
        assert_eq!(parse_pid_file("42;8080"), Some((42, 8080)));
        assert_eq!(parse_pid_file("42;8080\n"), Some((42, 8080)));
        assert_eq!(parse_pid_file("42;8080\r\n"), Some((42, 8080)));
        assert_eq!(parse_pid_file(" 42 ; 8080  \n"), Some((42, 8080)));
        for bad in [
            "",
            "\n",
            "42",
            "42;",
            ";80",
            "x;80",
            "42;80;1",
            "-1;80",
            "0;80",
            "+42;80",
            "99999999999;80",
            "42;0",
            "42;65536",
            "42;80\n43;81",
            "4 2;80",
        ] {
            assert_eq!(parse_pid_file(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn verdicts_read_as_the_contract_says() {
        assert_eq!(
            Verdict::Running { pid: 7, port: 80 }.to_string(),
            "running 7 80"
        );
        assert_eq!(
            Verdict::PortHeldByAnother.to_string(),
            "not running: port held by another process"
        );
    }

    #[test]
    fn checks_this_process_and_its_listener() {
        let dir = std::env::temp_dir().join(format!("socklab-daemon-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pid");
        let budget = Duration::from_secs(2);
        assert_eq!(check(&file, budget).unwrap(), Verdict::NoPidFile);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = std::process::id() as i32;
        write_pid_file(&file, me, port).unwrap();
        assert_eq!(
            check(&file, budget).unwrap(),
            Verdict::Running { pid: me, port }
        );
        let (_reserved, free) = reserve_port().unwrap();
        write_pid_file(&file, me, free).unwrap();
        assert_eq!(check(&file, budget).unwrap(), Verdict::NotListening);
        // A process of our own that exists and does not hold our listener: its descriptors
        // can be read whoever runs the test (another user's are tested in tests/daemon.rs).
        let mut other = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let other_pid = other.id() as i32;
        write_pid_file(&file, other_pid, port).unwrap();
        let verdict = check(&file, budget);
        let _ = other.kill();
        let _ = other.wait();
        assert_eq!(verdict.unwrap(), Verdict::PortHeldByAnother);
        remove_pid_file(&file, other_pid).unwrap();
        assert!(!file.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
