//! Malformed pid files, a dozen ways, each run on its own and all reported in one failure that
//! names what is malformed in each file the program took for a good one.

use std::thread;

use super::verdict::{BUDGET, SLACK, folder, run_check, setup};
use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, describe};
use crate::hint::{CH_DAEMONS, Hint};
use crate::program::{Ending, Outcome, Subject};

/// The verdict every one of them calls for.
const MALFORMED: &str = "not running: malformed pid file";

/// Each pid file and what is malformed in it, for a live `pid` and a `port` something accepts on,
/// so that only the parsing can tell.
fn cases(pid: i32, port: u16) -> Vec<(String, &'static str)> {
    vec![
        (String::new(), "an empty file"),
        ("\n".into(), "an empty line"),
        ("garbage\n".into(), "no `;`: not PID;PORT at all"),
        (format!("{pid}\n"), "a pid and no port"),
        (format!("{pid};{port};7\n"), "a third field"),
        (
            format!("-{pid};{port}\n"),
            "a negative pid (kill(-N, 0) asks about process group N)",
        ),
        (
            format!("0;{port}\n"),
            "pid 0 (kill(0, 0) asks about your own process group)",
        ),
        (format!("99999999999;{port}\n"), "a pid too big for a pid_t"),
        (format!("{pid};0\n"), "port 0"),
        (
            format!("{pid};{}\n", 65536 + u32::from(port)),
            "a port over 65535 (as a u16 it wraps round to the real port)",
        ),
        (format!("{pid},{port}\n"), "a comma, not `;`"),
        (format!("{pid};{port}x\n"), "a letter after the port"),
    ]
}

/// Runs the program on every malformed pid file at once; one failure lists every one it took.
pub fn check(subject: &Subject, pid: i32, port: u16) -> Result<(), Box<Failure>> {
    let cases = cases(pid, port);
    let dir = folder()?;
    let mut files = Vec::new();
    for (k, (text, _)) in cases.iter().enumerate() {
        let path = dir
            .write(&format!("daemon{k}.pid"), text)
            .map_err(|e| setup(format!("cannot write a pid file: {e}")))?;
        files.push(path);
    }
    let outcomes: Vec<Outcome> = thread::scope(|scope| {
        let runs: Vec<_> = files
            .iter()
            .map(|path| scope.spawn(move || run_check(subject, path)))
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a run panicked"))
            .collect::<Result<_, _>>()
    })?;
    let wrong: Vec<(usize, &Outcome)> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.stdout_lines() != [MALFORMED]
                || o.ending != Ending::Exited(1)
                || o.elapsed > BUDGET + SLACK
        })
        .collect();
    let Some(&(_, first)) = wrong.first() else {
        return Ok(());
    };
    let hint = wrong
        .iter()
        .find_map(|(_, o)| general_hint(o, CH_DAEMONS))
        .unwrap_or(if first.ending == Ending::StillRunning {
            Hint::Hung {
                chapter: CH_DAEMONS,
            }
        } else {
            Hint::DaemonMalformedAccepted
        });
    let listed: Vec<String> = wrong
        .iter()
        .map(|(k, o)| {
            let (text, what) = &cases[*k];
            format!("- {what}: {text:?} -> {}", describe(o))
        })
        .collect();
    Err(Box::new(Failure {
        scenario: format!(
            "{} malformed pid files, one run each (a live process and a live listener behind \
             every number, so that only the parsing can tell)",
            cases.len()
        ),
        command: format!(
            "{}   (the first of the pid files below: {:?})",
            first.command, cases[wrong[0].0].0
        ),
        transcript: Transcript::of(first),
        expected: format!("for every one, {MALFORMED:?} on standard output and exit status 1"),
        actual: format!(
            "{} of them were taken otherwise:\n  {}",
            wrong.len(),
            listed.join("\n  ")
        ),
        hint,
    }))
}
