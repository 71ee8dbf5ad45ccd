//! Checks for `tcp_client HOST PORT` (chapter 3).
//!
//! Every check starts a `support` TCP line server in this process. Its replies and its farewell
//! (the lines it sends only after the client's half-close) carry a secret the program cannot
//! guess. Its journal tells, per connection, what it received, what it sent, and how the client
//! ended: an orderly end of stream (a half-close), a reset, or nothing at all.
//!
//! The grader also looks at the running program from outside ([`crate::inspect`]): over a
//! thousand lines, while the server holds a reply back, which sockets it holds and whether its
//! descriptors grow per line; and, when it has to stop a program that never ended, which sockets
//! it still held.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::journal::{Journal, Stamped};
use support::running::Running;
use support::tcp_server::{
    FarewellFn, LineReplyFn, Pace, TcpEvent, TcpFault, TcpLineServer, TcpOptions,
};

use crate::diagnose::general_hint;
use crate::failure::{Failure, RunReport, Transcript, describe, plural, quote, quote_lines};
use crate::hint::{CH_TCP, Hint};
use crate::inspect::SocketRow;
use crate::manifest::Check;
use crate::program::{Ending, FINISH, Input, Outcome, Run, Subject};
use crate::watch::{self, TwoLooks, finish_looking};
use crate::words;

pub const CHECKS: &[Check] = &[
    Check {
        name: "plain_exchange",
        run: plain_exchange,
    },
    Check {
        name: "replies_one_byte_at_a_time",
        run: replies_one_byte_at_a_time,
    },
    Check {
        name: "lines_after_the_half_close",
        run: lines_after_the_half_close,
    },
    Check {
        name: "server_on_ipv6",
        run: server_on_ipv6,
    },
    Check {
        name: "server_by_name",
        run: server_by_name,
    },
    Check {
        name: "server_closes_before_replying",
        run: server_closes_before_replying,
    },
    Check {
        name: "connection_refused",
        run: connection_refused,
    },
    Check {
        name: "several_clients_at_once",
        run: several_clients_at_once,
    },
    Check {
        name: "one_socket_and_no_leak_over_1000_lines",
        run: one_socket_and_no_leak,
    },
];

type Events = Vec<Stamped<TcpEvent>>;

/// The trickled conversation takes well under a second on an idle machine, but each of its
/// bytes waits for the program to be scheduled: give a loaded machine room.
const TRICKLE_FINISH: Duration = Duration::from_secs(20);

/// What the reference server says, made fresh for every check.
struct Script {
    replies: LineReplyFn,
    farewell: FarewellFn,
}

/// Replies `SECRET.N LINE-IN-CAPITALS`; after the half-close, `farewell_lines` lines that carry
/// the secret and the number of lines received.
fn secret_script(farewell_lines: usize, reply_padding: usize) -> Script {
    let secret = words::token(6);
    let farewell_secret = secret.clone();
    Script {
        replies: Arc::new(move |request| {
            let mut reply = format!("{secret}.{} ", request.seq).into_bytes();
            reply.extend(request.line.to_ascii_uppercase());
            if reply_padding > 0 {
                reply.push(b' ');
                reply.extend(words::text(reply_padding).into_bytes());
            }
            reply
        }),
        farewell: Arc::new(move |farewell| {
            (1..=farewell_lines)
                .map(|i| {
                    format!(
                        "{farewell_secret} after your half-close, line {i} of {farewell_lines}: \
                         you sent {} lines",
                        farewell.lines_received
                    )
                    .into_bytes()
                })
                .collect()
        }),
    }
}

fn start_server(
    bind: &str,
    script: Script,
    faults: Vec<TcpFault>,
) -> Result<Running<TcpEvent>, Box<Failure>> {
    let addr: SocketAddr = bind.parse().expect("a literal address");
    let options = TcpOptions {
        replies: script.replies,
        farewell: script.farewell,
        faults,
        max_line: 65536,
        trace: false,
    };
    TcpLineServer::bind(addr, options)
        .and_then(TcpLineServer::spawn)
        .map_err(|e| {
            Failure::setup(
                CH_TCP,
                format!("could not start the reference TCP server on {bind}: {e}"),
            )
        })
}

fn run_client(
    subject: &Subject,
    host: &str,
    port: u16,
    lines: &[String],
) -> Result<Run, Box<Failure>> {
    Run::start(
        subject,
        &[host.to_string(), port.to_string()],
        Input::Lines(lines.to_vec()),
    )
    .map_err(|e| Failure::setup(CH_TCP, format!("could not start {}: {e}", subject.shown_as)))
}

/// One client run and the connections that were its own.
struct Conversation<'a> {
    scenario: &'a str,
    outcome: &'a Outcome,
    lines: &'a [String],
    /// The connection ids that belong to this client, in accept order.
    conns: Vec<u64>,
    events: Events,
    /// What the grader saw of the program from outside (its sockets), shown in a failure.
    seen: Option<String>,
}

impl<'a> Conversation<'a> {
    /// With `alone`, every connection is this client's; otherwise those whose lines it sent.
    fn new(
        scenario: &'a str,
        outcome: &'a Outcome,
        all: &[Stamped<TcpEvent>],
        lines: &'a [String],
        alone: bool,
    ) -> Self {
        let conns: BTreeSet<u64> = all
            .iter()
            .filter_map(|e| match &e.event {
                TcpEvent::Accepted { conn, .. } if alone => Some(*conn),
                TcpEvent::Received { conn, line }
                    if lines.iter().any(|l| l.as_bytes() == line.as_slice()) =>
                {
                    Some(*conn)
                }
                _ => None,
            })
            .collect();
        let events = all
            .iter()
            .filter(|e| conns.contains(&conn_of(&e.event)))
            .cloned()
            .collect();
        Conversation {
            scenario,
            outcome,
            lines,
            conns: conns.into_iter().collect(),
            events,
            seen: None,
        }
    }

    /// Every byte the server sent to this client, as the lines a correct client prints.
    fn sent_lines(&self) -> Vec<String> {
        let bytes: Vec<u8> = self
            .events
            .iter()
            .filter_map(|e| match &e.event {
                TcpEvent::Sent { bytes, .. } => Some(bytes.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn received(&self) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                TcpEvent::Received { line, .. } => Some(line.clone()),
                _ => None,
            })
            .collect()
    }

    /// An orderly end of stream from the program itself (see [`Outcome::half_closed_itself`]).
    fn half_closed(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(e.event, TcpEvent::PeerHalfClosed { .. })
                && self.outcome.half_closed_itself(e.at)
        })
    }

    /// A reset of the program's own doing (see [`Outcome::reset_itself`]).
    fn reset(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(e.event, TcpEvent::PeerReset { .. }) && self.outcome.reset_itself(e.at)
        })
    }

    fn transcript(&self) -> Transcript {
        let mut t = Transcript::of(self.outcome);
        let many = self.conns.len() > 1;
        for e in &self.events {
            let text = match &e.event {
                TcpEvent::Accepted { peer, .. } => format!("accepted a connection from {peer}"),
                TcpEvent::Received { line, .. } => format!("got line {}", quote(line)),
                TcpEvent::Oversized { .. } => "got a line too long to keep".to_string(),
                TcpEvent::Sent { bytes, .. } => format!("sent {}", quote(bytes)),
                TcpEvent::Holding { seq, .. } => {
                    format!("holds its reply to line {seq} back while the grader looks")
                }
                TcpEvent::PeerHalfClosed { .. } => {
                    "read end of stream: the program half-closed (or closed)".to_string()
                }
                TcpEvent::PeerReset { .. } => "the connection was reset".to_string(),
                TcpEvent::Closed { .. } => "closed the connection".to_string(),
            };
            if many {
                t.server(e.at, format!("[connection {}] {text}", conn_of(&e.event)));
            } else {
                t.server(e.at, text);
            }
        }
        t
    }

    fn fail(&self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let report = RunReport {
            scenario: self.scenario,
            outcome: self.outcome,
            lines: self.lines,
            seen: self.seen.as_deref(),
        };
        report.fail(self.transcript(), expected, actual, hint)
    }

    /// One connection, every reply and farewell line printed, the half-close seen (an orderly
    /// end of stream, not a reset), exit 0.
    fn expect_success(&self) -> Result<(), Box<Failure>> {
        let sent = self.sent_lines();
        let expected = format!(
            "one connection ended by a half-close, exit status 0, and on standard output every \
             line the server sent: {}",
            quote_lines(&sent)
        );
        let actual = format!(
            "{}; {}",
            plural(self.conns.len(), "connection", "connections"),
            describe(self.outcome)
        );
        let ok = self.outcome.ending == Ending::Exited(0)
            && self.conns.len() == 1
            && self.outcome.stdout_lines() == sent
            && self.half_closed()
            && !self.reset()
            && !sent.is_empty();
        if !ok {
            let actual = match (self.half_closed(), self.reset()) {
                (_, true) => format!("{actual}; the server read a reset (RST) on the connection"),
                (false, false) => format!("{actual}; the server never read an end of stream"),
                (true, false) => actual,
            };
            return Err(self.fail(expected, actual, self.diagnose()));
        }
        let wanted: Vec<Vec<u8>> = self.lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        if self.received() != wanted {
            return Err(self.fail(
                format!(
                    "the server to receive each input line once, in order: {}",
                    quote_lines(&wanted)
                ),
                format!("the server received {}", quote_lines(&self.received())),
                Hint::WrongRequests { chapter: CH_TCP },
            ));
        }
        Ok(())
    }

    fn diagnose(&self) -> Hint {
        if let Some(hint) = general_hint(self.outcome, CH_TCP) {
            return hint;
        }
        let printed = self.outcome.stdout_lines();
        let sent = self.sent_lines();
        if self.conns.len() > 1 {
            return Hint::TcpConnectionPerLine;
        }
        if self.conns.is_empty() {
            return if printed.is_empty() {
                Hint::FailedNeedlessly { chapter: CH_TCP }
            } else {
                Hint::MadeUpReplies { chapter: CH_TCP }
            };
        }
        let fragment = |p: &String| {
            !sent.contains(p) && !p.is_empty() && sent.iter().any(|s| s.contains(p.as_str()))
        };
        if printed.iter().any(fragment) {
            return Hint::TcpOneReadOneMessage;
        }
        if printed.iter().any(|p| !sent.contains(p)) {
            return Hint::MadeUpReplies { chapter: CH_TCP };
        }
        if !self.half_closed() {
            return if self.reset() {
                // It ended the connection, but with an abort instead of an end of stream.
                Hint::TcpReset
            } else if self.outcome.ending == Ending::StillRunning {
                Hint::TcpNoHalfClose
            } else {
                Hint::FailedNeedlessly { chapter: CH_TCP }
            };
        }
        match self.outcome.ending {
            Ending::StillRunning => Hint::Hung { chapter: CH_TCP },
            // It printed only a beginning of what was sent, then left.
            Ending::Exited(_) if printed.len() < sent.len() && sent.starts_with(&printed) => {
                Hint::TcpLeftEarly
            }
            Ending::Exited(0) if self.reset() && printed == sent => Hint::TcpReset,
            Ending::Exited(0) => Hint::WrongOutput { chapter: CH_TCP },
            _ => Hint::FailedNeedlessly { chapter: CH_TCP },
        }
    }
}

fn conn_of(event: &TcpEvent) -> u64 {
    match event {
        TcpEvent::Accepted { conn, .. }
        | TcpEvent::Received { conn, .. }
        | TcpEvent::Oversized { conn }
        | TcpEvent::Sent { conn, .. }
        | TcpEvent::Holding { conn, .. }
        | TcpEvent::PeerHalfClosed { conn }
        | TcpEvent::PeerReset { conn }
        | TcpEvent::Closed { conn } => *conn,
    }
}

/// A server, one client, a complete conversation expected.
struct Exchange<'s> {
    scenario: &'s str,
    bind: &'s str,
    host: &'s str,
    lines: usize,
    script: Script,
    faults: Vec<TcpFault>,
    /// How long the program may take before the grader stops it.
    finish: Duration,
}

impl Exchange<'_> {
    fn check(self, subject: &Subject) -> Result<(), Box<Failure>> {
        let lines = words::lines(self.lines);
        let server = start_server(self.bind, self.script, self.faults)?;
        let run = run_client(subject, self.host, server.local_addr().port(), &lines)?;
        let (outcome, seen) = finish_looking(run, Instant::now() + self.finish);
        let events = settled(server.journal());
        let mut conversation = Conversation::new(self.scenario, &outcome, &events, &lines, true);
        conversation.seen = seen;
        conversation.expect_success()
    }
}

/// The server's events once every connection it accepted is closed (or after a short while):
/// the end of a connection is journaled by the server's thread, which may read the program's
/// end of stream, or its reset, only just after the grader has seen the program exit.
fn settled(journal: &Journal<TcpEvent>) -> Events {
    // The server closes within a millisecond of the program's end; this only bounds a wait for
    // an event that has already happened.
    let deadline = Instant::now() + Duration::from_secs(2);
    journal.wait_until(deadline, |events| {
        events
            .iter()
            .filter(|e| matches!(e.event, TcpEvent::Accepted { .. }))
            .all(|a| {
                let conn = conn_of(&a.event);
                events
                    .iter()
                    .any(|e| matches!(e.event, TcpEvent::Closed { conn: c } if c == conn))
            })
    });
    journal.snapshot()
}

fn plain_exchange(subject: &Subject) -> Result<(), Box<Failure>> {
    Exchange {
        scenario: "a TCP line server on 127.0.0.1 answers each line with one line, and sends 2 more \
                   after the program half-closes; the program sends 3 lines",
        bind: "127.0.0.1:0",
        host: "127.0.0.1",
        lines: 3,
        script: secret_script(2, 0),
        faults: vec![],
        finish: FINISH,
    }
    .check(subject)
}

fn replies_one_byte_at_a_time(subject: &Subject) -> Result<(), Box<Failure>> {
    Exchange {
        scenario: "the server sends every reply one byte per write, and waits until the program has \
                   read each byte before it sends the next",
        bind: "127.0.0.1:0",
        host: "127.0.0.1",
        lines: 3,
        // Short replies: every byte is a round trip between two processes, which a loaded
        // machine can stretch to many milliseconds.
        script: secret_script(1, 0),
        faults: vec![TcpFault::Trickle(Pace::PeerDrained {
            at_most: Duration::from_millis(50),
        })],
        finish: TRICKLE_FINISH,
    }
    .check(subject)
}

fn lines_after_the_half_close(subject: &Subject) -> Result<(), Box<Failure>> {
    Exchange {
        scenario: "the server sends 5 lines only after the program has half-closed its side; the \
                   program sends 1 line",
        bind: "127.0.0.1:0",
        host: "127.0.0.1",
        lines: 1,
        script: secret_script(5, 0),
        faults: vec![],
        finish: FINISH,
    }
    .check(subject)
}

fn server_on_ipv6(subject: &Subject) -> Result<(), Box<Failure>> {
    Exchange {
        scenario: "the server listens on the IPv6 loopback address ::1 and the program is given HOST = ::1",
        bind: "[::1]:0",
        host: "::1",
        lines: 2,
        script: secret_script(1, 0),
        faults: vec![],
        finish: FINISH,
    }
    .check(subject)
    .map_err(with_family_hint)
}

fn server_by_name(subject: &Subject) -> Result<(), Box<Failure>> {
    Exchange {
        scenario: "the server listens on 127.0.0.1 and the program is given HOST = localhost (a name to resolve)",
        bind: "127.0.0.1:0",
        host: "localhost",
        lines: 2,
        script: secret_script(1, 0),
        faults: vec![],
        finish: FINISH,
    }
    .check(subject)
    .map_err(with_family_hint)
}

/// A program that could not talk to the server at all, in an address check, mishandles the address.
fn with_family_hint(mut failure: Box<Failure>) -> Box<Failure> {
    if matches!(
        failure.hint,
        Hint::FailedNeedlessly { .. } | Hint::Hung { .. }
    ) {
        failure.hint = Hint::AddressFamily { chapter: CH_TCP };
    }
    failure
}

fn several_clients_at_once(subject: &Subject) -> Result<(), Box<Failure>> {
    const CLIENTS: usize = 5;
    let scenario = "5 copies of the program talk to one server at the same time, 3 lines each; each \
                    must use exactly one connection";
    let server = start_server("127.0.0.1:0", secret_script(2, 0), vec![])?;
    let port = server.local_addr().port();
    let inputs: Vec<Vec<String>> = (0..CLIENTS).map(|_| words::lines(3)).collect();
    let runs = inputs
        .iter()
        .map(|lines| run_client(subject, "127.0.0.1", port, lines))
        .collect::<Result<Vec<_>, _>>()?;
    let deadline = Instant::now() + FINISH;
    let outcomes: Vec<Outcome> = runs.into_iter().map(|run| run.finish(deadline)).collect();
    let events = server.journal().snapshot();
    for (outcome, lines) in outcomes.iter().zip(&inputs) {
        Conversation::new(scenario, outcome, &events, lines, false).expect_success()?;
    }
    Ok(())
}

/// 1000 lines. The server holds its reply to line 10 back while the grader looks at the
/// program's sockets and counts its descriptors, and again at line 1000: the count must not have
/// grown, and the one socket must be the connection to the server. Nothing waits per line: the
/// grader waits only for the two holds.
fn one_socket_and_no_leak(subject: &Subject) -> Result<(), Box<Failure>> {
    const LINES: u64 = 1000;
    const FIRST: u64 = 10;
    let scenario = format!(
        "the program sends {LINES} lines; the server holds its reply to line {FIRST} and to line \
         {LINES} back while the grader looks at the program's sockets and descriptors"
    );
    let (early, late) = (Gate::new(), Gate::new());
    let server = start_server(
        "127.0.0.1:0",
        secret_script(1, 0),
        vec![
            TcpFault::Hold {
                seq: FIRST,
                gate: early.clone(),
            },
            TcpFault::Hold {
                seq: LINES,
                gate: late.clone(),
            },
        ],
    )?;
    let port = server.local_addr().port();
    let lines: Vec<String> = (1..=LINES)
        .map(|i| format!("line {i} {}", words::token(4)))
        .collect();
    let mut run = run_client(subject, "127.0.0.1", port, &lines)?;
    let holding =
        |seq: u64| move |e: &TcpEvent| matches!(e, TcpEvent::Holding { seq: s, .. } if *s == seq);
    let looks = watch::look_at_two_holds(
        &mut run,
        server.journal(),
        (holding(FIRST), &early),
        (holding(LINES), &late),
    );
    let (outcome, seen_at_end) = finish_looking(run, Instant::now() + FINISH);
    let events = settled(server.journal());
    let mut conversation = Conversation::new(&scenario, &outcome, &events, &lines, true);
    conversation.seen = seen_at_end;
    let (first, last) = match looks {
        TwoLooks::Seen { first, last } => (first, last),
        // It never got that far: the usual diagnosis says why.
        TwoLooks::NotReached => return conversation.expect_success(),
        TwoLooks::Hidden(hidden) => {
            let f = watch::hidden_failure(&hidden, CH_TCP);
            return Err(conversation.fail(f.expected, f.actual, f.hint));
        }
    };
    let looked = watch::looks_shown(
        &format!("at line {FIRST}"),
        &first,
        &format!("at line {LINES}"),
        &last,
    );
    conversation.seen = Some(match conversation.seen.take() {
        Some(at_end) => format!("{looked}\n  {at_end}"),
        None => looked,
    });
    // A program that has sent everything and half-closed waits for its replies in FIN-WAIT-2 (the
    // server's kernel acknowledged the FIN; the server has not closed yet): that is right too.
    let right = |r: &SocketRow| {
        r.proto.starts_with("tcp")
            && matches!(r.state, "ESTAB" | "FIN-WAIT-1" | "FIN-WAIT-2")
            && r.remote.is_some_and(|a| a.port() == port)
    };
    let words = format!(
        "a TCP connection (ESTAB, or FIN-WAIT-2 once it has half-closed) to the server's port {port}"
    );
    if let Err(f) =
        watch::judge_client_looks((&first, &last), (FIRST, LINES), right, &words, CH_TCP)
    {
        return Err(conversation.fail(f.expected, f.actual, f.hint));
    }
    conversation.expect_success()
}

/// Expects exit status 1, one line on standard error, nothing made up, in time.
fn expect_reported_error(conversation: &Conversation<'_>, what: &str) -> Result<(), Box<Failure>> {
    let outcome = conversation.outcome;
    let stderr_lines = outcome
        .stderr
        .iter()
        .filter(|p| !p.text.trim().is_empty())
        .count();
    let hint = if let Some(hint) = general_hint(outcome, CH_TCP) {
        Some(hint)
    } else if outcome.ending == Ending::StillRunning {
        Some(Hint::Hung { chapter: CH_TCP })
    } else if !outcome.stdout.is_empty() {
        Some(Hint::MadeUpReplies { chapter: CH_TCP })
    } else if outcome.ending != Ending::Exited(1) || stderr_lines != 1 {
        Some(Hint::ErrorNotReported { chapter: CH_TCP })
    } else {
        None
    };
    match hint {
        Some(hint) => Err(conversation.fail(
            format!("{what}: nothing on standard output, exactly one line on standard error, exit status 1"),
            format!(
                "{}; standard error: {}",
                describe(outcome),
                quote_lines(&outcome.stderr.iter().map(|p| p.text.clone()).collect::<Vec<_>>())
            ),
            hint,
        )),
        None => Ok(()),
    }
}

fn server_closes_before_replying(subject: &Subject) -> Result<(), Box<Failure>> {
    let scenario =
        "the server reads the program's first line and closes the connection without replying";
    let lines = words::lines(2);
    let server = start_server(
        "127.0.0.1:0",
        secret_script(1, 0),
        vec![TcpFault::CloseBeforeReply],
    )?;
    let run = run_client(subject, "127.0.0.1", server.local_addr().port(), &lines)?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    let conversation = Conversation::new(scenario, &outcome, &events, &lines, true);
    expect_reported_error(
        &conversation,
        "the program to say that the server closed before replying",
    )
}

fn connection_refused(subject: &Subject) -> Result<(), Box<Failure>> {
    let scenario = "nothing listens on the port the program is given, so the connection is refused";
    // A port that was free a moment ago: listen, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Failure::setup(CH_TCP, format!("could not find a free TCP port: {e}")))?
        .port();
    let lines = words::lines(1);
    let run = run_client(subject, "127.0.0.1", port, &lines)?;
    let outcome = run.finish(Instant::now() + FINISH);
    let conversation = Conversation::new(scenario, &outcome, &[], &lines, true);
    expect_reported_error(
        &conversation,
        "the program to say that it could not connect",
    )
}
