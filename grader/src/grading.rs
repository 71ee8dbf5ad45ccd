//! One grading run, as `cargo test -p grader` does it: build the selected exercises before any
//! clock starts, run every check as a test (several at once), then print a report a learner
//! can act on and, last of all, the verdict.
//!
//! The report groups failures by their hint: one cause, one message. For each exercise, the first
//! failing check of a hint (checks are listed from the most basic) is shown in full; every other
//! check that failed for the same reason gets one line. The test harness's own `failures:` list
//! keeps one line per failing check, so `test result:` lines stay for CI to read.
//!
//! The exit status: grading the learner's exercises exits 0 once grading itself has worked,
//! whatever the verdict (a learner's unfinished course is not an error, and cargo would otherwise
//! print its own lines after the verdict); `SOCKLAB_STRICT=1`, or grading the solutions, exits 1
//! when any check fails, for scripts and CI.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};

use crate::failure::Failure;
use crate::hint::Hint;
use crate::manifest::{EXERCISES, Exercise};
use crate::program::Subject;
use crate::target::{self, Target};

/// Checks wait on the network, on child processes and on the contracts' own timers (three UDP
/// tries of 1 s each), not on the CPU: run many at once, so that grading takes about as long as
/// its slowest check.
const DEFAULT_THREADS: usize = 16;

/// What became of one check, or of an exercise that could not be graded at all.
#[derive(Clone)]
enum Verdict {
    Passed,
    Failed(Box<Failure>),
    /// It does not compile, or it is untouched: one message stands for every check.
    NotGraded(String),
}

/// Per exercise, per check (by its place in the manifest): the verdicts of this run.
type Results = Arc<Mutex<BTreeMap<&'static str, BTreeMap<usize, (&'static str, Verdict)>>>>;

/// Runs `cargo test -p grader` with the command line's arguments.
pub fn main() -> ExitCode {
    crate::interrupt::end_children_on_interrupt();
    let mut args = Arguments::from_args();
    args.test_threads.get_or_insert(DEFAULT_THREADS);
    let target = match Target::from_env() {
        Ok(target) => target,
        Err(message) => {
            eprintln!("grader: {message}");
            return ExitCode::from(2);
        }
    };
    let strict = target == Target::Solutions
        || std::env::var("SOCKLAB_STRICT").is_ok_and(|v| !v.is_empty() && v != "0");

    let results: Results = Arc::default();
    let mut trials = Vec::new();
    for exercise in EXERCISES {
        let names: Vec<Trial> = exercise
            .checks
            .iter()
            .map(|c| Trial::test(format!("{}::{}", exercise.name, c.name), || Ok(())))
            .collect();
        if names.iter().all(|t| args.is_filtered_out(t)) {
            continue;
        }
        if args.list {
            // Listing builds and runs nothing.
            trials.extend(names);
            continue;
        }
        trials.extend(trials_for(exercise, target, &results));
    }

    let conclusion = libtest_mimic::run(&args, trials);
    if args.list {
        return conclusion.exit_code();
    }
    let results = results.lock().unwrap_or_else(|p| p.into_inner());
    print!("{}", report(&results));
    println!("{}", verdict_line(&results));
    if conclusion.has_failed() && strict {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The tests of one exercise: its checks, or a single test that says why they cannot run yet.
fn trials_for(exercise: &'static Exercise, target: Target, results: &Results) -> Vec<Trial> {
    let source = target.source_file(exercise.name);
    eprintln!("grader: building {source}");
    let record = {
        let results = Arc::clone(results);
        move |index: usize, check: &'static str, verdict: Verdict| {
            results
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(exercise.name)
                .or_default()
                .insert(index, (check, verdict));
        }
    };
    let subject = match target::build(target.package(), exercise.name, source.clone()) {
        Ok(subject) => subject,
        Err(compiler) => {
            let hint = Hint::DoesNotCompile {
                chapter: exercise.chapter,
            };
            let message = format!("{source} does not compile:\n{compiler}\nhint:     {hint}");
            record(0, "compiles", Verdict::NotGraded(message.clone()));
            return vec![Trial::test(
                format!("{}::compiles", exercise.name),
                move || Err(Failed::from(message)),
            )];
        }
    };

    if let Some(not_done) = untouched(exercise, &subject) {
        record(
            0,
            exercise.checks[0].name,
            Verdict::NotGraded(not_done.clone()),
        );
        return vec![Trial::test(exercise.name.to_string(), move || {
            Err(Failed::from(not_done))
        })];
    }

    exercise
        .checks
        .iter()
        .enumerate()
        .map(|(index, check)| {
            let subject = subject.clone();
            let record = record.clone();
            let run = check.run;
            let name = check.name;
            Trial::test(format!("{}::{name}", exercise.name), move || {
                match run(&subject) {
                    Ok(()) => {
                        record(index, name, Verdict::Passed);
                        Ok(())
                    }
                    Err(failure) => {
                        let line = format!("{} (the report below says why)", failure.hint.name());
                        record(index, name, Verdict::Failed(failure));
                        Err(Failed::from(line))
                    }
                }
            })
        })
        .collect()
}

/// Runs the first check once: if the program stops at an untouched `todo!()`, grading it further
/// would only repeat "not done yet" for every check.
fn untouched(exercise: &Exercise, subject: &Subject) -> Option<String> {
    let first = exercise.checks.first()?;
    let failure = (first.run)(subject).err()?;
    match &failure.hint {
        hint @ Hint::NotDone { .. } => Some(format!("{hint}")),
        // It got past its TODOs, or some of them: the checks will say the rest.
        _ => None,
    }
}

/// What a learner reads after the tests: per exercise that failed, one full failure per cause.
fn report(results: &BTreeMap<&'static str, BTreeMap<usize, (&'static str, Verdict)>>) -> String {
    let mut out = String::new();
    for exercise in EXERCISES {
        let Some(checks) = results.get(exercise.name) else {
            continue;
        };
        let failed: Vec<(&str, &Verdict)> = checks
            .values()
            .filter(|(_, v)| !matches!(v, Verdict::Passed))
            .map(|(name, v)| (*name, v))
            .collect();
        if failed.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n==== {} (chapter {}, \"{}\") ====\n",
            exercise.name, exercise.chapter.number, exercise.chapter.title
        ));
        // Grouped by hint, in the order of each hint's first (most basic) failing check.
        let mut groups: Vec<(Hint, &str, &Failure, Vec<&str>)> = Vec::new();
        for (name, verdict) in &failed {
            match verdict {
                Verdict::NotGraded(message) => out.push_str(&format!("{message}\n")),
                Verdict::Failed(failure) => {
                    match groups.iter_mut().find(|(h, ..)| *h == failure.hint) {
                        Some((_, _, _, others)) => others.push(name),
                        None => groups.push((failure.hint.clone(), name, failure, Vec::new())),
                    }
                }
                Verdict::Passed => {}
            }
        }
        for (_, name, failure, others) in groups {
            out.push_str(&format!("---- {}::{name} ----\n{failure}\n", exercise.name));
            if !others.is_empty() {
                out.push_str(&format!(
                    "     and for the same reason: {}\n",
                    others.join(", ")
                ));
            }
        }
    }
    out
}

/// The last line: how much of the whole course is done, as far as this run can tell.
fn verdict_line(
    results: &BTreeMap<&'static str, BTreeMap<usize, (&'static str, Verdict)>>,
) -> String {
    let graded: Vec<&Exercise> = EXERCISES
        .iter()
        .filter(|e| results.contains_key(e.name))
        .collect();
    let done: Vec<&str> = graded
        .iter()
        .filter(|e| {
            results[e.name].len() == e.checks.len()
                && results[e.name]
                    .values()
                    .all(|(_, v)| matches!(v, Verdict::Passed))
        })
        .map(|e| e.name)
        .collect();
    let todo: Vec<String> = graded
        .iter()
        .filter(|e| !done.contains(&e.name))
        .map(|e| {
            let ran = &results[e.name];
            let failed = ran
                .values()
                .filter(|(_, v)| !matches!(v, Verdict::Passed))
                .count();
            match ran.values().next() {
                Some((_, Verdict::NotGraded(_))) => e.name.to_string(),
                _ if failed == 0 => format!(
                    "{} ({} of its {} checks run, all pass)",
                    e.name,
                    ran.len(),
                    e.checks.len()
                ),
                _ => format!("{} ({failed} of {} checks fail)", e.name, ran.len()),
            }
        })
        .collect();
    let all = EXERCISES.len();
    if graded.len() == all {
        let mut line = format!("socklab: {} of {all} exercises done", done.len());
        if !todo.is_empty() {
            line.push_str(&format!("; still to do: {}", todo.join(", ")));
        }
        line
    } else {
        let names: Vec<&str> = graded.iter().map(|e| e.name).collect();
        let mut line = format!(
            "socklab: graded {} of the course's {all} exercises this run ({}): {} done",
            graded.len(),
            names.join(", "),
            done.len()
        );
        if !todo.is_empty() {
            line.push_str(&format!("; still to do: {}", todo.join(", ")));
        }
        line.push_str(" (`cargo test -p grader` grades them all)");
        line
    }
}
