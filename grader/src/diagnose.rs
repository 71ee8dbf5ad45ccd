//! The shared diagnosis: the rules that name a mistake from what happened, whatever the
//! exercise, each written once and asked in order, the most basic cause first.
//!
//! An exercise's checks ask these first and add only what is particular to their scenario.

use std::time::{Duration, Instant};

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

/// How far a conversation over a stream got, as its server saw it: what a program that had to be
/// stopped is diagnosed from, before anything is said about how it ended.
#[derive(Clone, Debug)]
pub struct Progress {
    /// The requests the program was given (its input lines).
    pub due: usize,
    /// When the server had each whole request (a line with its newline, a whole frame), in order.
    pub received_at: Vec<Instant>,
    /// The replies the server sent to those requests.
    pub answered: usize,
    /// The replies the program printed.
    pub printed: usize,
    /// The server read the program's end of stream (its half-close) while the program ran.
    pub half_closed: bool,
    pub ending: Ending,
}

/// Where a program that was still running when the grader stopped it had got stuck, from the
/// most basic cause to the last step of the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stuck {
    /// The server never had one whole request: nothing was sent, or a request never ended (a
    /// line without its newline).
    NoWholeRequest,
    /// Some requests came, most of them a delayed acknowledgement after the one before: every
    /// request was written in two pieces, and the second waited (Nagle's algorithm).
    SplitWrites { received: usize, median: Duration },
    /// It stopped sending after `received` requests, for no reason the server can see.
    Midway { received: usize },
    /// Every request was answered, and the program did not print every reply: it waits for
    /// something else than a reply.
    RepliesUnprinted { printed: usize },
    /// Every request was answered, and the server never read an end of stream.
    NoHalfClose,
    /// It half-closed, the server said its last words and closed, and the program did not end.
    NoDrain,
}

/// A delayed acknowledgement waits 40 ms on Linux (measured here: 42 to 48 ms per line for a
/// client that writes a line and its newline apart, against 0.05 ms in one write). No correct
/// client on loopback waits this long between most of its requests, however loaded the machine.
pub const DELAYED_ACK: Duration = Duration::from_millis(30);
/// Fewer gaps than this say nothing about a steady pace.
const STEADY_GAPS: usize = 8;
/// Only the last requests count: an early one may have been held back on purpose.
const GAPS_LOOKED_AT: usize = 50;

/// The median of the last gaps between two requests, when it is at least a delayed
/// acknowledgement ([`DELAYED_ACK`]): the sign of requests written in two pieces. The median,
/// because a few requests go through at once whatever the writes (at the start of a connection
/// the receiver acknowledges at once), and a loaded machine stretches a few of a correct
/// program's.
pub fn split_writes(received_at: &[Instant]) -> Option<Duration> {
    let gaps: Vec<Duration> = received_at
        .windows(2)
        .map(|w| w[1].saturating_duration_since(w[0]))
        .collect();
    let last = &gaps[gaps.len().saturating_sub(GAPS_LOOKED_AT)..];
    let mut sorted = last.to_vec();
    sorted.sort();
    let median = sorted.get(sorted.len() / 2).copied()?;
    (sorted.len() >= STEADY_GAPS && median >= DELAYED_ACK).then_some(median)
}

impl Progress {
    /// Where the program got stuck, if the grader had to stop it (`None` when it ended by itself).
    /// The rules go in the conversation's order: no whole request, requests at the pace of
    /// delayed acknowledgements, requests that stopped, and only when every request was answered,
    /// the end of input (no half-close) or the end of the conversation (no drain).
    pub fn stuck(&self) -> Option<Stuck> {
        if self.ending != Ending::StillRunning {
            return None;
        }
        let received = self.received_at.len();
        if received == 0 && self.due > 0 {
            return Some(Stuck::NoWholeRequest);
        }
        if received < self.due {
            return Some(match split_writes(&self.received_at) {
                Some(median) => Stuck::SplitWrites { received, median },
                None => Stuck::Midway { received },
            });
        }
        if self.answered < self.due {
            return Some(Stuck::Midway { received });
        }
        if self.printed < self.due {
            return Some(Stuck::RepliesUnprinted {
                printed: self.printed,
            });
        }
        Some(if self.half_closed {
            Stuck::NoDrain
        } else {
            Stuck::NoHalfClose
        })
    }
}

/// What an error the program printed means, when its words are not plain: `os error 11` is a
/// read timeout that ran out.
pub fn error_explained(outcome: &Outcome) -> Option<String> {
    let stderr = outcome.stderr_text();
    (stderr.contains("os error 11") || stderr.contains("Resource temporarily unavailable")).then(
        || {
            "\"os error 11\" (EAGAIN, \"Resource temporarily unavailable\") is what a read \
             returns when a read timeout the program set runs out before anything arrives: the \
             program gave up waiting"
                .to_string()
        },
    )
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

    fn paced(gaps_ms: &[u64]) -> Vec<Instant> {
        let start = Instant::now();
        let mut at = start;
        let mut times = vec![at];
        for ms in gaps_ms {
            at += Duration::from_millis(*ms);
            times.push(at);
        }
        times
    }

    #[test]
    fn a_steady_delayed_acknowledgement_is_split_writes() {
        assert_eq!(
            split_writes(&paced(&[44; 20])),
            Some(Duration::from_millis(44))
        );
        // A few quick requests among slow ones: still the pace of delayed acknowledgements.
        let mut gaps = vec![44; 20];
        gaps[0] = 0;
        gaps[12] = 1;
        assert_eq!(split_writes(&paced(&gaps)), Some(Duration::from_millis(44)));
        // A few slow requests among quick ones: the machine was slow, not the writes.
        let mut gaps = vec![1; 20];
        gaps[3] = 60;
        gaps[9] = 45;
        assert_eq!(split_writes(&paced(&gaps)), None);
        assert_eq!(split_writes(&paced(&[44; 3])), None);
    }

    #[test]
    fn progress_names_the_first_step_that_did_not_happen() {
        let progress = |received: &[u64], answered, half_closed| Progress {
            due: 30,
            received_at: paced(received),
            answered,
            printed: answered,
            half_closed,
            ending: Ending::StillRunning,
        };
        let none = Progress {
            received_at: vec![],
            ..progress(&[], 0, false)
        };
        assert_eq!(none.stuck(), Some(Stuck::NoWholeRequest));
        assert!(matches!(
            progress(&[44; 12], 13, false).stuck(),
            Some(Stuck::SplitWrites { received: 13, .. })
        ));
        assert_eq!(
            progress(&[0; 2], 3, false).stuck(),
            Some(Stuck::Midway { received: 3 })
        );
        assert_eq!(
            progress(&[0; 29], 30, false).stuck(),
            Some(Stuck::NoHalfClose)
        );
        assert_eq!(progress(&[0; 29], 30, true).stuck(), Some(Stuck::NoDrain));
        let unprinted = Progress {
            printed: 1,
            ..progress(&[0; 29], 30, false)
        };
        assert_eq!(
            unprinted.stuck(),
            Some(Stuck::RepliesUnprinted { printed: 1 })
        );
        let ended = Progress {
            ending: Ending::Exited(0),
            ..progress(&[0; 29], 30, true)
        };
        assert_eq!(ended.stuck(), None);
    }
}
