//! Running the learner's program as a child process, and never losing track of it.
//!
//! Every run is a [`Run`]: the child is put in a process group of its own, its standard output
//! and error are read by two threads into time-stamped logs, and a third thread waits for it to
//! exit. Waiting is always on an event (a line printed, the process exited) with a deadline.
//! Dropping a `Run` kills the whole process group and reaps the child, so a check that fails,
//! or panics, leaves nothing behind.
//!
//! Nor does an interrupted grading. Each child runs in a process group of its own, so the Ctrl-C
//! a terminal sends to the grader's group never reaches it; instead every live group (and every
//! detached daemon a check is told about, [`Detached`]) is listed in one registry, and
//! [`end_children_on_interrupt`] kills them all when the grader gets SIGINT, SIGTERM or SIGHUP.
//! Should the grader die some other way (SIGKILL), each child gets SIGKILL from the kernel too
//! (`PR_SET_PDEATHSIG`).

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a grading run must kill if it is interrupted: the process groups of the children it
/// runs, and the pids of detached daemons that left every group of ours.
#[derive(Default)]
struct Registry {
    groups: BTreeSet<i32>,
    detached: BTreeSet<i32>,
}

static LIVE: Mutex<Registry> = Mutex::new(Registry {
    groups: BTreeSet::new(),
    detached: BTreeSet::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A check that panicked while holding the lock leaves the set itself intact.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Kills every child a check started, and every detached daemon it was told about, when this
/// process is asked to stop (SIGINT from a terminal's Ctrl-C, SIGTERM, SIGHUP); then exits with
/// the shell's status for the signal (128 + its number). Call it first thing in `main`, before
/// any thread starts: the signals are blocked in every thread and taken by one thread of its own,
/// which may then take locks and kill freely (a signal handler could do neither). [`Run::start`]
/// empties the mask again in every child, which would otherwise inherit it.
pub fn end_children_on_interrupt() {
    use nix::sys::signal::{SigSet, Signal};
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(signal);
    }
    if signals.thread_block().is_err() {
        return;
    }
    thread::spawn(move || {
        let Ok(signal) = signals.wait() else { return };
        kill_everything_started();
        eprintln!("grader: stopped by {signal}; every program it started has been killed");
        std::process::exit(128 + signal as i32);
    });
}

/// Kills every live child group and detached daemon. Children are reaped by their waiter threads
/// (or by init, once this process exits).
fn kill_everything_started() {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    let live = registry();
    for &group in &live.groups {
        let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
    }
    for &pid in &live.detached {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// A daemon that detached itself (a new session, so no group of ours holds it): killed when
/// this guard is dropped, and by [`end_children_on_interrupt`] if grading is interrupted first.
pub struct Detached(i32);

impl Detached {
    pub fn track(pid: i32) -> Detached {
        registry().detached.insert(pid);
        Detached(pid)
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0),
            nix::sys::signal::Signal::SIGKILL,
        );
        registry().detached.remove(&self.0);
    }
}

/// How long a program may take to finish a conversation that should take milliseconds. Only a
/// wrong program ever waits this long, so it is generous: a loaded machine must never fail a
/// correct program.
pub const FINISH: Duration = Duration::from_secs(8);

/// The program under test: an executable and the name a learner knows it by.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The executable to run.
    pub exe: PathBuf,
    /// How the grader names it in messages, e.g. `exercises/udp_client.rs`.
    pub shown_as: String,
}

/// What the child does with its standard input.
#[derive(Clone, Debug)]
pub enum Input {
    /// These lines (each followed by `\n`), then end of input.
    Lines(Vec<String>),
    /// Nothing is written and standard input stays open until [`Run::close_stdin`].
    Open,
}

/// A line printed by the child, and when the grader read it.
#[derive(Clone, Debug)]
pub struct Printed {
    pub at: Instant,
    pub text: String,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Exited by itself with this status code.
    Exited(i32),
    /// Killed by a signal it did not ask for (a crash, or an abort).
    Signalled(i32),
    /// Still running at the deadline; the grader killed it.
    StillRunning,
}

/// Everything a finished run left: what it printed and how it ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub command: String,
    pub started: Instant,
    pub stdin: Vec<String>,
    pub stdout: Vec<Printed>,
    pub stderr: Vec<Printed>,
    pub ending: Ending,
    /// From start to exit (or to the deadline).
    pub elapsed: Duration,
}

impl Outcome {
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.iter().map(|p| p.text.clone()).collect()
    }

    pub fn stderr_text(&self) -> String {
        self.stderr
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// When the program exited, or when the grader killed it. What its peers saw after this
    /// instant (an end of stream, a reset) is the kernel closing its sockets, not its doing.
    pub fn ended_at(&self) -> Instant {
        self.started + self.elapsed
    }

    /// Whether an orderly end of stream that a peer read at `at` was the program's doing: only
    /// while it still ran. After the end, it is the kernel closing the sockets of a process that
    /// exited or that the grader killed.
    pub fn half_closed_itself(&self, at: Instant) -> bool {
        at < self.ended_at()
    }

    /// Whether a reset that a peer read at `at` was the program's doing: any, once it exited by
    /// itself (its exit closes its sockets, and a reset then comes from how it left them); only
    /// before the end when the grader killed it.
    pub fn reset_itself(&self, at: Instant) -> bool {
        self.ending != Ending::StillRunning || at < self.ended_at()
    }

    /// The message of a Rust panic, if the program panicked.
    pub fn panic_message(&self) -> Option<String> {
        let at = self
            .stderr
            .iter()
            .position(|p| p.text.contains("panicked at"))?;
        let mut message = self.stderr[at].text.clone();
        if let Some(next) = self.stderr.get(at + 1) {
            message.push(' ');
            message.push_str(next.text.trim());
        }
        Some(message)
    }
}

/// Lines a stream has printed so far, shared between its reader thread and the grader.
#[derive(Default)]
struct Lines {
    state: Mutex<LinesState>,
    changed: Condvar,
}

#[derive(Default)]
struct LinesState {
    lines: Vec<Printed>,
    /// Bytes after the last newline.
    partial: Vec<u8>,
    closed: bool,
}

impl Lines {
    fn pump(self: Arc<Self>, mut from: impl Read + Send + 'static) {
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = from.read(&mut buf).unwrap_or(0);
                let mut state = self.state.lock().unwrap();
                if n == 0 {
                    // End of the pipe: every holder of its write end has exited or closed it.
                    if !state.partial.is_empty() {
                        let text = String::from_utf8_lossy(&state.partial).into_owned();
                        state.partial.clear();
                        state.lines.push(Printed {
                            at: Instant::now(),
                            text,
                        });
                    }
                    state.closed = true;
                    self.changed.notify_all();
                    return;
                }
                state.partial.extend_from_slice(&buf[..n]);
                while let Some(nl) = state.partial.iter().position(|&b| b == b'\n') {
                    let mut line: Vec<u8> = state.partial.drain(..=nl).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    let text = String::from_utf8_lossy(&line).into_owned();
                    state.lines.push(Printed {
                        at: Instant::now(),
                        text,
                    });
                }
                self.changed.notify_all();
            }
        });
    }

    fn wait_for(&self, count: usize, deadline: Instant) -> bool {
        let mut state = self.state.lock().unwrap();
        while state.lines.len() < count && !state.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
        state.lines.len() >= count
    }

    /// Waits a little for the reader to reach the end of the pipe, so that what a process wrote
    /// just before exiting is not lost.
    fn wait_closed(&self, deadline: Instant) {
        let mut state = self.state.lock().unwrap();
        while !state.closed {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
    }

    fn snapshot_len(&self) -> usize {
        self.state.lock().unwrap().lines.len()
    }

    fn snapshot(&self) -> Vec<Printed> {
        let state = self.state.lock().unwrap();
        let mut lines = state.lines.clone();
        if !state.partial.is_empty() {
            lines.push(Printed {
                at: Instant::now(),
                text: String::from_utf8_lossy(&state.partial).into_owned(),
            });
        }
        lines
    }
}

/// What a child may do that an ordinary user's program may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Powers {
    /// Whatever the grader's user has.
    AsGiven,
    /// As root, everything but CAP_SYS_PTRACE.
    WithoutPtrace,
}

/// The capability that lets root read any process's descriptors (`linux/capability.h`).
const CAP_SYS_PTRACE: libc::c_ulong = 19;

/// A running child process. Dropping it kills its process group and reaps it.
pub struct Run {
    pid: i32,
    command: String,
    started: Instant,
    stdin_lines: Vec<String>,
    stdin: Option<ChildStdin>,
    stdout: Arc<Lines>,
    stderr: Arc<Lines>,
    /// The exit status, and when the waiter thread saw it: the time of exit is taken there, not
    /// when the grader gets round to asking.
    exit: Receiver<(ExitStatus, Instant)>,
    exited: Option<(ExitStatus, Instant)>,
}

impl Run {
    /// Starts `subject` with `args`.
    pub fn start(subject: &Subject, args: &[String], input: Input) -> io::Result<Run> {
        Run::start_with(subject, args, input, Powers::AsGiven)
    }

    /// Starts `subject` as [`Run::start`] does, but, when the grader is root, without
    /// CAP_SYS_PTRACE, the capability that lets root read any process's descriptors: a program
    /// that hides them (not dumpable) is then hidden from root as from a learner, and
    /// [`crate::learner_view::hidden`] can tell. For programs whose sockets a check looks at.
    pub fn start_as_learner(subject: &Subject, args: &[String], input: Input) -> io::Result<Run> {
        Run::start_with(subject, args, input, Powers::WithoutPtrace)
    }

    fn start_with(
        subject: &Subject,
        args: &[String],
        input: Input,
        powers: Powers,
    ) -> io::Result<Run> {
        let mut command = Command::new(&subject.exe);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A panic message is enough to diagnose; a backtrace would bury it.
            .env("RUST_BACKTRACE", "0")
            // Its own process group, so that killing the group also kills anything it started.
            .process_group(0);
        // SAFETY: close_range is async-signal-safe and touches only this child's descriptors.
        // The grader's own process may have inherited descriptors (seen: 10 and 251); marking
        // them close-on-exec means the learner's program starts with 0, 1 and 2 only, so a socket
        // check never mistakes one of ours for one of theirs.
        //
        // PR_SET_PDEATHSIG: should the grader be killed outright, the kernel kills the child too.
        // It fires when the thread that started the child ends; every `Run` is dropped (and its
        // child killed) by then anyway.
        unsafe {
            command.pre_exec(move || {
                libc::close_range(3, libc::c_uint::MAX, libc::CLOSE_RANGE_CLOEXEC as i32);
                // Out of the bounding set, so the program does not get it back at exec.
                if powers == Powers::WithoutPtrace && libc::geteuid() == 0 {
                    libc::prctl(libc::PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0);
                }
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // The grader blocks SIGINT, SIGTERM and SIGHUP in all its threads (see
                // end_children_on_interrupt), and a child inherits the mask: the program under
                // test must start with none blocked, as it would from a shell.
                let mut none: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut none);
                libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
                Ok(())
            });
        }
        // Registered while the registry is locked, so an interrupt between the start and the
        // registration cannot miss the child.
        let mut live = registry();
        let mut child: Child = command.spawn()?;
        let started = Instant::now();
        let pid = child.id() as i32;
        live.groups.insert(pid);
        drop(live);

        let stdout = Arc::new(Lines::default());
        let stderr = Arc::new(Lines::default());
        Arc::clone(&stdout).pump(child.stdout.take().expect("stdout is piped"));
        Arc::clone(&stderr).pump(child.stderr.take().expect("stderr is piped"));

        let mut stdin = child.stdin.take();
        let stdin_lines = match input {
            Input::Lines(lines) => {
                let mut pipe = stdin.take().expect("stdin is piped");
                let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
                // A thread, because a program that does not read its input would block us.
                // Dropping the pipe at the end is the end of input.
                thread::spawn(move || {
                    let _ = pipe.write_all(text.as_bytes());
                });
                lines
            }
            Input::Open => Vec::new(),
        };

        let (tx, exit) = mpsc::channel();
        thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send((status, Instant::now()));
            }
        });

        let shown_args = args
            .iter()
            .map(|a| shell_word(a))
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Run {
            pid,
            command: format!("{} {}", subject.shown_as, shown_args),
            started,
            stdin_lines,
            stdin,
            stdout,
            stderr,
            exit,
            exited: None,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Writes one line to the child's standard input (with [`Input::Open`]).
    pub fn send_line(&mut self, line: &str) -> io::Result<()> {
        self.stdin_lines.push(line.to_string());
        match self.stdin.as_mut() {
            Some(pipe) => pipe.write_all(format!("{line}\n").as_bytes()),
            None => Err(io::Error::other("standard input is already closed")),
        }
    }

    /// Writes `lines` one at a time, each only once the program has printed `per_line` more lines
    /// on standard output since the one before, as a person at a terminal would. `Err(k)` when
    /// the reply to line `k` (from 0) had not come within `each_within`; the lines after it are
    /// not written.
    pub fn send_lines_in_step(
        &mut self,
        lines: &[String],
        per_line: usize,
        each_within: Duration,
    ) -> Result<(), usize> {
        let start = self.stdout.snapshot_len();
        for (k, line) in lines.iter().enumerate() {
            if self.send_line(line).is_err() {
                return Err(k);
            }
            let wanted = start + (k + 1) * per_line;
            if !self.wait_stdout_lines(wanted, Instant::now() + each_within) {
                return Err(k);
            }
        }
        Ok(())
    }

    /// Ends the child's standard input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits until the child has printed `count` lines on standard output.
    pub fn wait_stdout_lines(&self, count: usize, deadline: Instant) -> bool {
        self.stdout.wait_for(count, deadline)
    }

    /// The lines the child has printed on standard output so far, while it runs.
    pub fn stdout_so_far(&self) -> Vec<String> {
        self.stdout.snapshot().into_iter().map(|p| p.text).collect()
    }

    /// Waits until the child exits; `None` if it is still running at the deadline.
    pub fn wait_exit(&mut self, deadline: Instant) -> Option<ExitStatus> {
        if let Some((status, _)) = self.exited {
            return Some(status);
        }
        let timeout = deadline.saturating_duration_since(Instant::now());
        match self.exit.recv_timeout(timeout) {
            Ok((status, at)) => {
                self.exited = Some((status, at));
                Some(status)
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Waits for the child to exit (killing it at the deadline) and collects what it printed.
    pub fn finish(mut self, deadline: Instant) -> Outcome {
        let status = self.wait_exit(deadline);
        if status.is_none() {
            self.kill();
        }
        // What it wrote just before it ended is still in the pipes: let the readers drain them.
        let drain = Instant::now() + Duration::from_secs(2);
        self.stdout.wait_closed(drain);
        self.stderr.wait_closed(drain);
        let ending = match status {
            Some(status) => match (status.code(), status.signal()) {
                (Some(code), _) => Ending::Exited(code),
                (None, Some(signal)) => Ending::Signalled(signal),
                (None, None) => Ending::Signalled(0),
            },
            None => Ending::StillRunning,
        };
        let elapsed = match self.exited {
            Some((_, at)) if status.is_some() => at - self.started,
            _ => deadline.saturating_duration_since(self.started),
        };
        Outcome {
            command: self.command.clone(),
            started: self.started,
            stdin: self.stdin_lines.clone(),
            stdout: self.stdout.snapshot(),
            stderr: self.stderr.snapshot(),
            ending,
            elapsed,
        }
    }

    /// Kills the whole process group and reaps the child.
    fn kill(&mut self) {
        self.stdin = None;
        // The group id is the child's pid (process_group(0)). Once the child has been reaped
        // the group may still hold processes it started; they go too.
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        if self.exited.is_none() {
            // SIGKILL cannot be caught: the exit comes at once, unless the kernel is very busy.
            let _ = self.wait_exit(Instant::now() + Duration::from_secs(10));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.kill();
        registry().groups.remove(&self.pid);
    }
}

/// Quotes a word the way a shell would need it.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=[]@".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> (Subject, Vec<String>) {
        (
            Subject {
                exe: PathBuf::from("/bin/sh"),
                shown_as: "sh".into(),
            },
            vec!["-c".into(), script.into()],
        )
    }

    #[test]
    fn collects_output_and_exit_status() {
        let (subject, args) = sh("while read l; do echo \"got $l\"; done; echo oops >&2; exit 3");
        let run = Run::start(&subject, &args, Input::Lines(vec!["a".into(), "b".into()])).unwrap();
        let out = run.finish(Instant::now() + Duration::from_secs(10));
        assert_eq!(out.stdout_lines(), ["got a", "got b"]);
        assert_eq!(out.stderr_text(), "oops");
        assert_eq!(out.ending, Ending::Exited(3));
    }

    #[test]
    fn kills_a_program_that_does_not_end_and_its_children() {
        let (subject, args) = sh("sleep 600 & echo $!; wait");
        let run = Run::start(&subject, &args, Input::Open).unwrap();
        assert!(run.wait_stdout_lines(1, Instant::now() + Duration::from_secs(10)));
        let stdout = Arc::clone(&run.stdout);
        let out = run.finish(Instant::now());
        assert_eq!(out.ending, Ending::StillRunning);
        // The grandchild holds the stdout pipe: the pipe reaches its end only once the
        // grandchild, which was in the same process group, is dead too.
        assert!(
            stdout.state.lock().unwrap().closed,
            "the grandchild still runs"
        );
    }

    #[test]
    fn starts_with_no_inherited_descriptors() {
        let (subject, args) = sh("ls /proc/self/fd");
        let out = Run::start(&subject, &args, Input::Lines(vec![]))
            .unwrap()
            .finish(Instant::now() + Duration::from_secs(10));
        // 0, 1, 2, and the descriptor `ls` opened to read the directory.
        assert!(out.stdout.len() <= 4, "{:?}", out.stdout_lines());
    }
}
