//! Runs chapter 7's listings: `kill(pid, 0)` tells ESRCH from EPERM, the lock lets one instance
//! start and no other (not even when several start at once), and the owner of a listening port is
//! found through /proc. No fixed port, no sleep: every wait is on a line or an exit, with a
//! deadline, and every child is killed and reaped when its guard goes.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// How long any one step may take before the test fails instead of hanging.
#[path = "parts/deadline.rs"]
mod deadline;

const DEADLINE: Duration = Duration::from_secs(20);

/// The path of a built example. `cargo test -p book` builds the examples before running tests.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from TARGET/PROFILE/deps")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test -p book`, which builds the examples first",
        path.display()
    );
    path
}

/// A child whose standard output is read line by line by a thread, killed and reaped when the
/// guard goes, even when a check fails.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(program: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            stdin,
            lines,
        }
    }

    /// The next line, or `None` when the program closed its output (or the deadline).
    fn line(&self) -> Option<String> {
        self.lines.recv_timeout(DEADLINE).ok()
    }

    /// Closes its standard input (the listing's Ctrl-D), then waits for its end.
    fn finish(&mut self) -> ExitStatus {
        drop(self.stdin.take());
        // The reading thread ends with the output, which ends with the program.
        while self.line().is_some() {}
        deadline::wait_or_kill(&mut self.child, DEADLINE, "the listing")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a listing to its end and returns its standard output and exit status.
fn run_to_end(program: &Path, args: &[&str]) -> (String, ExitStatus) {
    let mut running = Running::start(program, args);
    drop(running.stdin.take());
    let mut text = String::new();
    while let Some(line) = running.line() {
        text.push_str(&line);
        text.push('\n');
    }
    let status = deadline::wait_or_kill(&mut running.child, DEADLINE, "the listing");
    (text, status)
}

/// A folder of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("book-ch07-{what}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create a temporary folder");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> i32 {
    let mut child = Command::new("true").spawn().expect("start true");
    let pid = child.id() as i32;
    child.wait().expect("reap true");
    pid
}

fn am_root() -> bool {
    // /proc/self/status has `Uid: REAL EFFECTIVE ...`.
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap_or(false)
}

#[test]
fn kill_0_tells_esrch_from_eperm() {
    let me = std::process::id();
    let dead = dead_pid();
    let alive = example("ch07_alive");
    let (text, status) = run_to_end(&alive, &[&me.to_string(), &dead.to_string()]);
    assert!(status.success(), "{status}\n{text}");
    assert!(
        text.contains(&format!("kill({me}, 0): exists, and we may signal it")),
        "{text}"
    );
    assert!(
        text.contains(&format!("kill({dead}, 0): ESRCH: no such process")),
        "{text}"
    );

    // PID 1 is another user's process, unless we are root: then ask as user nobody.
    let eperm = "kill(1, 0): EPERM: exists, but is not ours to signal";
    let text = if !am_root() {
        run_to_end(&alive, &["1"]).0
    } else if Path::new("/usr/bin/setpriv").exists() {
        let program = alive.display().to_string();
        let args = [
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            &program,
            "1",
        ];
        run_to_end(Path::new("/usr/bin/setpriv"), &args).0
    } else {
        println!("skipped the EPERM case: running as root and there is no setpriv");
        return;
    };
    assert!(text.contains(eperm), "{text}");
}

#[test]
fn the_lock_lets_one_instance_start() {
    let dir = TempDir::new("single");
    let pidfile = dir.0.join("single.pid");
    let file = pidfile.display().to_string();
    let single = example("ch07_single");

    let mut first = Running::start(&single, &[&file]);
    let line = first
        .line()
        .expect("the first instance says where it listens");
    let port = line
        .strip_prefix("listening on 127.0.0.1:")
        .unwrap_or_else(|| panic!("not a `listening on` line: {line:?}"));
    // The pid file is complete once the line is printed.
    let written = fs::read_to_string(&pidfile).expect("the pid file exists");
    assert_eq!(written, format!("{};{port}\n", first.child.id()));

    let (text, status) = run_to_end(&single, &[&file]);
    assert_eq!(text, "another instance holds the lock: not starting\n");
    assert_eq!(status.code(), Some(1));

    assert!(first.finish().success());
    assert!(!pidfile.exists(), "the pid file is removed at the end");

    // Several at once: exactly one wins the lock, whoever it is.
    let many: Vec<Running> = (0..6).map(|_| Running::start(&single, &[&file])).collect();
    let firsts: Vec<String> = many
        .iter()
        .map(|r| r.line().expect("a first line"))
        .collect();
    let winners = firsts
        .iter()
        .filter(|l| l.starts_with("listening on "))
        .count();
    assert_eq!(winners, 1, "{firsts:#?}");
    for mut running in many {
        running.finish();
    }
    assert!(!pidfile.exists());
}

#[test]
fn the_owner_of_a_listening_port_is_found_in_proc() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on a free port");
    let port = listener.local_addr().unwrap().port();
    let (text, status) = run_to_end(&example("ch07_owner"), &[&port.to_string()]);
    assert!(status.success(), "{status}\n{text}");
    let me = std::process::id();
    assert!(text.contains(&format!("held by pid {me} (")), "{text}");

    // A port that is bound but not listening: no other program can take it meanwhile.
    let bound = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    bound
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind a free port");
    let port = bound.local_addr().unwrap().as_socket().unwrap().port();
    let (text, status) = run_to_end(&example("ch07_owner"), &[&port.to_string()]);
    assert_eq!(text, format!("nothing listens on port {port}\n"));
    assert_eq!(status.code(), Some(1));
}
