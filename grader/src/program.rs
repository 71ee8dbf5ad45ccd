//! Running the learner's program as a child process, and never losing track of it.
//!
//! Every run is a [`Run`]: the child is put in a process group of its own, its standard output
//! and error are read by two threads into time-stamped logs, and a third thread waits for it to
//! exit. Waiting is always on an event (a line printed, the process exited) with a deadline.
//! Dropping a `Run` kills the whole process group and reaps the child, so a check that fails,
//! or panics, leaves nothing behind.
//!
//! Nor does an interrupted grading: every child is listed in [`crate::interrupt`]'s registry
//! while it runs, and should the grader die some other way (SIGKILL), each child gets SIGKILL from
//! the kernel too (`PR_SET_PDEATHSIG`).

use std::io::{self, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};

use crate::interrupt::registry;
use crate::printed::Lines;
pub use crate::printed::Printed;
use std::thread;
use std::time::{Duration, Instant};

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
                // crate::interrupt), and a child inherits the mask: the program under
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
        assert!(stdout.is_closed(), "the grandchild still runs");
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
