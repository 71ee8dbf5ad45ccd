//! A running program over time, seen from outside: which sockets it holds while a reply is held
//! back, whether its descriptors grow with its input, and what it still held when it had to be
//! stopped.
//!
//! Every client check that looks at a program's sockets does it through this module, so the
//! rules are the same for all of them: one slack for descriptors that come and go
//! ([`LEAK_SLACK`]), one reading of the kernel's tables that survives other programs' socket
//! churn ([`sockets_of`]), and one verdict on two looks ([`judge_looks`]).

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::journal::Journal;

use crate::hint::{Chapter, Hint};
use crate::inspect::{self, SocketRow};
use crate::program::FINISH;
use crate::program::{Outcome, Run};

/// A few descriptors may come and go (the standard library's own); a leak per line is hundreds.
pub const LEAK_SLACK: usize = 8;

/// What the grader saw of a running program from outside.
#[derive(Clone, Debug)]
pub struct Look {
    pub fds: usize,
    pub sockets: Vec<SocketRow>,
}

/// The program's descriptors could not be read: the check cannot see what it must see, so it
/// fails rather than skip the look.
#[derive(Clone, Debug)]
pub struct Hidden(pub String);

impl Hidden {
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// Whether the grader may read `/proc/PID/fd`, with the same answer for root and for an ordinary
/// user. A process that makes itself non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`, or a change of
/// user) has its `/proc/PID` entries owned by root: root could still read them, a learner could
/// not. Judging by the owner, not by whether the read works, gives both the same verdict; and for
/// root's own programs, whose owner says nothing, [`crate::learner_view`] judges.
pub fn readable(pid: i32) -> Result<(), Hidden> {
    let hidden = |why: String| Hidden(format!("the grader cannot read /proc/{pid}/fd: {why}"));
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| hidden(format!("the process is gone ({e})")))?;
    let real_uid: Option<u32> = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .and_then(|uid| uid.parse().ok());
    let owner = fs::metadata(format!("/proc/{pid}/fd"))
        .map_err(|e| hidden(e.to_string()))?
        .uid();
    let learner_cannot = crate::learner_view::hidden(pid) == Some(true);
    match real_uid {
        Some(uid) if uid == owner && !learner_cannot => Ok(()),
        _ => Err(hidden(
            "the program made itself unreadable (it is not dumpable: prctl(PR_SET_DUMPABLE, 0), \
             or it changed its user), so no one but root can see its descriptors"
                .into(),
        )),
    }
}

/// Waits for the program to end, as [`Run::finish`]; but if it is still running at the deadline,
/// first looks at the sockets it holds (while they are still its own), for the failure to show.
pub fn finish_looking(mut run: Run, deadline: Instant) -> (Outcome, Option<String>) {
    let seen = match run.wait_exit(deadline) {
        Some(_) => None,
        None => Some(match sockets_of(run.pid()) {
            Ok(rows) => format!(
                "when the grader stopped it, it still held {}",
                sockets_shown(&rows)
            ),
            Err(hidden) => hidden.0,
        }),
    };
    (run.finish(deadline), seen)
}

/// Whether a program that is still running sleeps for good or keeps waking up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sleep {
    /// Not once woken in the last stretch: it waits for something with no time limit.
    Forever,
    /// It woke up in the last stretch: it waits with a timeout, and goes on.
    WakesUp,
    /// It ended, or it could not be seen.
    Unknown,
}

/// Waits for the program to end, as [`Run::finish`]; if it still runs near the deadline, counts
/// how often it is woken up (context switches, every thread's) over the last 2 s, to tell a
/// program blocked for good from one that keeps trying.
pub fn finish_telling_sleep(mut run: Run, deadline: Instant) -> (Outcome, Sleep) {
    const STRETCH: Duration = Duration::from_secs(2);
    let mut sleep = Sleep::Unknown;
    if run.wait_exit(deadline - STRETCH).is_none()
        && let Some(before) = wakeups(run.pid())
        && run.wait_exit(deadline).is_none()
    {
        sleep = match wakeups(run.pid()) {
            Some(after) if after > before => Sleep::WakesUp,
            Some(_) => Sleep::Forever,
            None => Sleep::Unknown,
        };
    }
    (run.finish(deadline), sleep)
}

/// How many times the process's threads have been switched out so far.
pub fn wakeups(pid: i32) -> Option<u64> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.filter_map(Result::ok) {
        let Ok(status) = fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Some(total)
}

/// Whether the program is blocked reading its standard input (descriptor 0), from the system
/// call it waits in (`/proc/PID/syscall`: its number, then its arguments). A program that waits
/// for more input before it has printed the reply to the last line reads its input ahead.
pub fn reads_standard_input(pid: i32) -> Result<bool, Hidden> {
    // `read` and `readv`, by this machine's numbering.
    #[cfg(target_arch = "x86_64")]
    const READS: [u64; 2] = [0, 19];
    #[cfg(target_arch = "aarch64")]
    const READS: [u64; 2] = [63, 65];
    readable(pid)?;
    let text = fs::read_to_string(format!("/proc/{pid}/syscall"))
        .map_err(|e| Hidden(format!("the grader cannot read /proc/{pid}/syscall: {e}")))?;
    let mut words = text.split_whitespace();
    let number = words.next().and_then(|w| w.parse::<u64>().ok());
    let first_argument = words
        .next()
        .and_then(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok());
    Ok(matches!((number, first_argument), (Some(n), Some(0)) if READS.contains(&n)))
}

/// At most this many rows of a socket table are shown: a program that leaks a socket (or a clone
/// of one) per line holds hundreds.
const SHOWN_ROWS: usize = 12;

/// A socket table for a failure message, as [`inspect::shown`] but cut when long.
pub fn sockets_shown(rows: &[SocketRow]) -> String {
    if rows.len() <= SHOWN_ROWS {
        return inspect::shown(rows);
    }
    let table = inspect::table(&rows[..SHOWN_ROWS]);
    format!(
        "this table of sockets ({} rows, the first {SHOWN_ROWS} shown):\n    {}\n    … and {} \
         more",
        rows.len(),
        table.join("\n    "),
        rows.len() - SHOWN_ROWS
    )
}

/// Waits until the server's journal shows `held` (a reply held back at a gate, so the program is
/// waiting for it), then looks at the program. `Ok(None)` when the program exits first, or the
/// hold never comes within [`FINISH`]; an error when the program cannot be looked at.
pub fn look_while_held<E: Clone>(
    run: &mut Run,
    journal: &Journal<E>,
    held: impl Fn(&E) -> bool,
) -> Result<Option<Look>, Hidden> {
    // Two events end the wait, the hold or the program's exit, and they have no common wait: the
    // journal is waited on in slices, with a look at the exit between them.
    const SLICE: Duration = Duration::from_millis(50);
    let deadline = Instant::now() + FINISH;
    loop {
        let until = deadline.min(Instant::now() + SLICE);
        if journal.wait_until(until, |events| events.iter().any(|e| held(&e.event))) {
            break;
        }
        if Instant::now() >= deadline || run.wait_exit(Instant::now()).is_some() {
            return Ok(None);
        }
    }
    look(run.pid()).map(Some)
}

/// The program's descriptor count and sockets, now.
pub fn look(pid: i32) -> Result<Look, Hidden> {
    readable(pid)?;
    let fds = inspect::fd_count(pid)
        .map_err(|e| Hidden(format!("the grader cannot read /proc/{pid}/fd: {e}")))?;
    Ok(Look {
        fds,
        sockets: sockets_of(pid)?,
    })
}

/// How many times the kernel's tables are read at most, for a socket that slipped through.
const TABLE_READS: usize = 5;

/// The program's sockets, as [`inspect::sockets`], read again while one of its socket
/// descriptors is missing from the tables. The kernel makes `/proc/net/tcp` (and the others) one
/// page at a time, and a row can slip between two pages while other programs' sockets come and
/// go; the program itself is waiting for a held reply, so its own sockets stay as they are and
/// the rows of every reading are put together.
pub fn sockets_of(pid: i32) -> Result<Vec<SocketRow>, Hidden> {
    readable(pid)?;
    let unreadable = |e: std::io::Error| {
        Hidden(format!(
            "the grader cannot read the sockets of process {pid}: {e}"
        ))
    };
    let mut rows: Vec<SocketRow> = Vec::new();
    for _ in 0..TABLE_READS {
        for row in inspect::sockets(pid).map_err(unreadable)? {
            if !rows.iter().any(|r| r.fd == row.fd) {
                rows.push(row);
            }
        }
        let found: BTreeSet<u64> = rows.iter().map(|r| r.inode).collect();
        // A socket of another kind (a Unix socket, say) is in none of the tables: after the last
        // reading, the rows found are all there is to show.
        if inspect::socket_inodes(pid)
            .map_err(unreadable)?
            .is_subset(&found)
        {
            break;
        }
    }
    rows.sort_by_key(|r| r.fd);
    Ok(rows)
}

/// Exactly one socket (one inode: clones of it are the same socket), every descriptor of it
/// `right`.
pub fn one_socket(rows: &[SocketRow], right: impl Fn(&SocketRow) -> bool) -> bool {
    let inodes: BTreeSet<u64> = rows.iter().map(|r| r.inode).collect();
    inodes.len() == 1 && rows.iter().all(right)
}

/// What is wrong with two looks at a program, early and late in a long conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookProblem {
    /// More descriptors late than early, by more than [`LEAK_SLACK`].
    Leak,
    /// At one of the looks it held other sockets than the one it should.
    OtherSockets,
}

/// Judges two looks: first the descriptor count, then the sockets, each of which must be the
/// program's one socket and `right`.
pub fn judge_looks(
    first: &Look,
    last: &Look,
    right: impl Fn(&SocketRow) -> bool + Copy,
) -> Result<(), LookProblem> {
    if last.fds > first.fds + LEAK_SLACK {
        return Err(LookProblem::Leak);
    }
    if !one_socket(&first.sockets, right) || !one_socket(&last.sockets, right) {
        return Err(LookProblem::OtherSockets);
    }
    Ok(())
}

/// The outcome of looking at a program twice, at two replies held back by the server.
pub enum TwoLooks {
    /// Both looks were taken.
    Seen { first: Look, last: Look },
    /// The program exited, or never got to one of the holds: the usual diagnosis says why.
    NotReached,
    /// The program could not be looked at.
    Hidden(Hidden),
}

/// Looks at the program while the server holds the reply that `first` matches, releases it
/// (`first_gate`), then the same at `last`. Both gates are open when this returns, whatever
/// happened, so the program can finish.
pub fn look_at_two_holds<E: Clone>(
    run: &mut Run,
    journal: &Journal<E>,
    (first, first_gate): (impl Fn(&E) -> bool, &Gate),
    (last, last_gate): (impl Fn(&E) -> bool, &Gate),
) -> TwoLooks {
    let early = look_while_held(run, journal, first);
    first_gate.open();
    let late = match &early {
        Ok(Some(_)) => look_while_held(run, journal, last),
        _ => Ok(None),
    };
    last_gate.open();
    match (early, late) {
        (Err(hidden), _) | (_, Err(hidden)) => TwoLooks::Hidden(hidden),
        (Ok(Some(first)), Ok(Some(last))) => TwoLooks::Seen { first, last },
        _ => TwoLooks::NotReached,
    }
}

/// What a failure says about two looks that went wrong.
pub struct LookFailure {
    pub expected: String,
    pub actual: String,
    pub hint: Hint,
}

/// The verdict on two looks at a client at lines `first_line` and `last_line`, whose one socket
/// is `right` and is described to the learner as `socket_words`.
pub fn judge_client_looks(
    looks: (&Look, &Look),
    (first_line, last_line): (u64, u64),
    right: impl Fn(&SocketRow) -> bool + Copy,
    socket_words: &str,
    chapter: Chapter,
) -> Result<(), LookFailure> {
    let (first, last) = looks;
    match judge_looks(first, last, right) {
        Ok(()) => Ok(()),
        Err(LookProblem::Leak) => Err(LookFailure {
            expected: format!(
                "the same number of descriptors at line {first_line} and at line {last_line}"
            ),
            actual: format!(
                "{} descriptors at line {first_line}, {} at line {last_line}",
                first.fds, last.fds
            ),
            hint: Hint::DescriptorLeak { chapter },
        }),
        Err(LookProblem::OtherSockets) => Err(LookFailure {
            expected: format!(
                "while it waits for a reply, at line {first_line} and at line {last_line}: \
                 exactly one socket, {socket_words}"
            ),
            actual: "other sockets".into(),
            hint: Hint::SocketsHeld { chapter },
        }),
    }
}

/// The failure of a program that could not be looked at.
pub fn hidden_failure(hidden: &Hidden, chapter: Chapter) -> LookFailure {
    LookFailure {
        expected: "a program whose descriptors the grader can read in /proc".into(),
        actual: hidden.message().to_string(),
        hint: Hint::Uninspectable { chapter },
    }
}

/// Both looks, for a failure message.
pub fn looks_shown(first_at: &str, first: &Look, last_at: &str, last: &Look) -> String {
    format!(
        "{first_at} it had {} descriptors open and {}\n  {last_at} it had {} descriptors open \
         and {}",
        first.fds,
        sockets_shown(&first.sockets),
        last.fds,
        sockets_shown(&last.sockets)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process() {
        let me = std::process::id() as i32;
        readable(me).unwrap();
        let seen = look(me).unwrap();
        assert!(seen.fds >= 3);
    }

    #[test]
    fn sees_a_program_wait_for_its_input() {
        use crate::program::{Input, Run, Subject};
        let sh = Subject {
            exe: "/bin/sh".into(),
            shown_as: "sh".into(),
        };
        let run = Run::start(
            &sh,
            &["-c".into(), "echo ready; read line".into()],
            Input::Open,
        )
        .unwrap();
        assert!(run.wait_stdout_lines(1, Instant::now() + FINISH));
        // `read` is entered just after the echo: give it the moment it needs.
        let deadline = Instant::now() + FINISH;
        while !reads_standard_input(run.pid()).unwrap() {
            assert!(Instant::now() < deadline, "sh never read its input");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_leak_is_told_from_other_sockets() {
        let none = Look {
            fds: 4,
            sockets: vec![],
        };
        let grown = Look {
            fds: 4 + LEAK_SLACK + 1,
            sockets: vec![],
        };
        assert_eq!(judge_looks(&none, &grown, |_| true), Err(LookProblem::Leak));
        assert_eq!(
            judge_looks(&none, &none, |_| true),
            Err(LookProblem::OtherSockets)
        );
    }
}
