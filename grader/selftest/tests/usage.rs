//! Every exercise and every solution, started with a command line no contract allows, prints one
//! usage line on standard error, nothing on standard output, and exits 2: run to completion with
//! `assert_cmd`, apart from the grader's own `usage_errors` checks, so that a mistake in those
//! cannot hide one in the programs.

use std::time::Duration;

use assert_cmd::Command;
use grader::manifest::EXERCISES;
use grader::target::{self, Target};
use predicates::prelude::*;

/// Too many arguments for every exercise's contract.
const TOO_MANY: [&str; 5] = ["127.0.0.1", "5000", "extra", "arguments", "here"];

/// A wrong command line ends at once; this only bounds a program that would not.
const DEADLINE: Duration = Duration::from_secs(10);

#[test]
fn wrong_usage_prints_one_line_and_exits_2() {
    for target in [Target::Exercises, Target::Solutions] {
        for exercise in EXERCISES {
            let source = target.source_file(exercise.name);
            let subject = target::build(target.package(), exercise.name, source.clone())
                .unwrap_or_else(|compiler| panic!("{source} does not build:\n{compiler}"));
            Command::new(&subject.exe)
                .args(TOO_MANY)
                .timeout(DEADLINE)
                .assert()
                .code(2)
                .stdout(predicate::str::is_empty())
                .stderr(predicate::function(|text: &str| {
                    text.lines().filter(|l| !l.trim().is_empty()).count() == 1
                }));
        }
    }
}
