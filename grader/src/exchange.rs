//! One conversation over one TCP connection, as the stream clients have it (`tcp_client`,
//! chapter 3, and `framed_client`, chapter 5): the program sends a request per input line, prints
//! each reply, half-closes at the end of its input and prints the server's last words until the
//! server closes.
//!
//! Each exercise's server journals its own events; [`ServerEvent`] reads them in the words both
//! share, so that one [`Conversation`] builds the transcript of both sides, compares what was
//! printed with what the server really sent, and names the mistake: the general ones first, then
//! how far the conversation got ([`crate::diagnose::Progress`]), then what was printed.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::journal::{Journal, Stamped};
use support::running::Running;

use crate::diagnose::Progress;
use crate::failure::{Failure, RunReport, Transcript};
use crate::hint::{Chapter, Hint};
use crate::program::Outcome;

mod verdict;

/// An event of a stream server's journal, in the words both stream servers share.
pub enum Seen<'a> {
    Accepted(SocketAddr),
    /// One whole request: a line without its newline, or a frame's payload.
    Received(&'a [u8]),
    /// One whole reply, as a correct client prints it (without a newline).
    Sent(&'a [u8]),
    /// A reply held back at a gate while the grader looks, or waits.
    Holding(u64),
    /// An orderly end of stream from the client (a half-close, or a close).
    EndOfStream,
    Reset,
    Closed,
    /// Anything else: shown in the transcript only.
    Other,
}

/// A stream server's journal entry, read in the shared words.
pub trait ServerEvent: Clone + Send + Sync + 'static {
    fn conn(&self) -> u64;
    fn seen(&self) -> Seen<'_>;
    /// What the server did, for a transcript.
    fn shown(&self) -> String;
}

/// How a reference server is started for a shared scenario.
pub struct ServerSetup<'a> {
    pub bind: &'a str,
    /// How many last replies the server sends after the client's end of stream.
    pub farewell: usize,
    /// Replies (by request number, from 1) held back until their gate opens.
    pub holds: Vec<(u64, Gate)>,
}

/// What a stream exercise tells the shared code about itself.
pub struct Protocol<E: 'static> {
    pub chapter: Chapter,
    /// One request, as the server counts them: "line" or "frame".
    pub unit: &'static str,
    /// How each input line must reach the server, for "expected".
    pub request_rule: &'static str,
    /// What it means when the server had no whole request at all.
    pub no_whole_request: &'static str,
    /// The hint for printing part of a reply, or losing replies that came in one read.
    pub one_read: Hint,
    /// Starts the exercise's reference server.
    pub start: fn(&ServerSetup<'_>) -> Result<Running<E>, Box<Failure>>,
    /// Mistakes only this exercise can make, asked before the shared rules: a hint and what
    /// the server saw that shows it.
    pub particular: fn(&Conversation<'_, E>) -> Option<Diagnosis>,
}

/// A named mistake and, when the transcript alone does not make it plain, what shows it.
pub struct Diagnosis {
    pub hint: Hint,
    pub why: Option<String>,
}

impl Diagnosis {
    pub fn plain(hint: Hint) -> Diagnosis {
        Diagnosis { hint, why: None }
    }

    pub fn because(hint: Hint, why: String) -> Diagnosis {
        Diagnosis {
            hint,
            why: Some(why),
        }
    }
}

/// What a program did in a scenario that ends in an error it must report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symptom {
    Crashed,
    StillRunning,
    Printed,
}

/// One client run and the server's events on the connections that were its own.
pub struct Conversation<'a, E: 'static> {
    pub protocol: &'a Protocol<E>,
    pub scenario: &'a str,
    pub outcome: &'a Outcome,
    /// The lines the program was given.
    pub lines: &'a [String],
    /// This client's connections, in accept order.
    pub conns: Vec<u64>,
    pub events: Vec<Stamped<E>>,
    /// What the grader saw of the program from outside (its sockets), shown in a failure.
    pub seen: Option<String>,
    /// The scenario is about HOST: when no connection was made, the address is the likely cause.
    pub about_the_address: bool,
}

impl<'a, E: ServerEvent> Conversation<'a, E> {
    /// The conversation on `conns`, or on every connection the server accepted.
    pub fn new(
        protocol: &'a Protocol<E>,
        scenario: &'a str,
        outcome: &'a Outcome,
        all: &[Stamped<E>],
        lines: &'a [String],
        conns: Option<&[u64]>,
    ) -> Self {
        let conns: BTreeSet<u64> = match conns {
            Some(conns) => conns.iter().copied().collect(),
            None => all
                .iter()
                .filter(|e| matches!(e.event.seen(), Seen::Accepted(_)))
                .map(|e| e.event.conn())
                .collect(),
        };
        let events = all
            .iter()
            .filter(|e| conns.contains(&e.event.conn()))
            .cloned()
            .collect();
        Conversation {
            protocol,
            scenario,
            outcome,
            lines,
            conns: conns.into_iter().collect(),
            events,
            seen: None,
            about_the_address: false,
        }
    }

    fn chapter(&self) -> Chapter {
        self.protocol.chapter
    }

    /// Every reply the server sent, as the lines a correct client prints.
    pub fn sent(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e.event.seen() {
                Seen::Sent(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                _ => None,
            })
            .collect()
    }

    /// The whole requests the server received while the program ran: once it has ended, the
    /// server takes what was left of an unfinished line as a line.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received_stamped()
            .map(|(_, bytes)| bytes.to_vec())
            .collect()
    }

    fn received_at(&self) -> Vec<Instant> {
        self.received_stamped().map(|(at, _)| at).collect()
    }

    fn received_stamped(&self) -> impl Iterator<Item = (Instant, &[u8])> {
        self.events.iter().filter_map(|e| match e.event.seen() {
            Seen::Received(bytes) if e.at < self.outcome.ended_at() => Some((e.at, bytes)),
            _ => None,
        })
    }

    pub fn any(&self, want: impl Fn(&E) -> bool) -> bool {
        self.events.iter().any(|e| want(&e.event))
    }

    /// An orderly end of stream from the program itself (see [`Outcome::half_closed_itself`]).
    pub fn half_closed(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(e.event.seen(), Seen::EndOfStream) && self.outcome.half_closed_itself(e.at)
        })
    }

    /// A reset of the program's own doing (see [`Outcome::reset_itself`]).
    pub fn reset(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e.event.seen(), Seen::Reset) && self.outcome.reset_itself(e.at))
    }

    /// A reset instead of an end of stream: the program aborted the connection (SO_LINGER 0, or
    /// a close with unread bytes). A reset after an end of stream is the server writing its last
    /// words to a program that had already gone.
    pub fn aborted(&self) -> bool {
        self.reset() && !self.any(|e| matches!(e.seen(), Seen::EndOfStream))
    }

    /// Whether the program stayed to the end of the conversation: it half-closed, and the
    /// server closed in order while the program still ran.
    fn read_to_the_close(&self) -> bool {
        self.half_closed()
            && !self.reset()
            && self
                .events
                .iter()
                .any(|e| matches!(e.event.seen(), Seen::Closed) && e.at < self.outcome.ended_at())
    }

    pub fn progress(&self) -> Progress {
        Progress {
            due: self.lines.len(),
            received_at: self.received_at(),
            answered: self
                .events
                .iter()
                .filter(|e| {
                    matches!(e.event.seen(), Seen::Sent(_)) && e.at < self.outcome.ended_at()
                })
                .count()
                .min(self.lines.len()),
            printed: self.outcome.stdout.len(),
            half_closed: self.half_closed(),
            ending: self.outcome.ending,
        }
    }

    pub fn transcript(&self) -> Transcript {
        let mut t = Transcript::of(self.outcome);
        let many = self.conns.len() > 1;
        for e in &self.events {
            let mut text = match e.event.seen() {
                // After the program's end, its sockets were closed by the kernel, not by it.
                Seen::EndOfStream if !self.outcome.half_closed_itself(e.at) => {
                    "read end of stream: the program had ended, and its socket closed with it"
                        .to_string()
                }
                Seen::Received(_) if e.at >= self.outcome.ended_at() => {
                    format!("{} (what was left when the stream ended)", e.event.shown())
                }
                _ => e.event.shown(),
            };
            if many {
                text = format!("[connection {}] {text}", e.event.conn());
            }
            t.server(e.at, text);
        }
        t
    }

    pub fn fail(&self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let report = RunReport {
            scenario: self.scenario,
            outcome: self.outcome,
            lines: self.lines,
            seen: self.seen.as_deref(),
        };
        report.fail(self.transcript(), expected, actual, hint)
    }
}

/// The server's events once every connection it accepted is closed (or after a short while):
/// the server's thread journals the end of a connection (an end of stream, or a reset) as it
/// reads it, which may be just after the grader has seen the program exit.
pub fn settled<E: ServerEvent>(journal: &Journal<E>) -> Vec<Stamped<E>> {
    // The server closes within a millisecond of the program's end; this only bounds a wait for
    // an event that has already happened.
    let deadline = Instant::now() + Duration::from_secs(2);
    journal.wait_until(deadline, |events| {
        events
            .iter()
            .filter(|a| matches!(a.event.seen(), Seen::Accepted(_)))
            .all(|a| {
                events.iter().any(|e| {
                    e.event.conn() == a.event.conn() && matches!(e.event.seen(), Seen::Closed)
                })
            })
    });
    journal.snapshot()
}
