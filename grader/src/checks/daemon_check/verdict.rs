//! The verdict a world calls for, and judging a run of the program against it: its one line,
//! its exit status, its time, and the probe connections the grader's listener saw.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, describe, quote_lines};
use crate::hint::{CH_DAEMONS, Hint};
use crate::listeners::{ConnEnd, Watched};
use crate::other_user::AsAnotherUser;
use crate::program::{Ending, Input, Outcome, Run, Subject};
use crate::temp_dir::TempDir;

/// The contract's limit for the whole check.
pub(super) const BUDGET: Duration = Duration::from_secs(2);
/// What a loaded machine may add to it to start the program: past this, the check took too long.
pub(super) const SLACK: Duration = Duration::from_millis(1500);

pub(super) fn setup(message: impl Into<String>) -> Box<Failure> {
    Failure::setup(CH_DAEMONS, message.into())
}

/// What the world calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Expect {
    Running {
        pid: i32,
        port: u16,
    },
    Not(&'static str),
    /// No verdict can be proved: one line on standard error, exit status 1.
    CheckFails,
}

impl Expect {
    /// The line on standard output; none when the check itself fails.
    fn line(&self) -> Option<String> {
        match self {
            Expect::Running { pid, port } => Some(format!("running {pid} {port}")),
            Expect::Not(reason) => Some(format!("not running: {reason}")),
            Expect::CheckFails => None,
        }
    }

    fn status(&self) -> i32 {
        match self {
            Expect::Running { .. } => 0,
            Expect::Not(_) | Expect::CheckFails => 1,
        }
    }
}

/// What is behind the pid file's port, as far as the grader sees the probe.
pub(super) enum Behind<'a> {
    /// The grader's listener, which accepts and records how each connection ends.
    Watched(&'a Watched),
    /// A listener whose backlog is full: a probe gets no answer at all.
    FullBacklog,
    /// Nothing the grader watches.
    Unwatched,
}

/// What the grader's listener saw of the program's probe connections, where it watches them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProbeSeen {
    /// Each ended in order, with nothing sent; or none was needed.
    Fine,
    /// A verdict of `running` without any connection.
    Missing,
    SentData,
    Reset,
}

/// One world and the verdict it calls for.
pub(super) struct Case<'a> {
    pub scenario: &'a str,
    /// What the pid file holds, as shown to the learner.
    pub pidfile: &'a str,
    pub expect: Expect,
    pub behind: Behind<'a>,
}

pub(super) fn run_check(subject: &Subject, pidfile: &Path) -> Result<Outcome, Box<Failure>> {
    let run = Run::start(
        subject,
        &[pidfile.display().to_string()],
        Input::Lines(vec![]),
    )
    .map_err(|e| setup(format!("could not start {}: {e}", subject.shown_as)))?;
    Ok(run.finish(Instant::now() + BUDGET + SLACK))
}

/// As [`run_check`], but as another user than the processes the grader starts (as root: as
/// `nobody`).
pub(super) fn run_check_as_another_user(
    subject: &Subject,
    pidfile: &Path,
) -> Result<Outcome, Box<Failure>> {
    AsAnotherUser::start(subject, &[pidfile.display().to_string()])
        .and_then(|run| run.finish(Instant::now() + BUDGET + SLACK))
        .map_err(setup)
}

/// Compares the outcome with the verdict, and the probe connections with the contract.
pub(super) fn judge(case: &Case, outcome: &Outcome) -> Result<(), Box<Failure>> {
    let printed = outcome.stdout_lines();
    let right_line = match case.expect.line() {
        Some(line) => printed == [line],
        None => printed.is_empty(),
    };
    let stderr = outcome
        .stderr
        .iter()
        .filter(|p| !p.text.trim().is_empty())
        .count();
    let in_time = matches!(outcome.ending, Ending::Exited(_)) && outcome.elapsed <= BUDGET + SLACK;
    let right_end = outcome.ending == Ending::Exited(case.expect.status())
        && (case.expect != Expect::CheckFails || stderr == 1);
    // A verdict of `running` needs a probe: wait until one has been accepted and has ended.
    let probes = usize::from(matches!(case.expect, Expect::Running { .. }));
    let endings = match case.behind {
        Behind::Watched(w) if in_time => w.wait_ended(probes, Instant::now() + BUDGET),
        Behind::Watched(w) => w.endings(),
        _ => vec![],
    };
    let probe = if probes > 0 && matches!(case.behind, Behind::Watched(_)) && endings.is_empty() {
        ProbeSeen::Missing
    } else if endings.contains(&ConnEnd::SentData) {
        ProbeSeen::SentData
    } else if endings.iter().any(|e| matches!(e, ConnEnd::Reset(_))) {
        ProbeSeen::Reset
    } else {
        ProbeSeen::Fine
    };
    if right_line && in_time && right_end && probe == ProbeSeen::Fine {
        return Ok(());
    }
    let hint = diagnose(case, outcome, right_line, probe);
    let mut transcript = Transcript::of(outcome);
    for ending in &endings {
        match ending {
            ConnEnd::Orderly(at) => transcript.server(*at, "probe connection: read end of stream"),
            ConnEnd::Reset(at) => transcript.server(*at, "probe connection: reset"),
            _ => {}
        }
    }
    let within = BUDGET.as_secs();
    let expected = match case.expect.line() {
        Some(line) if probes > 0 => format!(
            "{line:?} on standard output, exit status 0, within {within} s, after a probe \
             connection to the port, closed in order"
        ),
        Some(line) => format!(
            "{line:?} on standard output, exit status {}, within {within} s, any probe closed in \
             order",
            case.expect.status()
        ),
        None => format!(
            "no verdict on standard output, one line on standard error that says why, exit \
             status 1, within {within} s"
        ),
    };
    let mut actual = describe(outcome);
    if case.expect == Expect::CheckFails {
        actual.push_str(&format!(
            "; standard error: {}",
            quote_lines(
                &outcome
                    .stderr
                    .iter()
                    .map(|p| p.text.as_str())
                    .collect::<Vec<_>>()
            )
        ));
    }
    actual.push_str(match probe {
        ProbeSeen::Fine => "",
        ProbeSeen::Missing => "; no connection to the port was made",
        ProbeSeen::SentData => "; the probe connection sent bytes to the daemon",
        ProbeSeen::Reset => "; the probe connection was reset",
    });
    Err(Box::new(Failure {
        scenario: case.scenario.to_string(),
        command: format!(
            "{}   (the pid file holds {:?})",
            outcome.command, case.pidfile
        ),
        transcript,
        expected,
        actual,
        hint,
    }))
}

/// The mistake, the most basic first.
fn diagnose(case: &Case, outcome: &Outcome, right_line: bool, probe: ProbeSeen) -> Hint {
    if let Some(hint) = general_hint(outcome, CH_DAEMONS) {
        return hint;
    }
    if outcome.ending == Ending::StillRunning || outcome.elapsed > BUDGET + SLACK {
        return match case.behind {
            _ if right_line => Hint::DaemonProbeLeftOpen,
            Behind::FullBacklog => Hint::DaemonConnectNoTimeout,
            _ => Hint::Hung {
                chapter: CH_DAEMONS,
            },
        };
    }
    let said = outcome.stdout_lines().first().cloned().unwrap_or_default();
    match (&case.expect, said.as_str()) {
        (Expect::Not("not listening") | Expect::CheckFails, "not running: no such process") => {
            Hint::DaemonEpermMeansAlive
        }
        (Expect::CheckFails, "") => Hint::ErrorNotReported {
            chapter: CH_DAEMONS,
        },
        (Expect::CheckFails, _) => Hint::DaemonGuessedOwner,
        (Expect::Not("port held by another process"), s) if s.starts_with("running") => {
            Hint::DaemonConnectProvesNothing
        }
        (Expect::Not("not listening"), s) if s.starts_with("running") => {
            Hint::DaemonAliveIsNotListening
        }
        _ if right_line && probe == ProbeSeen::Missing => Hint::DaemonNoProbe,
        _ if right_line && probe == ProbeSeen::SentData => Hint::DaemonProbeSentData,
        _ if right_line && probe == ProbeSeen::Reset => Hint::DaemonProbeReset,
        _ => Hint::DaemonWrongVerdict,
    }
}

pub(super) fn me() -> i32 {
    std::process::id() as i32
}

/// Writes `text` as the pid file, runs the program on it, and judges the outcome.
pub(super) fn simple(
    subject: &Subject,
    scenario: &str,
    text: &str,
    expect: Expect,
    behind: Behind,
) -> Result<(), Box<Failure>> {
    let dir = folder()?;
    let pidfile = dir
        .write("daemon.pid", text)
        .map_err(|e| setup(format!("cannot write the pid file: {e}")))?;
    let outcome = run_check(subject, &pidfile)?;
    judge(
        &Case {
            scenario,
            pidfile: text,
            expect,
            behind,
        },
        &outcome,
    )
}

pub(super) fn watched(accept: bool) -> Result<Watched, Box<Failure>> {
    Watched::start(accept).map_err(|e| setup(format!("cannot listen on 127.0.0.1:0: {e}")))
}

/// Judges a run whose probe connections the grader does not see.
pub(super) fn judge_unwatched(
    scenario: &str,
    pidfile: &str,
    expect: Expect,
    outcome: &Outcome,
) -> Result<(), Box<Failure>> {
    let behind = Behind::Unwatched;
    judge(
        &Case {
            scenario,
            pidfile,
            expect,
            behind,
        },
        outcome,
    )
}

/// A folder of the check's own for its pid files.
pub(super) fn folder() -> Result<TempDir, Box<Failure>> {
    TempDir::new("daemon-check").map_err(|e| setup(format!("cannot make a folder: {e}")))
}
