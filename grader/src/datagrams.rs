//! A UDP conversation as the grader's side saw it: which of the server's (and the strangers')
//! events concern one client, what that client sent and was sent, when, and how it reads in a
//! transcript.
//!
//! UDP has no connections, so a client is known by the address its datagrams came from; the
//! grader finds that address by the client's own lines, which no other client sends.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::journal::Stamped;
use support::udp_server::UdpEvent;

use crate::failure::{Transcript, quote};
use crate::program::Outcome;

pub type Events = Vec<Stamped<UdpEvent>>;

/// The events of several journals (a server's, its strangers'), in time order.
pub fn merged(journals: &[Events]) -> Events {
    let mut all: Events = journals.iter().flatten().cloned().collect();
    all.sort_by_key(|e| e.at);
    all
}

/// The events that concern one client.
#[derive(Clone, Debug, Default)]
pub struct Conversation {
    pub events: Events,
}

impl Conversation {
    /// The events of `all` that concern the client whose input was `lines`: everything from or
    /// to an address that sent one of those lines.
    pub fn of(all: &[Stamped<UdpEvent>], lines: &[String]) -> Conversation {
        let is_mine = |payload: &[u8]| {
            lines
                .iter()
                .any(|l| l.as_bytes() == payload || l.as_bytes() == payload.trim_ascii_end())
        };
        let mine: BTreeSet<SocketAddr> = all
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Received { from, payload } if is_mine(payload) => Some(*from),
                _ => None,
            })
            .collect();
        let events = all
            .iter()
            .filter(|e| match &e.event {
                UdpEvent::Received { from, .. } | UdpEvent::Dropped { from, .. } => {
                    mine.contains(from)
                }
                UdpEvent::Replied { to, .. }
                | UdpEvent::StrangerSent { to, .. }
                | UdpEvent::Holding { to, .. } => mine.contains(to),
            })
            .cloned()
            .collect();
        Conversation { events }
    }

    /// The addresses the client's datagrams came from: one per socket it used.
    pub fn addresses(&self) -> BTreeSet<SocketAddr> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Received { from, .. } => Some(*from),
                _ => None,
            })
            .collect()
    }

    /// Every datagram the server received from the client, copies included, in order.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Received { payload, .. } => Some(payload.clone()),
                _ => None,
            })
            .collect()
    }

    /// When the server received each of the client's datagrams: its tries.
    pub fn tries(&self) -> Vec<Instant> {
        self.events
            .iter()
            .filter(|e| matches!(e.event, UdpEvent::Received { .. }))
            .map(|e| e.at)
            .collect()
    }

    /// The server's replies to the client, as text.
    pub fn replies(&self) -> Vec<String> {
        self.texts(|e| match e {
            UdpEvent::Replied { payload, .. } => Some(payload),
            _ => None,
        })
    }

    /// What strangers sent the client, as text.
    pub fn decoys(&self) -> Vec<String> {
        self.texts(|e| match e {
            UdpEvent::StrangerSent { payload, .. } => Some(payload),
            _ => None,
        })
    }

    /// When strangers sent the client something.
    pub fn decoy_times(&self) -> Vec<Instant> {
        self.events
            .iter()
            .filter(|e| matches!(e.event, UdpEvent::StrangerSent { .. }))
            .map(|e| e.at)
            .collect()
    }

    /// When the server sent each reply, with the reply.
    pub fn replies_at(&self) -> Vec<(Instant, String)> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Replied { payload, .. } => {
                    Some((e.at, String::from_utf8_lossy(payload).into_owned()))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether the server received a datagram again after it had replied to it: the client did
    /// not take the reply for one.
    pub fn resent_after_reply(&self) -> bool {
        let mut answered: Vec<&[u8]> = Vec::new();
        let mut last: Option<&[u8]> = None;
        for e in &self.events {
            match &e.event {
                UdpEvent::Received { payload, .. } => {
                    if answered.contains(&payload.as_slice()) {
                        return true;
                    }
                    last = Some(payload);
                }
                UdpEvent::Replied { .. } => answered.extend(last),
                _ => {}
            }
        }
        false
    }

    fn texts(&self, pick: impl Fn(&UdpEvent) -> Option<&Vec<u8>>) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| pick(&e.event))
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    /// Both sides: the program's (`outcome`) and the server's and strangers'.
    pub fn transcript(&self, outcome: &Outcome) -> Transcript {
        let mut t = Transcript::of(outcome);
        for e in &self.events {
            let text = match &e.event {
                UdpEvent::Received { from, payload } => {
                    format!("got {} from {from}", quote(payload))
                }
                UdpEvent::Dropped { payload, .. } => {
                    format!(
                        "dropped {} on purpose, as if the network had lost it",
                        quote(payload)
                    )
                }
                UdpEvent::Replied { to, payload } => format!("sent {} to {to}", quote(payload)),
                UdpEvent::StrangerSent { from, to, payload } => {
                    format!("a stranger at {from} sent {} to {to}", quote(payload))
                }
                UdpEvent::Holding { seq, .. } => {
                    format!("holds its reply number {seq} back while the grader looks")
                }
            };
            t.server(e.at, text);
        }
        t
    }
}

/// The waits between tries, and from the last try to `end`: how long the client waited for a
/// reply after each datagram it sent.
pub fn waits(tries: &[Instant], end: Instant) -> Vec<Duration> {
    tries
        .iter()
        .zip(tries.iter().skip(1).chain(std::iter::once(&end)))
        .map(|(a, b)| b.saturating_duration_since(*a))
        .collect()
}

/// Durations as `0.50 s, 1.00 s`.
pub fn seconds(durations: &[Duration]) -> String {
    durations
        .iter()
        .map(|d| format!("{:.2} s", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}
