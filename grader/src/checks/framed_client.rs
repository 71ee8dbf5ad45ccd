//! Checks for `framed_client HOST PORT` (chapter 5).
//!
//! Every check starts a `support` framed server in this process, with one fault switched on. Its
//! replies carry a secret, so a program cannot print them without receiving them; its journal
//! says which frames it received and sent, whether the client broke a frame, and how the client
//! ended. Two checks also look at the running program from outside ([`crate::inspect`]) while the
//! server holds a reply back: which sockets it holds, and whether its descriptors grow per line.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::framed_server::{FrameEvent, FrameFault, FramedOptions, FramedServer, OVER_LIMIT};
use support::gate::Gate;
use support::journal::{Journal, Stamped};
use support::running::Running;

use crate::diagnose::general_hint;
use crate::failure::{Failure, RunReport, Transcript, describe, plural, quote, quote_lines};
use crate::hint::{CH_FRAMING, Hint};
use crate::inspect::SocketRow;
use crate::manifest::Check;
use crate::program::{Ending, FINISH, Input, Outcome, Run, Subject};
use crate::watch::{self, TwoLooks};
use crate::words;

pub const CHECKS: &[Check] = &[
    Check {
        name: "plain_exchange",
        run: plain_exchange,
    },
    Check {
        name: "frames_one_byte_at_a_time",
        run: frames_one_byte_at_a_time,
    },
    Check {
        name: "frames_sliced_at_random",
        run: frames_sliced_at_random,
    },
    Check {
        name: "frames_glued_together",
        run: frames_glued_together,
    },
    Check {
        name: "a_large_frame",
        run: a_large_frame,
    },
    Check {
        name: "server_on_ipv6",
        run: server_on_ipv6,
    },
    Check {
        name: "one_socket_and_no_leak_over_1000_lines",
        run: one_socket_and_no_leak,
    },
    Check {
        name: "several_clients_at_once",
        run: several_clients_at_once,
    },
    Check {
        name: "connection_closes_inside_a_frame",
        run: connection_closes_inside_a_frame,
    },
    Check {
        name: "length_over_the_limit",
        run: length_over_the_limit,
    },
];

/// A large frame: over 1 MiB, so that it takes many reads and more than one socket buffer.
const LARGE: usize = 1536 * 1024;

fn options(farewell: usize, faults: Vec<FrameFault>) -> FramedOptions {
    let secret = words::token(6);
    let farewell_secret = secret.clone();
    FramedOptions {
        replies: Arc::new(move |request| {
            let mut reply = format!("{secret}.{} ", request.seq).into_bytes();
            reply.extend(request.payload.to_ascii_uppercase());
            reply
        }),
        farewell: Arc::new(move |received| {
            (1..=farewell)
                .map(|i| {
                    format!(
                        "{farewell_secret} farewell {i} of {farewell}: you sent {received} frames"
                    )
                    .into_bytes()
                })
                .collect()
        }),
        faults,
        trace: false,
    }
}

fn start_server(bind: &str, options: FramedOptions) -> Result<Running<FrameEvent>, Box<Failure>> {
    let addr: SocketAddr = bind.parse().expect("a literal address");
    FramedServer::bind(addr, options)
        .and_then(FramedServer::spawn)
        .map_err(|e| {
            Failure::setup(
                CH_FRAMING,
                format!("could not start the reference framed server on {bind}: {e}"),
            )
        })
}

fn run_client(subject: &Subject, host: &str, port: u16, input: Input) -> Result<Run, Box<Failure>> {
    Run::start(subject, &[host.to_string(), port.to_string()], input).map_err(|e| {
        Failure::setup(
            CH_FRAMING,
            format!("could not start {}: {e}", subject.shown_as),
        )
    })
}

/// One client run and the server's events on its connections.
struct Conversation<'a> {
    scenario: String,
    outcome: &'a Outcome,
    lines: &'a [String],
    conns: Vec<u64>,
    events: Vec<Stamped<FrameEvent>>,
    /// What the check saw from outside, shown in the failure.
    seen: Option<String>,
}

impl<'a> Conversation<'a> {
    fn new(
        scenario: String,
        outcome: &'a Outcome,
        all: &[Stamped<FrameEvent>],
        lines: &'a [String],
        alone: bool,
    ) -> Self {
        let conns: BTreeSet<u64> = all
            .iter()
            .filter_map(|e| match &e.event {
                FrameEvent::Accepted { conn, .. } if alone => Some(*conn),
                FrameEvent::Received { conn, payload }
                    if lines.iter().any(|l| l.as_bytes() == payload.as_slice()) =>
                {
                    Some(*conn)
                }
                _ => None,
            })
            .collect();
        let events = all
            .iter()
            .filter(|e| conns.contains(&e.event.conn()))
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

    fn sent(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                FrameEvent::Sent { payload, .. } => {
                    Some(String::from_utf8_lossy(payload).into_owned())
                }
                _ => None,
            })
            .collect()
    }

    fn received(&self) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                FrameEvent::Received { payload, .. } => Some(payload.clone()),
                _ => None,
            })
            .collect()
    }

    fn any(&self, want: impl Fn(&FrameEvent) -> bool) -> bool {
        self.events.iter().any(|e| want(&e.event))
    }

    /// An orderly end of stream from the program itself (see [`Outcome::half_closed_itself`]).
    fn half_closed(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(e.event, FrameEvent::PeerHalfClosed { .. })
                && self.outcome.half_closed_itself(e.at)
        })
    }

    /// A reset of the program's own doing (see [`Outcome::reset_itself`]).
    fn reset(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(e.event, FrameEvent::PeerReset { .. }) && self.outcome.reset_itself(e.at)
        })
    }

    fn transcript(&self) -> Transcript {
        let mut t = Transcript::of(self.outcome);
        let many = self.conns.len() > 1;
        for e in &self.events {
            let text = match &e.event {
                FrameEvent::Accepted { peer, .. } => format!("accepted a connection from {peer}"),
                FrameEvent::Received { payload, .. } => format!("got frame {}", quote(payload)),
                FrameEvent::Sent { payload, .. } => format!("sent frame {}", quote(payload)),
                FrameEvent::SentBroken {
                    announced, sent, ..
                } => format!("sent a header announcing {announced} bytes, then only {sent}"),
                FrameEvent::Holding { seq, .. } => {
                    format!("holds its reply to frame {seq} back while the grader looks")
                }
                FrameEvent::PeerHalfClosed { .. } => {
                    "read end of stream: the program half-closed (or closed)".into()
                }
                FrameEvent::PeerBrokeFrame { .. } => {
                    "read a broken frame: a length that makes no sense, or a frame cut short".into()
                }
                FrameEvent::PeerReset { .. } => "the connection was reset".into(),
                FrameEvent::Closed { .. } => "closed the connection".into(),
            };
            if many {
                t.server(e.at, format!("[connection {}] {text}", e.event.conn()));
            } else {
                t.server(e.at, text);
            }
        }
        t
    }

    fn fail(&self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let report = RunReport {
            scenario: &self.scenario,
            outcome: self.outcome,
            lines: self.lines,
            seen: self.seen.as_deref(),
        };
        report.fail(self.transcript(), expected, actual, hint)
    }

    fn expect_success(&self) -> Result<(), Box<Failure>> {
        let sent = self.sent();
        let ok = self.outcome.ending == Ending::Exited(0)
            && self.conns.len() == 1
            && self.outcome.stdout_lines() == sent
            && self.half_closed()
            && !self.reset()
            && !sent.is_empty();
        if !ok {
            return Err(self.fail(
                format!(
                    "one connection, exit status 0, and on standard output the payload of every \
                     frame the server sent: {}",
                    quote_lines(&sent)
                ),
                format!(
                    "{}; {}",
                    plural(self.conns.len(), "connection", "connections"),
                    describe(self.outcome)
                ),
                self.diagnose(),
            ));
        }
        let wanted: Vec<Vec<u8>> = self.lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        if self.received() != wanted {
            return Err(self.fail(
                format!(
                    "the server to receive one frame per input line, without its newline, in \
                     order: {}",
                    quote_lines(&wanted)
                ),
                format!("the server received {}", quote_lines(&self.received())),
                Hint::WrongRequests {
                    chapter: CH_FRAMING,
                },
            ));
        }
        Ok(())
    }

    fn diagnose(&self) -> Hint {
        if let Some(hint) = general_hint(self.outcome, CH_FRAMING) {
            return hint;
        }
        let printed = self.outcome.stdout_lines();
        let sent = self.sent();
        if self.conns.len() > 1 {
            return Hint::TcpConnectionPerLine;
        }
        if self.conns.is_empty() {
            return if printed.is_empty() {
                Hint::FailedNeedlessly {
                    chapter: CH_FRAMING,
                }
            } else {
                Hint::MadeUpReplies {
                    chapter: CH_FRAMING,
                }
            };
        }
        if self.any(|e| matches!(e, FrameEvent::PeerBrokeFrame { .. }))
            && self.received().is_empty()
        {
            return Hint::FramedByteOrder;
        }
        let fragment = |p: &String| {
            !sent.contains(p) && !p.is_empty() && sent.iter().any(|s| s.contains(p.as_str()))
        };
        if printed.iter().any(fragment) {
            return Hint::FramedOneReadOneFrame;
        }
        if printed.iter().any(|p| !sent.contains(p)) {
            return Hint::MadeUpReplies {
                chapter: CH_FRAMING,
            };
        }
        if !self.half_closed() {
            return if self.reset() {
                // It ended the connection, but with an abort instead of an end of stream.
                Hint::TcpReset
            } else if self.outcome.ending == Ending::StillRunning {
                Hint::TcpNoHalfClose
            } else {
                Hint::FailedNeedlessly {
                    chapter: CH_FRAMING,
                }
            };
        }
        let missing = sent.iter().filter(|s| !printed.contains(s)).count();
        match self.outcome.ending {
            // Frames the server sent and the program never printed, though it went on: frames
            // that came in one read with another, and were thrown away with the rest of it.
            _ if missing > 0 && printed.iter().all(|p| sent.contains(p)) && !printed.is_empty() => {
                if sent.starts_with(&printed) && self.outcome.ending != Ending::Exited(0) {
                    Hint::TcpLeftEarly
                } else {
                    Hint::FramedOneReadOneFrame
                }
            }
            Ending::StillRunning => Hint::Hung {
                chapter: CH_FRAMING,
            },
            Ending::Exited(0) => Hint::WrongOutput {
                chapter: CH_FRAMING,
            },
            _ => Hint::FailedNeedlessly {
                chapter: CH_FRAMING,
            },
        }
    }
}

/// A server with `faults`, one client with `lines` input lines, a whole conversation expected.
fn exchange(
    subject: &Subject,
    scenario: String,
    bind: &str,
    host: &str,
    lines: usize,
    farewell: usize,
    faults: Vec<FrameFault>,
) -> Result<(), Box<Failure>> {
    let lines = words::lines(lines);
    let server = start_server(bind, options(farewell, faults))?;
    let run = run_client(
        subject,
        host,
        server.local_addr().port(),
        Input::Lines(lines.clone()),
    )?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = settled(server.journal());
    Conversation::new(scenario, &outcome, &events, &lines, true).expect_success()
}

fn plain_exchange(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "a framed server answers each frame with one frame, and sends 2 more after the program \
         half-closes; the program sends 3 lines"
            .into(),
        "127.0.0.1:0",
        "127.0.0.1",
        3,
        2,
        vec![],
    )
}

fn frames_one_byte_at_a_time(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "the server sends every frame one byte per write, each byte read before the next is sent"
            .into(),
        "127.0.0.1:0",
        "127.0.0.1",
        3,
        2,
        vec![FrameFault::Trickle],
    )
}

fn frames_sliced_at_random(subject: &Subject) -> Result<(), Box<Failure>> {
    let seed = fastrand::u64(..);
    exchange(
        subject,
        format!(
            "the server cuts every frame into pieces of 1 to 7 bytes at random (seed {seed}; \
             `framed-server --slice --seed {seed}` replays it), one write each"
        ),
        "127.0.0.1:0",
        "127.0.0.1",
        3,
        3,
        vec![FrameFault::Slice { seed }],
    )
}

fn frames_glued_together(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "after the program half-closes, the server sends 5 frames in one single write".into(),
        "127.0.0.1:0",
        "127.0.0.1",
        2,
        5,
        vec![FrameFault::Coalesce],
    )
}

fn a_large_frame(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        format!("the server's reply to the first frame is {LARGE} bytes long"),
        "127.0.0.1:0",
        "127.0.0.1",
        2,
        1,
        vec![FrameFault::Large { bytes: LARGE }],
    )
}

fn server_on_ipv6(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "the server listens on ::1 and the program is given HOST = ::1".into(),
        "[::1]:0",
        "::1",
        2,
        1,
        vec![],
    )
    .map_err(|mut failure| {
        if matches!(
            failure.hint,
            Hint::FailedNeedlessly { .. } | Hint::Hung { .. }
        ) {
            failure.hint = Hint::AddressFamily {
                chapter: CH_FRAMING,
            };
        }
        failure
    })
}

fn several_clients_at_once(subject: &Subject) -> Result<(), Box<Failure>> {
    const CLIENTS: usize = 4;
    let seed = fastrand::u64(..);
    let scenario = format!(
        "{CLIENTS} copies of the program talk to one server at once, 3 lines each, while the server \
         slices its writes at random (seed {seed})"
    );
    let server = start_server("127.0.0.1:0", options(2, vec![FrameFault::Slice { seed }]))?;
    let port = server.local_addr().port();
    let inputs: Vec<Vec<String>> = (0..CLIENTS).map(|_| words::lines(3)).collect();
    let runs = inputs
        .iter()
        .map(|lines| run_client(subject, "127.0.0.1", port, Input::Lines(lines.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let deadline = Instant::now() + FINISH;
    let outcomes: Vec<Outcome> = runs.into_iter().map(|run| run.finish(deadline)).collect();
    let events = settled(server.journal());
    for (outcome, lines) in outcomes.iter().zip(&inputs) {
        Conversation::new(scenario.clone(), outcome, &events, lines, false).expect_success()?;
    }
    Ok(())
}

/// 1000 lines. The server holds its reply to line 10, while the grader looks at the program's
/// sockets and counts its descriptors, and again at line 1000: the count must not have grown.
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
        options(
            1,
            vec![
                FrameFault::Hold {
                    seq: FIRST,
                    gate: early.clone(),
                },
                FrameFault::Hold {
                    seq: LINES,
                    gate: late.clone(),
                },
            ],
        ),
    )?;
    let port = server.local_addr().port();
    let lines: Vec<String> = (1..=LINES)
        .map(|i| format!("line {i} {}", words::token(4)))
        .collect();
    let mut run = run_client(subject, "127.0.0.1", port, Input::Lines(lines.clone()))?;
    let holding = |seq: u64| move |e: &FrameEvent| matches!(e, FrameEvent::Holding { seq: s, .. } if *s == seq);
    let looks = watch::look_at_two_holds(
        &mut run,
        server.journal(),
        (holding(FIRST), &early),
        (holding(LINES), &late),
    );
    let (outcome, seen_at_end) = watch::finish_looking(run, Instant::now() + FINISH);
    let events = settled(server.journal());
    let mut conversation = Conversation::new(scenario, &outcome, &events, &lines, true);
    conversation.seen = seen_at_end;
    let (first, last) = match looks {
        TwoLooks::Seen { first, last } => (first, last),
        // It never got that far: the usual diagnosis says why.
        TwoLooks::NotReached => return conversation.expect_success(),
        TwoLooks::Hidden(hidden) => {
            let f = watch::hidden_failure(&hidden, CH_FRAMING);
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
    // The same rule as every client's: the one connection, also once it has half-closed and
    // waits in FIN-WAIT-2 for the server's last frames.
    let right = |r: &SocketRow| {
        r.proto.starts_with("tcp")
            && matches!(r.state, "ESTAB" | "FIN-WAIT-1" | "FIN-WAIT-2")
            && r.remote.is_some_and(|a| a.port() == port)
    };
    let words = format!(
        "a TCP connection (ESTAB, or FIN-WAIT-2 once it has half-closed) to the server's port {port}"
    );
    if let Err(f) =
        watch::judge_client_looks((&first, &last), (FIRST, LINES), right, &words, CH_FRAMING)
    {
        return Err(conversation.fail(f.expected, f.actual, f.hint));
    }
    conversation.expect_success()
}

/// Expects exit status 1, one line on standard error, nothing printed, in time.
fn expect_reported_error(
    conversation: &Conversation<'_>,
    what: &str,
    broken: Option<Hint>,
) -> Result<(), Box<Failure>> {
    let outcome = conversation.outcome;
    let stderr_lines = outcome
        .stderr
        .iter()
        .filter(|p| !p.text.trim().is_empty())
        .count();
    let chapter = CH_FRAMING;
    let hint = if let Some(hint) = general_hint(outcome, chapter) {
        // Allocating what a lying header announced can abort the program.
        match (&hint, &broken) {
            (Hint::Crashed { .. }, Some(Hint::FramedNoLimit)) => broken.clone(),
            _ => Some(hint),
        }
    } else if outcome.ending == Ending::StillRunning {
        match broken {
            Some(Hint::FramedNoLimit) => broken.clone(),
            _ => Some(Hint::Hung { chapter }),
        }
    } else if !outcome.stdout.is_empty() {
        match broken {
            Some(Hint::FramedPrintedBrokenFrame) => broken.clone(),
            _ => Some(Hint::MadeUpReplies { chapter }),
        }
    } else if outcome.ending != Ending::Exited(1) || stderr_lines != 1 {
        Some(Hint::ErrorNotReported { chapter })
    } else {
        None
    };
    match hint {
        Some(hint) => Err(conversation.fail(
            format!(
                "{what}: nothing on standard output, exactly one line on standard error, exit \
                 status 1"
            ),
            format!(
                "{}; standard error: {}",
                describe(outcome),
                quote_lines(
                    &outcome
                        .stderr
                        .iter()
                        .map(|p| p.text.clone())
                        .collect::<Vec<_>>()
                )
            ),
            hint,
        )),
        None => Ok(()),
    }
}

fn broken_reply(
    subject: &Subject,
    scenario: &str,
    fault: FrameFault,
    what: &str,
    hint: Hint,
    deadline: Duration,
) -> Result<(), Box<Failure>> {
    let lines = words::lines(2);
    let server = start_server("127.0.0.1:0", options(1, vec![fault]))?;
    let run = run_client(
        subject,
        "127.0.0.1",
        server.local_addr().port(),
        Input::Lines(lines.clone()),
    )?;
    let outcome = run.finish(Instant::now() + deadline);
    let events = settled(server.journal());
    let conversation = Conversation::new(scenario.into(), &outcome, &events, &lines, true);
    expect_reported_error(&conversation, what, Some(hint))
}

fn connection_closes_inside_a_frame(subject: &Subject) -> Result<(), Box<Failure>> {
    broken_reply(
        subject,
        "the server answers the first frame with a header and half the payload, then closes",
        FrameFault::CloseMidFrame,
        "the program to say that the connection closed inside a frame",
        Hint::FramedPrintedBrokenFrame,
        FINISH,
    )
}

fn length_over_the_limit(subject: &Subject) -> Result<(), Box<Failure>> {
    broken_reply(
        subject,
        &format!(
            "the server answers the first frame with a header announcing {OVER_LIMIT} bytes \
             (over the 16 MiB limit), then sends nothing more and keeps the connection open"
        ),
        FrameFault::OverLimit,
        "the program to refuse the length at once",
        Hint::FramedNoLimit,
        // It has nothing to wait for: a correct program is done in milliseconds.
        Duration::from_secs(4),
    )
}

/// The server's events once every connection it accepted is closed (or after a short while):
/// the server's thread journals the end of a connection (an end of stream, or a reset) as it
/// reads it, which may be just after the grader has seen the program exit.
fn settled(journal: &Journal<FrameEvent>) -> Vec<Stamped<FrameEvent>> {
    // The server closes within a millisecond of the program's end; this only bounds a wait for
    // an event that has already happened.
    let deadline = Instant::now() + Duration::from_secs(2);
    journal.wait_until(deadline, |events| {
        events.iter().all(|a| match a.event {
            FrameEvent::Accepted { conn, .. } => events
                .iter()
                .any(|e| matches!(e.event, FrameEvent::Closed { conn: c, .. } if c == conn)),
            _ => true,
        })
    });
    journal.snapshot()
}
