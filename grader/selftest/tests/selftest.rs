//! The grader is graded: every solution passes every check, every untouched exercise fails with
//! "not done yet", every known-bad program fails with the hint for its mistake, and correct
//! programs written in another style pass.
//!
//! The known-bad and other-style programs are this package's binaries (`src/bin/`), so Cargo
//! builds them for this test. Exercises and solutions are built the way the grader builds them.

use std::process::ExitCode;
use std::thread;

use grader::failure::Failure;
use grader::hint::{self, Hint};
use grader::manifest::{EXERCISES, Exercise, find};
use grader::program::Subject;
use grader::target::{self, Target};
use libtest_mimic::{Arguments, Failed, Trial};

/// Each trial runs all the checks of one program at once: keep the number of programs at once low
/// so that a loaded two-core machine still keeps every timing a correct program needs.
const DEFAULT_THREADS: usize = 3;

/// A program of this package, and what the grader must make of it. Each program says so itself,
/// in a header line `//! selftest: EXERCISE rejects with HINT` (a known-bad program: the grader
/// must fail it with that hint) or `//! selftest: EXERCISE accepts` (a correct program in
/// another style: the grader must pass it). Adding a program is adding one file.
struct Declared {
    exercise: &'static Exercise,
    subject: Subject,
    /// The hint's variant name, for a known-bad program.
    rejects_with: Option<String>,
}

/// Every program in `src/bin/`, read from its header.
fn declared() -> Result<Vec<Declared>, String> {
    let root = target::workspace_root().join("grader/selftest/src/bin");
    // Cargo builds every binary of this package for its tests, all into one folder.
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_udp_fake"))
        .parent()
        .expect("a folder")
        .to_path_buf();
    let mut found = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&root)
        .map_err(|e| format!("{}: {e}", root.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    entries.sort();
    for path in entries {
        let bin = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{bin}: {e}"))?;
        let Some(line) = text.lines().find_map(|l| l.strip_prefix("//! selftest: ")) else {
            return Err(format!("src/bin/{bin}.rs has no `//! selftest:` line"));
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let (exercise, rejects_with) = match words.as_slice() {
            [exercise, "accepts"] => (*exercise, None),
            [exercise, "rejects", "with", hint] => (*exercise, Some(hint.to_string())),
            _ => return Err(format!("src/bin/{bin}.rs: cannot read `selftest: {line}`")),
        };
        let exercise =
            find(exercise).ok_or_else(|| format!("src/bin/{bin}.rs: no exercise {exercise}"))?;
        found.push(Declared {
            exercise,
            subject: Subject {
                exe: bin_dir.join(&bin),
                shown_as: format!("grader/selftest/src/bin/{bin}.rs"),
            },
            rejects_with,
        });
    }
    Ok(found)
}

/// The check every exercise has for its command line, which its stub already gets right.
const USAGE_CHECK: &str = "usage_errors";

/// Hints that no known-bad program of this package earns, and why they need none.
const EARNED_ELSEWHERE: &[(&str, &str)] = &[
    (
        "NotDone",
        "every untouched exercise earns it (untouched_exercise_fails)",
    ),
    (
        "DoesNotCompile",
        "earned by a program that does not compile: see grader/tests/grade.rs",
    ),
    ("Setup", "the grader's own failure, never the learner's"),
];

/// Every hint is earned by some known-bad program: a hint no program earns is a promise the
/// grader has never shown it keeps.
fn every_hint_is_earned(earned: &[String]) -> Result<(), Failed> {
    let missing: Vec<String> = hint::variant_names()
        .into_iter()
        .filter(|name| !EARNED_ELSEWHERE.iter().any(|(n, _)| n == name) && !earned.contains(name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no known-bad program earns these hints: {missing:?}").into())
    }
}

#[path = "parts/interrupted.rs"]
mod interrupted;

fn main() -> ExitCode {
    // In this role, the binary is a grading run that `interrupted` stops half-way.
    if std::env::var_os(interrupted::ROLE).is_some() {
        return grader::grading::main();
    }
    grader::interrupt::end_children_on_interrupt();
    let mut args = Arguments::from_args();
    args.test_threads.get_or_insert(DEFAULT_THREADS);
    let mut trials = Vec::new();
    for exercise in EXERCISES {
        trials.push(Trial::test(
            format!("solution_passes::{}", exercise.name),
            move || {
                let subject = build(Target::Solutions, exercise.name)?;
                expect_pass(exercise, &subject)
            },
        ));
        trials.push(Trial::test(
            format!("untouched_exercise_fails::{}", exercise.name),
            move || {
                let subject = build(Target::Exercises, exercise.name)?;
                expect_not_done(exercise, &subject)
            },
        ));
        trials.push(Trial::test(
            format!("headers_match::{}", exercise.name),
            move || same_header(exercise.name),
        ));
    }
    let programs = match declared() {
        Ok(programs) => programs,
        Err(message) => {
            eprintln!("selftest: {message}");
            return ExitCode::FAILURE;
        }
    };
    trials.push(Trial::test(
        "interrupted_grading_leaves_nothing_behind",
        interrupted::leaves_nothing_behind,
    ));
    let earned: Vec<String> = programs
        .iter()
        .filter_map(|p| p.rejects_with.clone())
        .collect();
    trials.push(Trial::test("every_hint_is_earned", move || {
        every_hint_is_earned(&earned)
    }));
    for program in programs {
        let name = bin_name(&program.subject);
        match program.rejects_with {
            Some(hint) => trials.push(Trial::test(
                format!("known_bad_is_rejected::{name}"),
                move || expect_hint(program.exercise, &program.subject, &hint),
            )),
            None => trials.push(Trial::test(
                format!("other_style_passes::{name}"),
                move || expect_pass(program.exercise, &program.subject),
            )),
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let leftovers = leftover_processes();
    if !leftovers.is_empty() {
        eprintln!("selftest: processes left running after the checks: {leftovers:?}");
        return ExitCode::FAILURE;
    }
    conclusion.exit_code()
}

/// Processes still running a program the checks started: every one must have been killed and
/// reaped, whatever the check's result.
fn leftover_processes() -> Vec<(u32, std::path::PathBuf)> {
    let mine = [
        target::workspace_root().join("target").join("socklab"),
        std::path::PathBuf::from(env!("CARGO_BIN_EXE_udp_fake"))
            .parent()
            .expect("a folder")
            .to_path_buf(),
    ];
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
            (pid != me && mine.iter().any(|dir| exe.starts_with(dir))).then_some((pid, exe))
        })
        .collect()
}

fn build(target: Target, name: &str) -> Result<Subject, Failed> {
    target::build(target.package(), name, target.source_file(name))
        .map_err(|compiler| Failed::from(format!("{name} does not build:\n{compiler}")))
}

fn bin_name(subject: &Subject) -> String {
    subject
        .exe
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Runs every check of `exercise` at once and returns each one's result.
fn run_all(
    exercise: &Exercise,
    subject: &Subject,
) -> Vec<(&'static str, Result<(), Box<Failure>>)> {
    thread::scope(|scope| {
        let handles: Vec<_> = exercise
            .checks
            .iter()
            .map(|check| scope.spawn(move || (check.name, (check.run)(subject))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a check panicked"))
            .collect()
    })
}

fn expect_pass(exercise: &Exercise, subject: &Subject) -> Result<(), Failed> {
    let failures: Vec<String> = run_all(exercise, subject)
        .into_iter()
        .filter_map(|(name, result)| result.err().map(|f| format!("---- {name} ----\n{f}")))
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} should pass every check:\n{}",
            subject.shown_as,
            failures.join("\n")
        )
        .into())
    }
}

fn expect_not_done(exercise: &Exercise, subject: &Subject) -> Result<(), Failed> {
    let results = run_all(exercise, subject);
    let mut passed = Vec::new();
    for (name, result) in &results {
        match result {
            // The stubs come with their command-line parsing done: wrong usage is not a TODO.
            Ok(()) if *name == USAGE_CHECK => {}
            Ok(()) => passed.push(*name),
            Err(failure) => {
                if let Hint::NotDone { location, .. } = &failure.hint {
                    let file = format!("exercises/{}.rs:", exercise.name);
                    if !location.starts_with(&file) {
                        return Err(format!(
                            "{name}: the TODO's place should be in {file}, not {location}"
                        )
                        .into());
                    }
                }
            }
        }
    }
    if !passed.is_empty() {
        return Err(format!("the untouched {} passes {passed:?}", subject.shown_as).into());
    }
    match &results[0].1 {
        Err(failure) if matches!(failure.hint, Hint::NotDone { .. }) => Ok(()),
        Err(failure) => {
            Err(format!("the first check should say \"not done yet\", it said:\n{failure}").into())
        }
        Ok(()) => unreachable!("no check passed"),
    }
}

fn expect_hint(exercise: &Exercise, subject: &Subject, hint: &str) -> Result<(), Failed> {
    let results = run_all(exercise, subject);
    let hints: Vec<(&str, Hint)> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|f| (*name, f.hint.clone())))
        .collect();
    // A hint that names a chapter must name the exercise's own.
    if hints
        .iter()
        .any(|(_, h)| h.name() == hint && h.chapter() == exercise.chapter)
    {
        return Ok(());
    }
    let seen: Vec<String> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|f| format!("---- {name} ----\n{f}")))
        .collect();
    Err(format!(
        "{} should fail with the hint {hint}; it failed {} checks with other hints: {:?}\n{}",
        subject.shown_as,
        hints.len(),
        hints,
        seen.join("\n")
    )
    .into())
}

/// An exercise and its solution start with the same header, contract included.
fn same_header(name: &str) -> Result<(), Failed> {
    let root = target::workspace_root();
    let header = |package: &str| -> Result<String, Failed> {
        let text = std::fs::read_to_string(root.join(package).join(format!("{name}.rs")))
            .map_err(|e| Failed::from(format!("{package}/{name}.rs: {e}")))?;
        Ok(text
            .lines()
            .take_while(|l| l.starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n"))
    };
    let (exercise, solution) = (header("exercises")?, header("solutions")?);
    if exercise.is_empty() || !exercise.contains("ANCHOR: contract") {
        return Err(format!("exercises/{name}.rs has no header with its contract").into());
    }
    if exercise != solution {
        return Err(
            format!("the headers of exercises/{name}.rs and solutions/{name}.rs differ").into(),
        );
    }
    Ok(())
}
