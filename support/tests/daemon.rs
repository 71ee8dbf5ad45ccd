//! The `daemon` program, run as a child process: the atomic pid file, the refusal to start twice,
//! the clean removal on SIGTERM, and a `--detach` that leaves no zombie and no terminal.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::daemon::{self, parse_pid_file};

const DEADLINE: Duration = Duration::from_secs(10);
const DAEMON: &str = env!("CARGO_BIN_EXE_daemon");

/// A folder of its own under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "socklab-daemon-{name}-{}-{}",
            std::process::id(),
            fastrand_suffix()
        ));
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A daemon in the foreground, killed and reaped when dropped, even when a test fails.
struct Foreground {
    pid: Pid,
    exited: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    port: u16,
}

impl Foreground {
    /// Starts `daemon --pidfile FILE` and waits for its `listening on` line.
    fn start(pidfile: &Path) -> Foreground {
        let mut child: Child = Command::new(DAEMON)
            .arg("--pidfile")
            .arg(pidfile)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        let stdout = child.stdout.take().unwrap();
        let (tx, exited) = mpsc::channel();
        thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        let (line_tx, line_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let mut daemon = Foreground {
            pid,
            exited,
            status: None,
            port: 0,
        };
        let line = line_rx
            .recv_timeout(DEADLINE)
            .expect("a first line in time");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("not an announcement: {line:?}"));
        daemon.port = addr.rsplit(':').next().unwrap().parse().unwrap();
        daemon
    }

    fn wait(&mut self) -> ExitStatus {
        if self.status.is_none() {
            self.status = Some(self.exited.recv_timeout(DEADLINE).expect("exits in time"));
        }
        self.status.unwrap()
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        if self.status.is_none() && self.exited.try_recv().is_err() {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = self.exited.recv_timeout(DEADLINE);
        }
    }
}

/// A detached daemon (not our child: we cannot reap it, its new parent does), killed when dropped.
struct Detached(Pid);

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGKILL);
    }
}

/// Runs the daemon program to its end (`--detach` returns once the daemon runs; a refusal at
/// once); killed if it is not done by the deadline, and the test then fails on its status.
fn run_to_end(args: &[&str], pidfile: &Path) -> Output {
    assert_cmd::Command::new(DAEMON)
        .args(args)
        .arg("--pidfile")
        .arg(pidfile)
        .timeout(DEADLINE)
        .output()
        .unwrap()
}

/// A connection held open to the daemon: when the process ends, the kernel closes the daemon's
/// side, and reading it returns 0 (or a reset). Waiting for that is waiting for the exit of a
/// process that is not our child.
fn watch_exit(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream
}

fn wait_gone(mut watch: TcpStream) {
    let mut buf = [0u8; 64];
    match watch.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the daemon should have ended, read returned {other:?}"),
    }
}

#[test]
fn writes_pid_and_port_and_answers_status() {
    let dir = TempDir::new("status");
    let pidfile = dir.0.join("daemon.pid");
    let daemon = Foreground::start(&pidfile);
    let text = fs::read_to_string(&pidfile).unwrap();
    assert_eq!(text, format!("{};{}\n", daemon.pid, daemon.port));
    // No temporary file is left next to it.
    let names: Vec<_> = fs::read_dir(&dir.0).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let mut stream = TcpStream::connect(("127.0.0.1", daemon.port)).unwrap();
    stream.write_all(b"status\n").unwrap();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).unwrap();
    assert_eq!(reply, format!("running {} {}\n", daemon.pid, daemon.port));
    assert_eq!(
        daemon::check(&pidfile, Duration::from_secs(2)).unwrap(),
        daemon::Verdict::Running {
            pid: daemon.pid.as_raw(),
            port: daemon.port
        }
    );
}

/// A reader that opens the file again and again while it is rewritten never sees it empty or
/// half written: the new content arrives by rename, in one step.
#[test]
fn the_pid_file_is_replaced_atomically() {
    let dir = TempDir::new("atomic");
    let pidfile = dir.0.join("daemon.pid");
    daemon::write_pid_file(&pidfile, 1, 1).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (pidfile, stop) = (pidfile.clone(), Arc::clone(&stop));
        thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let text = fs::read_to_string(&pidfile).unwrap();
                assert!(parse_pid_file(&text).is_some(), "read {text:?}");
                reads += 1;
            }
            reads
        })
    };
    for i in 1..=2000 {
        daemon::write_pid_file(&pidfile, 100_000 + i, 10_000 + i as u16).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("the reader saw only whole files");
    assert!(reads > 0);
    assert_eq!(fs::read_to_string(&pidfile).unwrap(), "102000;12000\n");
}

#[test]
fn refuses_to_start_while_the_daemon_runs() {
    let dir = TempDir::new("twice");
    let pidfile = dir.0.join("daemon.pid");
    let first = Foreground::start(&pidfile);
    let before = fs::read_to_string(&pidfile).unwrap();
    let second = run_to_end(&[], &pidfile);
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("is running"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(fs::read_to_string(&pidfile).unwrap(), before);
    drop(first);
}

#[test]
fn refuses_to_start_when_it_cannot_tell() {
    // A pid file that cannot be read (here: a directory stands where it should be). A daemon
    // might be running behind it; starting would overwrite its file, so the program refuses.
    let dir = TempDir::new("unreadable");
    let pidfile = dir.0.join("daemon.pid");
    fs::create_dir(&pidfile).unwrap();
    let out = run_to_end(&[], &pidfile);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot tell"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(pidfile.is_dir(), "the path was left as it was");
}

#[test]
fn replaces_a_stale_pid_file() {
    let dir = TempDir::new("stale");
    let pidfile = dir.0.join("daemon.pid");
    // A pid file left by a daemon that was killed: its process is gone.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id() as i32;
    gone.wait().unwrap();
    daemon::write_pid_file(&pidfile, dead, 9).unwrap();
    let daemon = Foreground::start(&pidfile);
    let text = fs::read_to_string(&pidfile).unwrap();
    assert_eq!(text, format!("{};{}\n", daemon.pid, daemon.port));
}

#[test]
fn removes_the_pid_file_on_sigterm() {
    let dir = TempDir::new("sigterm");
    let pidfile = dir.0.join("daemon.pid");
    let mut daemon = Foreground::start(&pidfile);
    assert!(pidfile.exists());
    kill(daemon.pid, Signal::SIGTERM).unwrap();
    assert_eq!(daemon.wait().code(), Some(0));
    assert!(!pidfile.exists(), "the pid file is still there");
}

#[test]
fn detaches_with_no_terminal_and_no_zombie() {
    let dir = TempDir::new("detach");
    let pidfile = dir.0.join("daemon.pid");
    let launcher = run_to_end(&["--detach"], &pidfile);
    assert_eq!(
        launcher.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&launcher.stderr)
    );
    // The launcher returns once the pid file is written.
    let (pid, port) = parse_pid_file(&fs::read_to_string(&pidfile).unwrap()).unwrap();
    let _guard = Detached(Pid::from_raw(pid));
    assert_eq!(
        String::from_utf8_lossy(&launcher.stdout),
        format!("started daemon {pid}\n")
    );
    let watch = watch_exit(port);

    // /proc/PID/stat: "pid (comm) state ppid pgrp session tty_nr ..."
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let (state, ppid, session, tty) = (fields[0], fields[1], fields[3], fields[4]);
    assert_ne!(state, "Z");
    assert_eq!(tty, "0", "a controlling terminal");
    assert_ne!(ppid, std::process::id().to_string());
    // Not a session leader (the second fork), so it can never acquire a terminal again.
    assert_ne!(session, pid.to_string());
    // The session leader was the first child: the launcher reaped it, so it is gone, not a zombie.
    assert!(
        !Path::new(&format!("/proc/{session}")).exists(),
        "the first child is still there: {:?}",
        fs::read_to_string(format!("/proc/{session}/stat"))
    );
    for fd in 0..=2 {
        let target = fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(target, Path::new("/dev/null"), "fd {fd}");
    }
    assert_eq!(
        fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        Path::new("/")
    );

    kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    let started = Instant::now();
    wait_gone(watch);
    assert!(started.elapsed() < DEADLINE);
    assert!(!pidfile.exists(), "the detached daemon left its pid file");
}

#[test]
fn reports_errors_in_one_line() {
    let dir = TempDir::new("errors");
    let pidfile = dir.0.join("no such folder").join("daemon.pid");
    for args in [&[][..], &["--detach"][..]] {
        let out = run_to_end(args, &pidfile);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Whether this test runs as root (effective uid 0, from the `Uid:` line of /proc/self/status).
fn am_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap_or(false)
}

/// `sleep` running as user nobody, killed and reaped when dropped.
struct Nobody(Child);

impl Nobody {
    /// Starts it and waits until it really runs as nobody (setpriv changes user, then runs
    /// sleep in the same process). The kernel has no event for that, so this looks again
    /// every few milliseconds, until the deadline.
    fn start() -> Nobody {
        let child = Command::new("/usr/bin/setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .args(["sleep", "60"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let nobody = Nobody(child);
        let status = format!("/proc/{}/status", nobody.0.id());
        let deadline = Instant::now() + DEADLINE;
        loop {
            let text = fs::read_to_string(&status).unwrap_or_default();
            if text.lines().any(|l| l.starts_with("Uid:\t65534\t")) {
                return nobody;
            }
            assert!(Instant::now() < deadline, "setpriv never became nobody");
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Nobody {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process of another user exists (`kill(pid, 0)` may say EPERM) and does not hold our
/// listener: the same verdict whoever runs the check. Not as root, PID 1 is another user's
/// process, and its descriptors cannot even be read; root may read every process's, so as root
/// the other user's process is a `sleep` started as nobody.
#[test]
fn a_process_of_another_user_does_not_hold_our_listener() {
    let dir = TempDir::new("other-user");
    let pidfile = dir.0.join("daemon.pid");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_nobody, pid) = if !am_root() {
        (None, 1)
    } else if Path::new("/usr/bin/setpriv").exists() {
        let nobody = Nobody::start();
        let pid = nobody.0.id() as i32;
        (Some(nobody), pid)
    } else {
        println!("skipped: running as root, and there is no setpriv to run a process as nobody");
        return;
    };
    daemon::write_pid_file(&pidfile, pid, port).unwrap();
    assert_eq!(
        daemon::check(&pidfile, Duration::from_secs(2)).unwrap(),
        daemon::Verdict::PortHeldByAnother
    );
}
