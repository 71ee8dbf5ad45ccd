//! The shared diagnosis: the rules that name a mistake from what happened, whatever the
//! exercise, each written once and asked in order, the most basic cause first.
//!
//! An exercise's checks ask these first and add only what is particular to their scenario.

use crate::hint::{Chapter, Hint};
use crate::program::{Ending, Outcome};

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
