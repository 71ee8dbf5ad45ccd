//! Checks for `daemon_check PIDFILE` (chapter 7).
//!
//! Every check writes a pid file into a folder of its own and sets up the world it describes:
//! a listener in this process (which the grader can watch: did the probe close in order?), the
//! `support` daemon as a child or detached, a live process that listens on nothing (`sleep`), a
//! pid that is dead (a child started and reaped), a port nobody may take (bound, not listening).
//! Then it runs the program and compares its one line with the verdict the world calls for.

use std::fs;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::daemon::reserve_port;

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, describe};
use crate::hint::{CH_DAEMONS, Hint};
use crate::manifest::Check;
use crate::program::{Ending, Input, Outcome, Run, Subject};
use crate::target;

pub const CHECKS: &[Check] = &[
    Check {
        name: "healthy_listener",
        run: healthy_listener,
    },
    Check {
        name: "accepts_and_never_answers",
        run: accepts_and_never_answers,
    },
    Check {
        name: "never_accepts",
        run: never_accepts,
    },
    Check {
        name: "support_daemon",
        run: support_daemon,
    },
    Check {
        name: "support_daemon_detached",
        run: support_daemon_detached,
    },
    Check {
        name: "no_pid_file",
        run: no_pid_file,
    },
    Check {
        name: "malformed_pid_files",
        run: malformed_pid_files,
    },
    Check {
        name: "dead_pid",
        run: dead_pid,
    },
    Check {
        name: "dead_pid_port_taken",
        run: dead_pid_port_taken,
    },
    Check {
        name: "alive_not_listening",
        run: alive_not_listening,
    },
    Check {
        name: "another_users_process",
        run: another_users_process,
    },
    Check {
        name: "pid_reused",
        run: pid_reused,
    },
    Check {
        name: "port_held_by_another_process",
        run: port_held_by_another_process,
    },
];

/// The contract's limit for the whole check.
const BUDGET: Duration = Duration::from_secs(2);
/// What a loaded machine may add to it to start the program: past this, the check took too long.
const SLACK: Duration = Duration::from_millis(1500);

/// A folder of its own under the system's temporary folder, removed when dropped. World-readable,
/// because one check runs the program as another user.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, Box<Failure>> {
        let path = std::env::temp_dir().join(format!(
            "socklab-daemon-check-{}-{}",
            std::process::id(),
            crate::words::token(8)
        ));
        fs::create_dir_all(&path).map_err(|e| setup(format!("cannot make {path:?}: {e}")))?;
        Ok(TempDir(path))
    }

    fn pidfile(&self, content: &str) -> Result<PathBuf, Box<Failure>> {
        let path = self.0.join("daemon.pid");
        fs::write(&path, content).map_err(|e| setup(format!("cannot write {path:?}: {e}")))?;
        Ok(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn setup(message: String) -> Box<Failure> {
    Failure::setup(CH_DAEMONS, message)
}

/// How a probe connection to a watched listener ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProbeEnd {
    Open,
    Orderly(Instant),
    Reset(Instant),
    SentData,
}

/// A listener in this process. With `accept`, every connection is accepted and read (never
/// answered) until it ends; without, connections wait in the backlog.
struct Watched {
    /// Held for its lifetime: the port stays this process's.
    _listener: Arc<TcpListener>,
    port: u16,
    conns: Arc<Conns>,
}

impl Watched {
    fn start(accept: bool) -> Result<Watched, Box<Failure>> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| setup(format!("cannot listen on 127.0.0.1:0: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| setup(e.to_string()))?
            .port();
        let listener = Arc::new(listener);
        let conns: Arc<Conns> = Arc::default();
        if accept {
            let (listener, conns) = (Arc::clone(&listener), Arc::clone(&conns));
            thread::spawn(move || accept_loop(&listener, &conns));
        }
        Ok(Watched {
            _listener: listener,
            port,
            conns,
        })
    }

    fn endings(&self) -> Vec<ProbeEnd> {
        self.conns.0.lock().unwrap().1.clone()
    }

    /// Waits until every accepted connection has ended (or the deadline).
    fn wait_ended(&self, deadline: Instant) -> Vec<ProbeEnd> {
        let (lock, changed) = &*self.conns;
        let mut state = lock.lock().unwrap();
        while state.1.contains(&ProbeEnd::Open) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = changed.wait_timeout(state, deadline - now).unwrap().0;
        }
        state.1.clone()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // Wake the accepting thread with a connection of our own, so that it sees the stop.
        self.conns.0.lock().unwrap().0 = true;
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

type Conns = (Mutex<(bool, Vec<ProbeEnd>)>, Condvar);

fn accept_loop(listener: &TcpListener, conns: &Arc<Conns>) {
    while let Ok((stream, _)) = listener.accept() {
        let mut state = conns.0.lock().unwrap();
        if state.0 {
            return;
        }
        let index = state.1.len();
        state.1.push(ProbeEnd::Open);
        drop(state);
        let conns = Arc::clone(conns);
        thread::spawn(move || {
            let ending = watch(stream);
            conns.0.lock().unwrap().1[index] = ending;
            conns.1.notify_all();
        });
    }
}

/// Reads (and never writes) until the peer ends the connection; the kernel ends it at the latest
/// when the program exits or is killed.
fn watch(mut stream: TcpStream) -> ProbeEnd {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = [0u8; 256];
    match stream.read(&mut buf) {
        Ok(0) => ProbeEnd::Orderly(Instant::now()),
        Ok(_) => ProbeEnd::SentData,
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => ProbeEnd::Reset(Instant::now()),
        Err(_) => ProbeEnd::Open,
    }
}

/// What the world calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    Running { pid: i32, port: u16 },
    Not(&'static str),
}

impl Expect {
    fn line(&self) -> String {
        match self {
            Expect::Running { pid, port } => format!("running {pid} {port}"),
            Expect::Not(reason) => format!("not running: {reason}"),
        }
    }

    fn status(&self) -> i32 {
        match self {
            Expect::Running { .. } => 0,
            Expect::Not(_) => 1,
        }
    }
}

fn run_check(subject: &Subject, pidfile: &Path) -> Result<Outcome, Box<Failure>> {
    let run = Run::start(
        subject,
        &[pidfile.display().to_string()],
        Input::Lines(vec![]),
    )
    .map_err(|e| setup(format!("could not start {}: {e}", subject.shown_as)))?;
    Ok(run.finish(Instant::now() + BUDGET + SLACK))
}

/// Compares the outcome with the verdict; `watched` adds how the probe connections ended.
fn judge(
    scenario: &str,
    outcome: &Outcome,
    expect: &Expect,
    pidfile_text: &str,
    watched: Option<&Watched>,
) -> Result<(), Box<Failure>> {
    let printed = outcome.stdout_lines();
    let right_line = printed == [expect.line()];
    let in_time = matches!(outcome.ending, Ending::Exited(_)) && outcome.elapsed <= BUDGET + SLACK;
    let endings = match watched {
        Some(w) if in_time => w.wait_ended(Instant::now() + BUDGET),
        Some(w) => w.endings(),
        None => vec![],
    };
    let reset = endings.iter().any(|e| matches!(e, ProbeEnd::Reset(_)));
    let ok = right_line && in_time && outcome.ending == Ending::Exited(expect.status()) && !reset;
    if ok {
        return Ok(());
    }
    let hint = diagnose(outcome, expect, &printed, right_line, reset);
    let mut transcript = Transcript::of(outcome);
    for ending in &endings {
        match ending {
            ProbeEnd::Orderly(at) => transcript.server(*at, "probe connection: read end of stream"),
            ProbeEnd::Reset(at) => transcript.server(*at, "probe connection: reset"),
            _ => {}
        }
    }
    Err(Box::new(Failure {
        scenario: scenario.to_string(),
        command: format!(
            "{}   (the pid file holds {:?})",
            outcome.command, pidfile_text
        ),
        transcript,
        expected: format!(
            "{:?} on standard output, exit status {}, within {} s, probe closed in order",
            expect.line(),
            expect.status(),
            BUDGET.as_secs()
        ),
        actual: format!(
            "{}{}",
            describe(outcome),
            if reset {
                "; the probe connection was reset"
            } else {
                ""
            }
        ),
        hint,
    }))
}

fn diagnose(
    outcome: &Outcome,
    expect: &Expect,
    printed: &[String],
    right_line: bool,
    reset: bool,
) -> Hint {
    if let Some(hint) = general_hint(outcome, CH_DAEMONS) {
        return hint;
    }
    if outcome.ending == Ending::StillRunning || outcome.elapsed > BUDGET + SLACK {
        return if right_line {
            Hint::DaemonProbeLeftOpen
        } else {
            Hint::Hung {
                chapter: CH_DAEMONS,
            }
        };
    }
    let said = printed.first().map(String::as_str).unwrap_or("");
    match (expect, said) {
        (Expect::Not("not listening"), "not running: no such process") => {
            Hint::DaemonEpermMeansAlive
        }
        (Expect::Not("port held by another process"), s) if s.starts_with("running") => {
            Hint::DaemonConnectProvesNothing
        }
        (Expect::Not("not listening"), s) if s.starts_with("running") => {
            Hint::DaemonAliveIsNotListening
        }
        _ if right_line && reset => Hint::DaemonProbeReset,
        _ => Hint::DaemonWrongVerdict,
    }
}

/// The `support` daemon program, built once for every check that needs it.
fn daemon_program() -> Result<Subject, Box<Failure>> {
    static BUILT: OnceLock<Result<Subject, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| target::build("support", "daemon", "support/src/bin/daemon.rs".into()))
        .clone()
        .map_err(|e| setup(format!("cannot build the support daemon: {e}")))
}

/// `sleep 600` as a child: a live process that listens on nothing; killed when dropped.
fn sleeper() -> Result<Run, Box<Failure>> {
    let sleep = Subject {
        exe: "sleep".into(),
        shown_as: "sleep".into(),
    };
    Run::start(&sleep, &["600".into()], Input::Open)
        .map_err(|e| setup(format!("cannot start sleep: {e}")))
}

/// The pid of a process that has exited and been reaped.
fn dead_pid_now() -> Result<i32, Box<Failure>> {
    let mut child = std::process::Command::new("true")
        .spawn()
        .map_err(|e| setup(format!("cannot start true: {e}")))?;
    let pid = child.id() as i32;
    child
        .wait()
        .map_err(|e| setup(format!("cannot reap true: {e}")))?;
    Ok(pid)
}

fn me() -> i32 {
    std::process::id() as i32
}

fn simple(
    subject: &Subject,
    scenario: &str,
    text: &str,
    expect: Expect,
    watched: Option<&Watched>,
) -> Result<(), Box<Failure>> {
    let dir = TempDir::new()?;
    let pidfile = dir.pidfile(text)?;
    let outcome = run_check(subject, &pidfile)?;
    judge(scenario, &outcome, &expect, text, watched)
}

fn healthy_listener(subject: &Subject) -> Result<(), Box<Failure>> {
    let watched = Watched::start(true)?;
    let port = watched.port;
    // The trailing `\r\n` and spaces the contract allows.
    let text = format!("{};{} \r\n", me(), port);
    simple(
        subject,
        "the pid file names the grader's own process, which listens on the port and accepts",
        &text,
        Expect::Running { pid: me(), port },
        Some(&watched),
    )
}

fn accepts_and_never_answers(subject: &Subject) -> Result<(), Box<Failure>> {
    let watched = Watched::start(true)?;
    simple(
        subject,
        "the daemon (the grader's own process) accepts every connection and never sends a byte",
        &format!("{};{}\n", me(), watched.port),
        Expect::Running {
            pid: me(),
            port: watched.port,
        },
        Some(&watched),
    )
}

fn never_accepts(subject: &Subject) -> Result<(), Box<Failure>> {
    // Connections complete in the kernel and wait in the backlog: connect succeeds, accept never
    // comes.
    let watched = Watched::start(false)?;
    simple(
        subject,
        "the daemon (the grader's own process) listens but never accepts: connections wait in its backlog",
        &format!("{};{}\n", me(), watched.port),
        Expect::Running {
            pid: me(),
            port: watched.port,
        },
        None,
    )
}

/// Starts the support daemon in the foreground; its pid file is written before it announces.
fn foreground_daemon(pidfile: &Path) -> Result<(Run, u16), Box<Failure>> {
    let daemon = daemon_program()?;
    let run = Run::start(
        &daemon,
        &["--pidfile".into(), pidfile.display().to_string()],
        Input::Open,
    )
    .map_err(|e| setup(format!("cannot start the daemon: {e}")))?;
    if !run.wait_stdout_lines(1, Instant::now() + Duration::from_secs(10)) {
        return Err(setup("the support daemon did not announce its port".into()));
    }
    let text = fs::read_to_string(pidfile).map_err(|e| setup(format!("no pid file: {e}")))?;
    let port = support::daemon::parse_pid_file(&text)
        .map(|(_, port)| port)
        .ok_or_else(|| setup(format!("the daemon wrote {text:?}")))?;
    Ok((run, port))
}

fn support_daemon(subject: &Subject) -> Result<(), Box<Failure>> {
    let scenario = "the support daemon runs in the foreground and wrote its pid file";
    let dir = TempDir::new()?;
    let pidfile = dir.0.join("daemon.pid");
    let (daemon, port) = foreground_daemon(&pidfile)?;
    let text = fs::read_to_string(&pidfile).unwrap_or_default();
    let outcome = run_check(subject, &pidfile)?;
    let expect = Expect::Running {
        pid: daemon.pid(),
        port,
    };
    judge(scenario, &outcome, &expect, &text, None)?;
    // The daemon logs how each connection ended: stop it and read its log.
    let _ = kill(Pid::from_raw(daemon.pid()), Signal::SIGTERM);
    let log = daemon.finish(Instant::now() + Duration::from_secs(5));
    if log.stderr_text().contains("reset") {
        return Err(Box::new(Failure {
            scenario: scenario.into(),
            command: outcome.command.clone(),
            transcript: Transcript::of(&outcome),
            expected: "the daemon to read an end of stream on the probe connection".into(),
            actual: format!("the daemon's log: {}", log.stderr_text()),
            hint: Hint::DaemonProbeReset,
        }));
    }
    Ok(())
}

/// Kills a detached daemon (not our child; its new parent reaps it) when dropped.
struct DetachedGuard(Option<i32>);

impl Drop for DetachedGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

fn support_daemon_detached(subject: &Subject) -> Result<(), Box<Failure>> {
    let dir = TempDir::new()?;
    let pidfile = dir.0.join("daemon.pid");
    let daemon = daemon_program()?;
    let launcher = Run::start(
        &daemon,
        &[
            "--pidfile".into(),
            pidfile.display().to_string(),
            "--detach".into(),
        ],
        Input::Lines(vec![]),
    )
    .map_err(|e| setup(format!("cannot start the daemon: {e}")))?
    .finish(Instant::now() + Duration::from_secs(10));
    let text = fs::read_to_string(&pidfile).unwrap_or_default();
    let parsed = support::daemon::parse_pid_file(&text);
    let _guard = DetachedGuard(parsed.map(|(pid, _)| pid));
    let Some((pid, port)) = parsed.filter(|_| launcher.ending == Ending::Exited(0)) else {
        return Err(setup(format!(
            "the detached daemon did not start: {}; {}",
            describe(&launcher),
            launcher.stderr_text()
        )));
    };
    let outcome = run_check(subject, &pidfile)?;
    judge(
        "the support daemon runs detached (--detach: double fork, new session) and wrote its pid file",
        &outcome,
        &Expect::Running { pid, port },
        &text,
        None,
    )
}

fn no_pid_file(subject: &Subject) -> Result<(), Box<Failure>> {
    let dir = TempDir::new()?;
    let pidfile = dir.0.join("daemon.pid");
    let outcome = run_check(subject, &pidfile)?;
    judge(
        "the pid file does not exist",
        &outcome,
        &Expect::Not("no pid file"),
        "(no file)",
        None,
    )
}

fn malformed_pid_files(subject: &Subject) -> Result<(), Box<Failure>> {
    // A live listener behind every port number, so that only the parsing can say "malformed".
    let watched = Watched::start(true)?;
    let port = watched.port;
    let me = me();
    let texts = [
        String::new(),
        "\n".into(),
        "garbage\n".into(),
        format!("{me}\n"),
        format!("{me};{port};7\n"),
        format!("-{me};{port}\n"),
        format!("0;{port}\n"),
        format!("99999999999;{port}\n"),
        format!("{me};0\n"),
        format!("{me};{}\n", 65536 + u32::from(port)),
        format!("{me},{port}\n"),
        format!("{me};{port}x\n"),
    ];
    for text in texts {
        simple(
            subject,
            "the pid file is malformed (empty, garbage, a negative, zero or huge pid, a port out of range)",
            &text,
            Expect::Not("malformed pid file"),
            None,
        )?;
    }
    Ok(())
}

fn dead_pid(subject: &Subject) -> Result<(), Box<Failure>> {
    let (_reserved, port) = reserve_port().map_err(|e| setup(e.to_string()))?;
    let pid = dead_pid_now()?;
    simple(
        subject,
        "the pid file names a process that has exited",
        &format!("{pid};{port}\n"),
        Expect::Not("no such process"),
        None,
    )
}

fn dead_pid_port_taken(subject: &Subject) -> Result<(), Box<Failure>> {
    let watched = Watched::start(true)?;
    let pid = dead_pid_now()?;
    simple(
        subject,
        "the daemon of the pid file has died, and another process now listens on its port",
        &format!("{pid};{}\n", watched.port),
        Expect::Not("no such process"),
        Some(&watched),
    )
}

fn alive_not_listening(subject: &Subject) -> Result<(), Box<Failure>> {
    let sleeper = sleeper()?;
    let (_reserved, port) = reserve_port().map_err(|e| setup(e.to_string()))?;
    simple(
        subject,
        "the pid file names a live process that listens on no port (nothing accepts on PORT)",
        &format!("{};{port}\n", sleeper.pid()),
        Expect::Not("not listening"),
        None,
    )
}

/// The program runs as user `nobody`; the process is root's: `kill(pid, 0)` fails with EPERM,
/// although the process exists.
fn another_users_process(subject: &Subject) -> Result<(), Box<Failure>> {
    let sleeper = sleeper()?;
    let (_reserved, port) = reserve_port().map_err(|e| setup(e.to_string()))?;
    let dir = TempDir::new()?;
    let text = format!("{};{port}\n", sleeper.pid());
    let pidfile = dir.pidfile(&text)?;
    // SAFETY: geteuid cannot fail and touches no memory of ours.
    if unsafe { libc::geteuid() } != 0 {
        // Not root: the grader cannot run the program as somebody else; every process but our
        // own is then already out of reach of kill, which the other checks cover.
        return Ok(());
    }
    let setpriv = Subject {
        exe: "/usr/bin/setpriv".into(),
        shown_as: format!("setpriv --reuid=65534 ... {}", subject.shown_as),
    };
    let args = [
        "--reuid=65534".to_string(),
        "--regid=65534".into(),
        "--clear-groups".into(),
        "--".into(),
        subject.exe.display().to_string(),
        pidfile.display().to_string(),
    ];
    let outcome = Run::start(&setpriv, &args, Input::Lines(vec![]))
        .map_err(|e| setup(format!("cannot start setpriv: {e}")))?
        .finish(Instant::now() + BUDGET + SLACK);
    if outcome.stderr_text().contains("setpriv:") {
        return Err(setup(format!(
            "cannot run the program as nobody: {}",
            outcome.stderr_text()
        )));
    }
    judge(
        "the program runs as user nobody; the pid file names a live process of root's (kill(pid, 0) fails with EPERM), and nothing listens on PORT",
        &outcome,
        &Expect::Not("not listening"),
        &text,
        None,
    )
}

fn pid_reused(subject: &Subject) -> Result<(), Box<Failure>> {
    let sleeper = sleeper()?;
    let watched = Watched::start(true)?;
    simple(
        subject,
        "the daemon died and its pid now belongs to an unrelated process (sleep); another process holds the port",
        &format!("{};{}\n", sleeper.pid(), watched.port),
        Expect::Not("port held by another process"),
        Some(&watched),
    )
}

fn port_held_by_another_process(subject: &Subject) -> Result<(), Box<Failure>> {
    let dir = TempDir::new()?;
    let own = dir.0.join("own.pid");
    let (daemon, _) = foreground_daemon(&own)?;
    let watched = Watched::start(true)?;
    let result = simple(
        subject,
        "the pid file names a running daemon, but another process (the grader) listens on the pid file's port",
        &format!("{};{}\n", daemon.pid(), watched.port),
        Expect::Not("port held by another process"),
        Some(&watched),
    );
    drop(daemon);
    result
}
