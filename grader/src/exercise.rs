//! The exercises the grader knows, their checks, and the mistakes every program can make.

use std::time::Duration;

use crate::failure::Failure;
use crate::hint::{Chapter, Hint};
use crate::program::{Ending, Outcome, Subject};
use crate::{daemon_check, echo_server, framed_client, sockstat, tcp_client, udp_client};

/// One exercise: a program the learner writes, and the checks it must pass.
pub struct Exercise {
    /// The binary's name, which is also its file's (`exercises/NAME.rs`) and the test filter.
    pub name: &'static str,
    pub chapter: Chapter,
    pub checks: &'static [Check],
}

/// One scenario, run against the learner's program.
pub struct Check {
    pub name: &'static str,
    pub run: fn(&Subject) -> Result<(), Box<Failure>>,
}

/// Every exercise, in the book's order.
pub fn catalog() -> Vec<&'static Exercise> {
    vec![
        &udp_client::EXERCISE,
        &tcp_client::EXERCISE,
        &sockstat::EXERCISE,
        &framed_client::EXERCISE,
        &echo_server::EXERCISE,
        &daemon_check::EXERCISE,
    ]
}

/// How long a program may take to finish a conversation that should take milliseconds. Only a
/// wrong program ever waits this long, so it is generous: a loaded machine must never fail a
/// correct program.
pub const FINISH: Duration = Duration::from_secs(8);

/// Mistakes any program can make, whatever the scenario: an untouched `todo!()`, a panic, a crash.
pub fn general_hint(outcome: &Outcome, chapter: Chapter) -> Option<Hint> {
    if let Some(message) = outcome.panic_message() {
        if message.contains("not yet implemented") {
            return Some(Hint::NotDone {
                location: todo_location(&message),
                chapter,
            });
        }
        return Some(Hint::Panicked { chapter });
    }
    if let Ending::Signalled(_) = outcome.ending {
        return Some(Hint::Crashed { chapter });
    }
    None
}

/// `exercises/udp_client.rs:42` (and the TODO's own words) from a panic message like
/// `thread 'main' panicked at exercises/udp_client.rs:42:9: not yet implemented: make a socket`.
fn todo_location(message: &str) -> String {
    let Some(rest) = message.split("panicked at ").nth(1) else {
        return "the file".to_string();
    };
    let place = rest
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(':');
    // file:line:column -> file:line
    let place = match place.rsplit_once(':') {
        Some((file_line, column)) if column.chars().all(|c| c.is_ascii_digit()) => file_line,
        _ => place,
    };
    match rest.split_once("not yet implemented: ") {
        Some((_, what)) if !what.trim().is_empty() => format!("{place} ({})", what.trim()),
        _ => place.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_todo_in_a_panic_message() {
        let message =
            "thread 'main' panicked at exercises/udp_client.rs:42:9: not yet implemented: bind";
        assert_eq!(todo_location(message), "exercises/udp_client.rs:42 (bind)");
        let bare = "thread 'main' panicked at exercises/tcp_client.rs:7:5: not yet implemented";
        assert_eq!(todo_location(bare), "exercises/tcp_client.rs:7");
    }
}
