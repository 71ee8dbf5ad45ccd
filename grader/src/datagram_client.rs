//! A client of a UDP request-reply server, run and judged: the grader's servers (with a secret
//! in every reply, and strangers where a check wants them), the program's run against them, and
//! the verdict on one run, with the mistake named, most basic first.
//!
//! What the server and the strangers saw is a [`Conversation`]; this module compares it with what
//! the program printed and how it ended.

use std::time::{Duration, Instant};

use support::journal::Journal;
use support::running::Running;
use support::udp_server::UdpEvent;

use crate::datagrams::{self, Conversation, seconds};
use crate::diagnose::general_hint;
use crate::failure::{Failure, RunReport, describe, plural, quote, quote_lines};
use crate::hint::{CH_UDP, Hint};
use crate::program::{Ending, FINISH, Input, Outcome, Run, Subject};
use crate::udp_servers::setup_failure;

/// How a client that gets no reply must try again and give up.
pub struct Retries {
    /// Datagrams for one line, in all.
    pub tries: usize,
    /// The wait for the reply after each.
    pub wait: Duration,
    /// A measured wait (between two datagrams the server received, or from the last to the
    /// program's exit) counts as `wait` from `shortest` to `longest`.
    pub shortest: Duration,
    pub longest: Duration,
}

impl Retries {
    pub fn accepts(&self, wait: Duration) -> bool {
        self.shortest <= wait && wait <= self.longest
    }
}

/// Where a program typed one line at a time stopped printing replies.
pub struct Stuck {
    pub at: Instant,
    /// It had ended by itself by then.
    pub ended_first: bool,
    /// How long the grader had waited for the reply.
    pub after: Duration,
}

pub fn run_client(
    subject: &Subject,
    host: &str,
    port: u16,
    input: Input,
) -> Result<Run, Box<Failure>> {
    Run::start(subject, &[host.to_string(), port.to_string()], input)
        .map_err(|e| setup_failure(format!("could not start {}: {e}", subject.shown_as)))
}

/// One client run, seen from both sides.
pub struct ClientRun<'a> {
    scenario: &'a str,
    outcome: &'a Outcome,
    pub talk: Conversation,
    lines: &'a [String],
    /// What the grader saw of the program's sockets, shown in a failure.
    pub seen: Option<String>,
    /// The check is about HOST's address: a program that reached no server mishandled it.
    pub about_the_address: bool,
}

impl<'a> ClientRun<'a> {
    pub fn new(
        scenario: &'a str,
        outcome: &'a Outcome,
        events: &datagrams::Events,
        lines: &'a [String],
    ) -> Self {
        ClientRun {
            scenario,
            outcome,
            talk: Conversation::of(events, lines),
            lines,
            seen: None,
            about_the_address: false,
        }
    }

    pub fn fail(&self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let report = RunReport {
            scenario: self.scenario,
            outcome: self.outcome,
            lines: self.lines,
            seen: self.seen.as_deref(),
        };
        report.fail(self.talk.transcript(self.outcome), expected, actual, hint)
    }

    /// Every line sent, every reply printed, exit 0.
    pub fn expect_success(&self) -> Result<(), Box<Failure>> {
        let replies = self.talk.replies();
        let right = self.outcome.ending == Ending::Exited(0)
            && self.outcome.stdout_lines() == replies
            && replies.len() == self.lines.len();
        if right {
            return self.expect_requests();
        }
        let expected = format!(
            "exit status 0, and one reply per input line ({}) on standard output, exactly as the \
             server sent them; the server sent {}",
            self.lines.len(),
            quote_lines(&replies)
        );
        Err(self.fail(expected, describe(self.outcome), self.diagnose()))
    }

    /// The server received each line (once, or again when a copy was lost), in order, from one
    /// address.
    fn expect_requests(&self) -> Result<(), Box<Failure>> {
        let mut sent = self.talk.received();
        sent.dedup();
        let wanted: Vec<Vec<u8>> = self.lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        if sent != wanted {
            let hint = if self.sent_newlines() {
                Hint::UdpNewlineSent
            } else {
                Hint::WrongRequests { chapter: CH_UDP }
            };
            return Err(self.fail(
                format!(
                    "the server to receive each input line once, without its newline: {}",
                    quote_lines(&wanted)
                ),
                format!("the server received {}", quote_lines(&self.talk.received())),
                hint,
            ));
        }
        let addresses = self.talk.addresses();
        if addresses.len() > 1 {
            return Err(self.fail(
                "every datagram from one socket (one address and port)".into(),
                format!(
                    "datagrams came from {} addresses: {addresses:?}",
                    addresses.len()
                ),
                Hint::UdpManySockets,
            ));
        }
        Ok(())
    }

    /// Printed `Address already in use (os error 98)`: it bound a port that was taken.
    fn fixed_port(&self) -> bool {
        let stderr = self.outcome.stderr_text().to_lowercase();
        stderr.contains("in use") || stderr.contains("os error 98")
    }

    fn sent_newlines(&self) -> bool {
        self.talk.received().iter().any(|p| p.contains(&b'\n'))
    }

    /// Printed `Resource temporarily unavailable (os error 11)`: an expired timeout, taken for
    /// an error.
    fn timeout_taken_for_error(&self) -> bool {
        let stderr = self.outcome.stderr_text().to_lowercase();
        stderr.contains("os error 11") || stderr.contains("temporarily unavailable")
    }

    /// Names the mistake behind a failed exchange, the most basic first.
    pub fn diagnose(&self) -> Hint {
        if let Some(hint) = general_hint(self.outcome, CH_UDP) {
            return hint;
        }
        let printed = self.outcome.stdout_lines();
        let replies = self.talk.replies();
        if self.sent_newlines() {
            return Hint::UdpNewlineSent;
        }
        if self.fixed_port() {
            return Hint::UdpFixedPort;
        }
        if self.talk.received().is_empty() {
            return match self.outcome.ending {
                _ if !printed.is_empty() => Hint::MadeUpReplies { chapter: CH_UDP },
                _ if self.about_the_address => Hint::AddressFamily { chapter: CH_UDP },
                Ending::StillRunning => Hint::Hung { chapter: CH_UDP },
                _ => Hint::FailedNeedlessly { chapter: CH_UDP },
            };
        }
        let decoys = self.talk.decoys();
        if printed.iter().any(|p| decoys.contains(p)) {
            return Hint::UdpAcceptsStrangers;
        }
        let cut = |p: &String| {
            replies
                .iter()
                .any(|r| r.len() > p.len() && r.starts_with(p.as_str()))
        };
        if printed.iter().any(|p| !replies.contains(p) && cut(p)) {
            return Hint::UdpTruncated;
        }
        if printed.iter().any(|p| !replies.contains(p)) {
            return Hint::MadeUpReplies { chapter: CH_UDP };
        }
        if self.talk.addresses().len() > 1 {
            return Hint::UdpManySockets;
        }
        if self.timeout_taken_for_error() {
            return Hint::UdpTimeoutIsError;
        }
        if self.talk.resent_after_reply() && printed.len() < self.lines.len() {
            return Hint::UdpRepliesIgnored;
        }
        let received = self.talk.received();
        let lost_and_not_resent = self.talk.events.iter().any(|e| match &e.event {
            UdpEvent::Dropped { payload, .. } => {
                received.iter().filter(|p| *p == payload).count() < 2
            }
            _ => false,
        });
        match self.outcome.ending {
            Ending::StillRunning if lost_and_not_resent => Hint::UdpNoTimeout,
            Ending::StillRunning => Hint::Hung { chapter: CH_UDP },
            _ if lost_and_not_resent => Hint::UdpNoRetry,
            Ending::Exited(0) => Hint::WrongOutput { chapter: CH_UDP },
            _ => Hint::FailedNeedlessly { chapter: CH_UDP },
        }
    }

    /// After a try that got no reply, the program must wait, send again, so many tries in all,
    /// then give up: nothing on standard output, one line on standard error, exit status 1.
    pub fn expect_giving_up(&self, retries: &Retries) -> Result<(), Box<Failure>> {
        let tries = self.talk.tries();
        let waits = datagrams::waits(&tries, self.outcome.ended_at());
        let expected = format!(
            "{} datagrams, each followed by a wait of {:.1} s for the reply ({:.1} s to {:.1} s \
             accepted), then nothing on standard output, one line on standard error, exit status 1",
            retries.tries,
            retries.wait.as_secs_f64(),
            retries.shortest.as_secs_f64(),
            retries.longest.as_secs_f64()
        );
        let actual = format!(
            "the server received {}, and the waits after each lasted {}; {}; standard error: {}",
            plural(tries.len(), "datagram", "datagrams"),
            seconds(&waits),
            describe(self.outcome),
            quote(self.outcome.stderr_text().as_bytes()),
        );
        let printed = self.outcome.stdout_lines();
        let decoys = self.talk.decoys();
        let decoy_times = self.talk.decoy_times();
        // A wait that lasted too long while strangers talked, and then ended (another try, or the
        // exit): each stranger had started it over.
        let stretched = waits.iter().zip(&tries).enumerate().any(|(k, (wait, at))| {
            let ended = k + 1 < tries.len() || self.outcome.ending != Ending::StillRunning;
            ended
                && *wait > retries.longest
                && decoy_times.iter().any(|d| d > at && *d < *at + *wait)
        });
        let still = self.outcome.ending == Ending::StillRunning;
        let hint = match general_hint(self.outcome, CH_UDP) {
            Some(hint) => hint,
            None if printed.iter().any(|p| decoys.contains(p)) => Hint::UdpAcceptsStrangers,
            None if !printed.is_empty() => Hint::MadeUpReplies { chapter: CH_UDP },
            None if self.fixed_port() => Hint::UdpFixedPort,
            None if tries.is_empty() && still => Hint::Hung { chapter: CH_UDP },
            None if tries.is_empty() => Hint::FailedNeedlessly { chapter: CH_UDP },
            None if self.timeout_taken_for_error() => Hint::UdpTimeoutIsError,
            None if stretched => Hint::UdpStrangerRestartsWait,
            None if still && tries.len() > retries.tries => Hint::UdpTooManyTries,
            None if still => Hint::UdpNoTimeout,
            None if tries.len() < retries.tries => Hint::UdpNoRetry,
            None if tries.len() > retries.tries => Hint::UdpTooManyTries,
            None if waits.iter().any(|w| !retries.accepts(*w)) => Hint::UdpTryWait,
            None if self.outcome.ending != Ending::Exited(1) || self.outcome.stderr.len() != 1 => {
                Hint::ErrorNotReported { chapter: CH_UDP }
            }
            None => return Ok(()),
        };
        Err(self.fail(expected, actual, hint))
    }

    /// The program was typed `line` and printed no reply to it ([`Stuck`]): why.
    pub fn expect_in_step(&self, line: &str, stuck: Stuck) -> Result<(), Box<Failure>> {
        let heard = self.talk.events.iter().any(|e| {
        e.at < stuck.at
            && matches!(&e.event, UdpEvent::Received { payload, .. } if payload == line.as_bytes())
    });
        let hint = match general_hint(self.outcome, CH_UDP) {
            Some(hint) => hint,
            // It ended, or it sent the line and did not take the reply for one: not about typing.
            None if stuck.ended_first || (heard && self.talk.resent_after_reply()) => {
                self.diagnose()
            }
            None => Hint::NotInteractive { chapter: CH_UDP },
        };
        let actual = match (stuck.ended_first, heard) {
            (true, _) => "the program ended before it printed a reply to it".to_string(),
            (false, true) => format!(
                "{} s after the grader typed it, the server had received it and replied, and the \
             program had printed nothing",
                stuck.after.as_secs()
            ),
            (false, false) => format!(
                "{} s after the grader typed it, the server had not received it: the program was \
             still reading its input",
                stuck.after.as_secs()
            ),
        };
        Err(self.fail(
            format!(
                "the reply to {} on standard output before the next line is typed",
                quote(line.as_bytes())
            ),
            actual,
            hint,
        ))
    }

    /// Each reply printed within `within` of the server sending it: as soon as it arrived.
    pub fn expect_printed_within(&self, within: Duration) -> Result<(), Box<Failure>> {
        let late: Vec<Duration> = self
            .talk
            .replies_at()
            .iter()
            .zip(&self.outcome.stdout)
            .map(|((sent, _), printed)| printed.at.saturating_duration_since(*sent))
            .collect();
        if late.iter().all(|d| *d <= within) {
            return Ok(());
        }
        Err(self.fail(
            format!(
                "each reply printed within {:.1} s of the server sending it",
                within.as_secs_f64()
            ),
            format!(
                "the replies were printed {} after the server sent them",
                seconds(&late)
            ),
            Hint::UdpLateReply,
        ))
    }
}

/// Runs the program with `lines` as its input, given `host` and `port`, to its end; and the
/// events of `journals` (servers', strangers') that came meanwhile.
pub fn run_to_end(
    subject: &Subject,
    (host, port): (&str, u16),
    lines: &[String],
    journals: &[&Journal<UdpEvent>],
) -> Result<(Outcome, datagrams::Events), Box<Failure>> {
    let run = run_client(subject, host, port, Input::Lines(lines.to_vec()))?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events: Vec<datagrams::Events> = journals.iter().map(|j| j.snapshot()).collect();
    Ok((outcome, datagrams::merged(&events)))
}

/// Runs one client with `lines` against `servers` (all on one port) and expects a complete
/// exchange.
pub fn exchange(
    subject: &Subject,
    scenario: &str,
    host: &str,
    servers: &[&Running<UdpEvent>],
    lines: &[String],
) -> Result<(), Box<Failure>> {
    let journals: Vec<&Journal<UdpEvent>> = servers.iter().map(|s| s.journal()).collect();
    let port = servers[0].local_addr().port();
    let (outcome, events) = run_to_end(subject, (host, port), lines, &journals)?;
    let mut exchange = ClientRun::new(scenario, &outcome, &events, lines);
    exchange.about_the_address = host != "127.0.0.1";
    exchange.expect_success()
}
