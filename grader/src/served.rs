//! A server program under test, seen from outside: started, waited for until it prints its first
//! line, looked at while it serves (its listening sockets, its descriptors, its child processes,
//! all read from `/proc`), and stopped when a check ends, with what it held at that moment.
//!
//! What the server should have printed or held is the caller's to judge: this module only reads.

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use crate::inspect::{self, SocketRow};
use crate::program::{FINISH, Input, Outcome, Run, Subject};
use crate::watch::{self, Hidden, Look};

/// The learner's server, running.
pub struct Served {
    run: Run,
}

/// What came of starting a server and waiting for its first line.
pub enum Started {
    /// It printed this first line on standard output.
    Printed(Served, String),
    /// No first line within [`FINISH`]: it ended first, or it printed nothing (or nothing whole).
    Silent(Served),
}

/// Starts `subject` with `args` and standard input open, and waits for its first line.
pub fn start(subject: &Subject, args: &[&str]) -> io::Result<Started> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    // As a learner's program would be: what it hides from a learner, it hides from root too.
    let run = Run::start_as_learner(subject, &args, Input::Open)?;
    let served = Served { run };
    if !served.run.wait_stdout_lines(1, Instant::now() + FINISH) {
        return Ok(Started::Silent(served));
    }
    let first = served
        .run
        .stdout_so_far()
        .first()
        .cloned()
        .unwrap_or_default();
    Ok(Started::Printed(served, first))
}

/// The address a first line `listening on ADDR:PORT` names, if it names one with a real port
/// (not 0).
pub fn said_address(line: &str) -> Option<SocketAddr> {
    line.strip_prefix("listening on ")
        .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        .filter(|a| a.port() != 0)
}

/// Where a server listens, against where it says it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listening {
    /// Every listening socket it holds is on the address it said.
    AsSaid,
    /// It holds no listening socket at all.
    Nowhere,
    /// It listens on this other address (the first one found).
    Elsewhere(SocketAddr),
}

/// What a server still held of clients that had gone.
pub enum Leftover {
    /// Its descriptors could not be read.
    Hidden(Hidden),
    /// More descriptors than it started with (beyond [`watch::LEAK_SLACK`]), or sockets other
    /// than its listening ones: what it held at the deadline.
    Held(Look),
}

/// The sockets of a look that are not listening: connections, and what is left of them.
pub fn connections(look: &Look) -> Vec<&SocketRow> {
    look.sockets
        .iter()
        .filter(|r| r.state != "LISTEN")
        .collect()
}

/// Asks `still` until it answers `None` (all is well) or the deadline, then gives its last
/// answer. For what the kernel has no event for (a process closed a descriptor, a child exited
/// and was reaped): a look every few milliseconds.
pub fn poll_until<T>(deadline: Instant, mut still: impl FnMut() -> Option<T>) -> Option<T> {
    loop {
        let seen = still()?;
        if Instant::now() >= deadline {
            return Some(seen);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A child process of the server, and its state letter as `ps` shows it (`Z` for a zombie).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildProcess {
    pub pid: i32,
    pub state: char,
}

/// Child processes by pid, for a failure message: the first eight, and how many more.
pub fn pids_shown(children: &[ChildProcess]) -> String {
    let shown: Vec<String> = children.iter().take(8).map(|c| c.pid.to_string()).collect();
    match children.len().saturating_sub(8) {
        0 => shown.join(", "),
        more => format!("{}, … and {more} more", shown.join(", ")),
    }
}

/// A stopped server: how it ended, and what it held just before.
pub struct Stopped {
    pub outcome: Outcome,
    /// Its socket table and descriptor count, read while it still ran, for a failure message.
    pub held: String,
}

impl Served {
    pub fn pid(&self) -> i32 {
        self.run.pid()
    }

    /// Whether the process is still there and not a zombie. A process that has exited is reaped
    /// by [`Run`] at once, so this does not wait.
    pub fn running(&self) -> bool {
        state_of(self.pid()).is_some_and(|s| s != 'Z' && s != 'X')
    }

    /// Its listening TCP sockets, from its own socket table.
    pub fn listening(&self) -> Result<Vec<SocketRow>, Hidden> {
        let rows = watch::sockets_of(self.pid())?;
        Ok(rows.into_iter().filter(|r| r.state == "LISTEN").collect())
    }

    /// Whether its socket table shows it listening where it said, and nowhere else.
    pub fn listens_as_said(&self, said: SocketAddr) -> Result<Listening, Hidden> {
        let rows = self.listening()?;
        Ok(match rows.iter().find(|r| r.local != said) {
            _ if rows.is_empty() => Listening::Nowhere,
            Some(other) => Listening::Elsewhere(other.local),
            None => Listening::AsSaid,
        })
    }

    /// Whether it still holds a connection whose peer is `peer` (one of the grader's clients).
    pub fn holds_connection_from(&self, peer: SocketAddr) -> Result<bool, Hidden> {
        let rows = watch::sockets_of(self.pid())?;
        Ok(rows.iter().any(|r| r.remote == Some(peer)))
    }

    /// Waits until it holds no socket but its listening ones, and at most
    /// [`watch::LEAK_SLACK`] descriptors more than `baseline`, or the deadline.
    pub fn let_go(&self, baseline: usize, deadline: Instant) -> Result<(), Leftover> {
        let left = poll_until(deadline, || match self.look() {
            Ok(look) => (look.fds > baseline + watch::LEAK_SLACK || !connections(&look).is_empty())
                .then_some(Leftover::Held(look)),
            Err(hidden) => Some(Leftover::Hidden(hidden)),
        });
        left.map_or(Ok(()), Err)
    }

    /// Waits until none of its children but `helpers` is `unwanted`, or the deadline; then
    /// those that still are.
    pub fn children_until(
        &self,
        helpers: &[ChildProcess],
        deadline: Instant,
        unwanted: impl Fn(&ChildProcess) -> bool,
    ) -> Result<(), Vec<ChildProcess>> {
        let left = poll_until(deadline, || {
            let found: Vec<ChildProcess> = self
                .children()
                .into_iter()
                .filter(|c| unwanted(c) && !helpers.iter().any(|h| h.pid == c.pid))
                .collect();
            (!found.is_empty()).then_some(found)
        });
        left.map_or(Ok(()), Err)
    }

    /// Its descriptor count and sockets, now; hidden when the grader may not read them.
    pub fn look(&self) -> Result<Look, Hidden> {
        watch::look(self.pid())
    }

    /// Its child processes (those whose parent it is), from every process's `/proc/PID/stat`,
    /// which anyone may read. A fork server's children, serving or exited and not yet waited for.
    pub fn children(&self) -> Vec<ChildProcess> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        let me = self.pid();
        let mut found: Vec<ChildProcess> = entries
            .filter_map(|entry| {
                let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
                let (state, parent) = stat_of(pid)?;
                (parent == me).then_some(ChildProcess { pid, state })
            })
            .collect();
        found.sort_by_key(|c| c.pid);
        found
    }

    /// Stops the server and collects what it printed; first reads its socket table while it
    /// still runs, for the failure to show.
    pub fn stop(self) -> Stopped {
        let pid = self.pid();
        let held = match watch::sockets_of(pid) {
            Ok(rows) => {
                let fds = inspect::fd_count(pid)
                    .map_or(String::new(), |n| format!("{n} open descriptors, and "));
                format!("{fds}{}", watch::sockets_shown(&rows))
            }
            Err(hidden) if self.running() => hidden.message().to_string(),
            Err(_) => "no socket table: the process has ended".to_string(),
        };
        // A server that is dying (say, of a client's reset) closes every descriptor before its
        // exit reaches us: one with none left is exiting, so wait for that exit rather than call
        // it "still running". A live server is stopped at once.
        let exiting = !self.running() || inspect::fd_count(pid).map_or(true, |n| n == 0);
        let grace = if exiting { FINISH } else { Duration::ZERO };
        Stopped {
            outcome: self.run.finish(Instant::now() + grace),
            held,
        }
    }
}

/// The state letter of a process, if it exists.
fn state_of(pid: i32) -> Option<char> {
    stat_of(pid).map(|(state, _)| state)
}

/// (state, parent pid) from `/proc/PID/stat`: `PID (COMM) STATE PPID ...`, where COMM may hold
/// spaces and parentheses, so the fields are counted from the last `)`.
fn stat_of(pid: i32) -> Option<(char, i32)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_state_and_parent() {
        let (state, parent) = stat_of(std::process::id() as i32).unwrap();
        assert!("RS".contains(state), "{state}");
        assert_eq!(parent, std::os::unix::process::parent_id() as i32);
    }
}
