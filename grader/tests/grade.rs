//! `cargo test -p grader`: grades every exercise; `cargo test -p grader -- NAME` grades one.
//!
//! First every selected exercise is built (before any check's clock starts); then each check is a
//! test, run in parallel with the others. An exercise that does not compile is one failing test
//! with the compiler's message; an untouched one is one failing test that says where to start.
//! After the checks, one line says how many exercises are done.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use grader::hint::Hint;
use grader::manifest::{EXERCISES, Exercise};
use grader::program::Subject;
use grader::target::{self, Target};
use libtest_mimic::{Arguments, Failed, Trial};

/// Checks wait on the network and on child processes, not on the CPU: run several at once.
const DEFAULT_THREADS: usize = 8;

/// Per exercise: how many of its checks failed (missing until one has run).
type Tally = Arc<Mutex<BTreeMap<&'static str, (usize, usize)>>>;

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    args.test_threads.get_or_insert(DEFAULT_THREADS);
    let target = match Target::from_env() {
        Ok(target) => target,
        Err(message) => {
            eprintln!("grader: {message}");
            return ExitCode::from(2);
        }
    };

    let tally: Tally = Arc::default();
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
        trials.extend(trials_for(exercise, target, &tally));
    }

    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        print_summary(&tally);
    }
    conclusion.exit_code()
}

/// The tests of one exercise: its checks, or a single test that says why they cannot run yet.
fn trials_for(exercise: &'static Exercise, target: Target, tally: &Tally) -> Vec<Trial> {
    let source = target.source_file(exercise.name);
    eprintln!("grader: building {source}");
    let subject = match target::build(target.package(), exercise.name, source.clone()) {
        Ok(subject) => subject,
        Err(compiler) => {
            tally.lock().unwrap().insert(exercise.name, (1, 1));
            let hint = Hint::DoesNotCompile {
                chapter: exercise.chapter,
            };
            let message = format!("{source} does not compile:\n{compiler}\nhint:     {hint}");
            return vec![Trial::test(
                format!("{}::compiles", exercise.name),
                move || Err(Failed::from(message)),
            )];
        }
    };

    if let Some(not_done) = untouched(exercise, &subject) {
        tally.lock().unwrap().insert(exercise.name, (1, 1));
        return vec![Trial::test(exercise.name.to_string(), move || {
            Err(Failed::from(not_done))
        })];
    }

    exercise
        .checks
        .iter()
        .map(|check| {
            let subject = subject.clone();
            let tally = Arc::clone(tally);
            let name = exercise.name;
            let run = check.run;
            Trial::test(format!("{name}::{}", check.name), move || {
                let result = run(&subject);
                let mut tally = tally.lock().unwrap();
                let entry = tally.entry(name).or_insert((0, 0));
                entry.1 += 1;
                match result {
                    Ok(()) => Ok(()),
                    Err(failure) => {
                        entry.0 += 1;
                        Err(Failed::from(failure.to_string()))
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

fn print_summary(tally: &Tally) {
    let tally = tally.lock().unwrap();
    if tally.is_empty() {
        return;
    }
    // In the book's order, which is the order a learner works in.
    let tally: Vec<(&str, (usize, usize))> = EXERCISES
        .iter()
        .filter_map(|e| tally.get(e.name).map(|counts| (e.name, *counts)))
        .collect();
    let done: Vec<&str> = tally
        .iter()
        .filter(|(_, (failed, _))| *failed == 0)
        .map(|(name, _)| *name)
        .collect();
    let todo: Vec<String> = tally
        .iter()
        .filter(|(_, (failed, _))| *failed > 0)
        .map(|(name, (failed, ran))| {
            if *ran > 1 {
                format!("{name} ({failed} of {ran} checks fail)")
            } else {
                name.to_string()
            }
        })
        .collect();
    let mut line = format!("socklab: {} of {} exercises done", done.len(), tally.len());
    if !done.is_empty() {
        line.push_str(&format!("; done: {}", done.join(", ")));
    }
    if !todo.is_empty() {
        line.push_str(&format!("; still to do: {}", todo.join(", ")));
    }
    println!("{line}");
}
