//! "A process of another user", the same scenario for root and for an ordinary user.
//!
//! A learner runs the grader as an ordinary user: then process 1, and every other process of
//! root's, is another user's to the program under test (`kill(pid, 0)` fails with `EPERM`, and
//! `/proc/PID/fd` cannot be read). Root may signal and read every process, so as root the grader
//! makes the same world the other way round: it runs the program under test as user `nobody`
//! (with `setpriv`), and the processes it starts itself are root's, another user's to `nobody`.
//! Either way the program meets the same situation and owes the same verdict; a check never
//! passes because it could not arrange it.

use std::fs;
use std::io;
use std::time::Instant;

use crate::program::{Input, Outcome, Run, Subject};

/// The user the program under test runs as when the grader is root: `nobody` (65534), whose
/// group is 65534 too (`nogroup` or `nobody`, by distribution).
const NOBODY: u32 = 65534;

/// Whether the grader runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// The program under test, started so that the processes the grader starts are another user's
/// to it: as itself for an ordinary user, as `nobody` for root.
pub struct AsAnotherUser {
    run: Run,
    /// The command line as the learner reads it, with the program named once.
    command: String,
}

impl AsAnotherUser {
    pub fn start(subject: &Subject, args: &[String]) -> Result<AsAnotherUser, String> {
        if !is_root() {
            let run = Run::start(subject, args, Input::Lines(vec![]))
                .map_err(|e| format!("could not start {}: {e}", subject.shown_as))?;
            return Ok(AsAnotherUser {
                run,
                command: String::new(),
            });
        }
        let setpriv = Subject {
            exe: "setpriv".into(),
            shown_as: "setpriv".into(),
        };
        let flags = [
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
        ];
        let mut full: Vec<String> = flags.to_vec();
        full.push("--".into());
        full.push(subject.exe.display().to_string());
        full.extend(args.iter().cloned());
        let run = Run::start(&setpriv, &full, Input::Lines(vec![]))
            .map_err(|e| format!("cannot run setpriv (util-linux), needed as root: {e}"))?;
        let command = format!(
            "{} {} {}",
            flags.join(" "),
            subject.shown_as,
            args.join(" ")
        );
        Ok(AsAnotherUser {
            run,
            command: format!("setpriv {command}   (as user nobody: the grader runs as root)"),
        })
    }

    /// As [`Run::finish`]; an error when `setpriv` itself failed, before the program ran.
    pub fn finish(self, deadline: Instant) -> Result<Outcome, String> {
        let mut outcome = self.run.finish(deadline);
        if self.command.is_empty() {
            return Ok(outcome);
        }
        if let Some(line) = outcome
            .stderr
            .iter()
            .find(|p| p.text.starts_with("setpriv:"))
        {
            return Err(format!(
                "cannot run the program as user nobody: {}",
                line.text
            ));
        }
        outcome.command = self.command;
        Ok(outcome)
    }
}

/// A live process of another user than the one [`AsAnotherUser`] runs the program as.
pub enum Foreign {
    /// Started by the grader, which runs as root: `sleep`, root's.
    Started(Run),
    /// Found: a process of another user than the learner (process 1, as a rule).
    Found(i32),
}

impl Foreign {
    pub fn find_or_start() -> Result<Foreign, String> {
        if is_root() {
            let sleep = Subject {
                exe: "sleep".into(),
                shown_as: "sleep".into(),
            };
            return Run::start(&sleep, &["600".into()], Input::Open)
                .map(Foreign::Started)
                .map_err(|e| format!("cannot start sleep: {e}"));
        }
        // SAFETY: getuid and geteuid cannot fail and touch no memory.
        let mine = unsafe { [libc::getuid(), libc::geteuid()] };
        let candidates = std::iter::once(1).chain(
            fs::read_dir("/proc")
                .map_err(|e| format!("cannot list /proc: {e}"))?
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()),
        );
        for pid in candidates {
            // The kernel lets us signal a process whose real or saved user is our real or
            // effective one: another user's shares none of them.
            match ids(pid) {
                Ok(ids) if ids.iter().all(|id| !mine.contains(id)) => {
                    return Ok(Foreign::Found(pid));
                }
                _ => continue,
            }
        }
        Err(
            "no process of another user is visible in /proc (is /proc mounted with hidepid?): \
             the check needs one, such as process 1"
                .into(),
        )
    }

    pub fn pid(&self) -> i32 {
        match self {
            Foreign::Started(run) => run.pid(),
            Foreign::Found(pid) => *pid,
        }
    }

    /// Who owns it, for a scenario.
    pub fn described(&self) -> String {
        match self {
            Foreign::Started(_) => format!(
                "process {} (sleep) is root's, and the program runs as user nobody",
                self.pid()
            ),
            Foreign::Found(pid) => format!("process {pid} is another user's (root's, as a rule)"),
        }
    }
}

/// The real and saved user ids of a process, from `/proc/PID/status`.
fn ids(pid: i32) -> io::Result<[u32; 2]> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let uids: Vec<u32> = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .map(|ids| {
            ids.split_whitespace()
                .filter_map(|i| i.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    match uids.as_slice() {
        [real, _effective, saved, ..] => Ok([*real, *saved]),
        _ => Err(io::Error::other("no Uid line")),
    }
}

/// A process that listens on 127.0.0.1:PORT and whose descriptors the program under test may
/// not read: it has made itself not dumpable (`prctl(PR_SET_DUMPABLE, 0)`, as daemons that drop
/// privileges do), so its `/proc/PID/fd` is root's; and as root the program runs as `nobody`.
/// It never accepts: connections complete in its backlog. Killed and reaped when dropped.
pub struct UnreadableListener {
    pub pid: i32,
    pub port: u16,
}

impl UnreadableListener {
    pub fn start() -> io::Result<UnreadableListener> {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let fd = listener.as_raw_fd();
        // A child of this very process, not a program: no program makes itself non-dumpable on
        // request. Between fork and its end the child makes system calls only (no allocation,
        // no lock), which is all a child of a threaded process may do.
        // SAFETY: see above; the parent's memory is untouched.
        match unsafe { libc::fork() } {
            -1 => Err(io::Error::last_os_error()),
            0 => unsafe {
                libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
                // It must not outlive the grader, whatever happens to it.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                // The listener as descriptor 3 and nothing else: none of the grader's pipes and
                // sockets stay open in it.
                if fd != 3 {
                    libc::dup2(fd, 3);
                }
                libc::close_range(0, 2, 0);
                libc::close_range(4, libc::c_uint::MAX, 0);
                loop {
                    libc::pause();
                }
            },
            pid => Ok(UnreadableListener { pid, port }),
        }
        // The parent's copy of the listener closes here: the socket is the child's alone.
    }
}

impl Drop for UnreadableListener {
    fn drop(&mut self) {
        // SAFETY: plain system calls on our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}
