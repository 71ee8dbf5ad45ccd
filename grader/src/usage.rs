//! The contract sentence every program shares: "Wrong usage prints a usage line on standard
//! error and exits 2." One check, run with each exercise's own wrong command lines.

use std::time::Instant;

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, describe, quote_lines};
use crate::hint::{Chapter, Hint};
use crate::program::{Ending, FINISH, Input, Run, Subject};

/// Runs `subject` with each of `cases` (wrong command lines) and no input: each must print
/// nothing on standard output, exactly one line on standard error, and exit with status 2.
pub fn check(subject: &Subject, chapter: Chapter, cases: &[&[&str]]) -> Result<(), Box<Failure>> {
    for case in cases {
        let args: Vec<String> = case.iter().map(|a| a.to_string()).collect();
        let run = Run::start(subject, &args, Input::Lines(Vec::new())).map_err(|e| {
            Failure::setup(
                chapter,
                format!("could not start {}: {e}", subject.shown_as),
            )
        })?;
        let outcome = run.finish(Instant::now() + FINISH);
        let stderr: Vec<String> = outcome
            .stderr
            .iter()
            .map(|p| p.text.clone())
            .filter(|l| !l.trim().is_empty())
            .collect();
        let right =
            outcome.ending == Ending::Exited(2) && outcome.stdout.is_empty() && stderr.len() == 1;
        if right {
            continue;
        }
        let hint = general_hint(&outcome, chapter).unwrap_or(Hint::UsageNotReported { chapter });
        let shown = if args.is_empty() {
            "no arguments at all".to_string()
        } else {
            format!("the arguments {}", quote_lines(&args))
        };
        return Err(Box::new(Failure {
            scenario: format!(
                "the program is started with {shown}, which its contract does not allow"
            ),
            command: outcome.command.clone(),
            transcript: Transcript::of(&outcome),
            expected:
                "a usage line on standard error (one line), nothing on standard output, exit \
                       status 2"
                    .into(),
            actual: format!(
                "{}; standard error: {}",
                describe(&outcome),
                quote_lines(&stderr)
            ),
            hint,
        }));
    }
    Ok(())
}
