//! Checks for `udp_client HOST PORT` (chapter 2).
//!
//! Every check starts a `support` UDP server in this process whose replies carry a secret the
//! program cannot guess, runs the program, and compares what it printed with what the server
//! really sent to the program's address. The server's journal also says what the program sent,
//! from which address, and how often: that is how a missing retry or a second socket shows.
//! Over a thousand lines, while the server holds a reply back, the grader also looks at the
//! program from outside ([`crate::inspect`]): its one socket, and descriptors that do not grow.

use std::collections::BTreeSet;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::journal::Stamped;
use support::running::Running;
use support::udp_server::{UdpEvent, UdpFault, UdpOptions, UdpReplyFn, UdpServer};

use crate::diagnose::general_hint;
use crate::failure::{Failure, RunReport, Transcript, describe, plural, quote, quote_lines};
use crate::hint::{CH_UDP, Hint};
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
        name: "resends_a_lost_datagram",
        run: resends_a_lost_datagram,
    },
    Check {
        name: "ignores_strangers",
        run: ignores_strangers,
    },
    Check {
        name: "long_replies",
        run: long_replies,
    },
    Check {
        name: "several_clients_at_once",
        run: several_clients_at_once,
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
        name: "server_never_answers",
        run: server_never_answers,
    },
    Check {
        name: "no_server",
        run: no_server,
    },
    Check {
        name: "one_socket_and_no_leak_over_1000_lines",
        run: one_socket_and_no_leak,
    },
];

/// The contract's numbers: 1 s per try, 3 tries.
const TRIES: usize = 3;
const TRY_WAIT: Duration = Duration::from_secs(1);

type Events = Vec<Stamped<UdpEvent>>;

/// Replies `SECRET.N PAYLOAD-IN-CAPITALS`: readable, and impossible to make up.
fn secret_replies() -> UdpReplyFn {
    let secret = words::token(6);
    Arc::new(move |request| {
        let mut reply = format!("{secret}.{} ", request.seq).into_bytes();
        reply.extend(request.payload.to_ascii_uppercase());
        reply
    })
}

fn start_server(
    bind: &str,
    replies: UdpReplyFn,
    faults: Vec<UdpFault>,
) -> Result<Running<UdpEvent>, Box<Failure>> {
    let addr: SocketAddr = bind.parse().expect("a literal address");
    let options = UdpOptions {
        replies,
        faults,
        trace: false,
    };
    UdpServer::bind(addr, options)
        .and_then(UdpServer::spawn)
        .map_err(|e| {
            setup_failure(format!(
                "could not start the reference UDP server on {bind}: {e}"
            ))
        })
}

fn setup_failure(message: String) -> Box<Failure> {
    Failure::setup(CH_UDP, message)
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
    .map_err(|e| setup_failure(format!("could not start {}: {e}", subject.shown_as)))
}

/// What one client run did, seen from both sides.
struct Exchange<'a> {
    scenario: &'a str,
    outcome: &'a Outcome,
    /// Server events that concern this client (found by its requests' payloads and addresses).
    events: Events,
    lines: &'a [String],
    /// What the grader saw of the program from outside (its sockets), shown in a failure.
    seen: Option<String>,
}

impl<'a> Exchange<'a> {
    fn new(
        scenario: &'a str,
        outcome: &'a Outcome,
        all: &[Stamped<UdpEvent>],
        lines: &'a [String],
    ) -> Self {
        let mine: BTreeSet<SocketAddr> = all
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Received { from, payload } if is_one_of(payload, lines) => Some(*from),
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
        Exchange {
            scenario,
            outcome,
            events,
            lines,
            seen: None,
        }
    }

    fn addresses(&self) -> BTreeSet<SocketAddr> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Received { from, .. } => Some(*from),
                _ => None,
            })
            .collect()
    }

    fn received(&self) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Received { payload, .. } => Some(payload.clone()),
                _ => None,
            })
            .collect()
    }

    fn replies(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::Replied { payload, .. } => {
                    Some(String::from_utf8_lossy(payload).into_owned())
                }
                _ => None,
            })
            .collect()
    }

    fn decoys(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                UdpEvent::StrangerSent { payload, .. } => {
                    Some(String::from_utf8_lossy(payload).into_owned())
                }
                _ => None,
            })
            .collect()
    }

    fn transcript(&self) -> Transcript {
        let mut t = Transcript::of(self.outcome);
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

    fn fail(&self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let report = RunReport {
            scenario: self.scenario,
            outcome: self.outcome,
            lines: self.lines,
            seen: self.seen.as_deref(),
        };
        report.fail(self.transcript(), expected, actual, hint)
    }

    /// The program should have sent every line, printed every reply, and exited 0.
    fn expect_success(&self) -> Result<(), Box<Failure>> {
        let printed = self.outcome.stdout_lines();
        let replies = self.replies();
        let expected = format!(
            "exit status 0, and one reply per input line ({}) on standard output, exactly as the \
             server sent them; the server sent {}",
            self.lines.len(),
            quote_lines(&replies)
        );
        let actual = describe(self.outcome);
        let well_ended = self.outcome.ending == Ending::Exited(0);
        if well_ended && printed == replies && replies.len() == self.lines.len() {
            return self.expect_requests();
        }
        Err(self.fail(expected, actual, self.diagnose()))
    }

    /// The server received each line once (or a few times, when a copy was lost), in order,
    /// from one address.
    fn expect_requests(&self) -> Result<(), Box<Failure>> {
        let mut sent = self.received();
        sent.dedup();
        let wanted: Vec<Vec<u8>> = self.lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        if sent != wanted {
            return Err(self.fail(
                format!(
                    "the server to receive each input line once, without its newline: {}",
                    quote_lines(&wanted)
                ),
                format!("the server received {}", quote_lines(&self.received())),
                Hint::WrongRequests { chapter: CH_UDP },
            ));
        }
        if self.addresses().len() > 1 {
            return Err(self.fail(
                "every datagram from one socket (one address and port)".into(),
                format!(
                    "datagrams came from {} addresses: {:?}",
                    self.addresses().len(),
                    self.addresses()
                ),
                Hint::UdpManySockets,
            ));
        }
        Ok(())
    }

    /// Names the mistake behind a failed exchange.
    fn diagnose(&self) -> Hint {
        if let Some(hint) = general_hint(self.outcome, CH_UDP) {
            return hint;
        }
        let printed = self.outcome.stdout_lines();
        let replies = self.replies();
        let stderr = self.outcome.stderr_text().to_lowercase();
        if stderr.contains("in use") || stderr.contains("os error 98") {
            return Hint::UdpFixedPort;
        }
        if self.received().is_empty() {
            return if printed.is_empty() {
                Hint::FailedNeedlessly { chapter: CH_UDP }
            } else {
                Hint::MadeUpReplies { chapter: CH_UDP }
            };
        }
        let decoys = self.decoys();
        if printed.iter().any(|p| decoys.contains(p)) {
            return Hint::UdpAcceptsStrangers;
        }
        if printed.iter().any(|p| {
            !replies.contains(p)
                && replies
                    .iter()
                    .any(|r| r.len() > p.len() && r.starts_with(p.as_str()))
        }) {
            return Hint::UdpTruncated;
        }
        if printed.iter().any(|p| !replies.contains(p)) {
            return Hint::MadeUpReplies { chapter: CH_UDP };
        }
        if self.addresses().len() > 1 {
            return Hint::UdpManySockets;
        }
        let lost_and_not_resent = self.events.iter().any(|e| match &e.event {
            UdpEvent::Dropped { payload, .. } => {
                self.received().iter().filter(|p| *p == payload).count() < 2
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
}

fn is_one_of(payload: &[u8], lines: &[String]) -> bool {
    lines.iter().any(|l| l.as_bytes() == payload)
}

/// Runs one client against a fresh server and expects a complete exchange.
fn exchange(
    subject: &Subject,
    scenario: &str,
    bind: &str,
    host: &str,
    faults_for: impl FnOnce(&[String]) -> Vec<UdpFault>,
    replies: UdpReplyFn,
    lines: usize,
) -> Result<(), Box<Failure>> {
    let lines = words::lines(lines);
    let server = start_server(bind, replies, faults_for(&lines))?;
    let port = server.local_addr().port();
    let run = run_client(subject, host, port, &lines)?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    Exchange::new(scenario, &outcome, &events, &lines).expect_success()
}

fn plain_exchange(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "a UDP server on 127.0.0.1 answers every datagram; the program sends 3 lines",
        "127.0.0.1:0",
        "127.0.0.1",
        |_| vec![],
        secret_replies(),
        3,
    )
}

fn resends_a_lost_datagram(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "the server ignores the first datagram of the second line, as if the network had lost it; \
         the program must send it again after waiting up to 1 s",
        "127.0.0.1:0",
        "127.0.0.1",
        |lines| {
            vec![UdpFault::DropFirstCopy {
                only: Some(lines[1].as_bytes().to_vec()),
            }]
        },
        secret_replies(),
        3,
    )
}

fn ignores_strangers(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "before each reply, a stranger (another socket, another port) sends the program a datagram; \
         the program must print only the server's replies",
        "127.0.0.1:0",
        "127.0.0.1",
        |_| vec![UdpFault::Stranger],
        secret_replies(),
        3,
    )
}

fn long_replies(subject: &Subject) -> Result<(), Box<Failure>> {
    let secret = words::token(6);
    let replies: UdpReplyFn = Arc::new(move |request| {
        // 3,000 bytes, then 20,000, then 60,000: more than any "usual" buffer.
        let len = [3_000, 20_000, 60_000][(request.seq as usize - 1) % 3];
        let mut reply = format!("{secret}.{} ", request.seq);
        reply.push_str(&words::text(len - reply.len()));
        reply.into_bytes()
    });
    exchange(
        subject,
        "the server's replies are 3,000, 20,000 and 60,000 bytes long, one datagram each",
        "127.0.0.1:0",
        "127.0.0.1",
        |_| vec![],
        replies,
        3,
    )
}

fn server_on_ipv6(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "the server listens on the IPv6 loopback address ::1 and the program is given HOST = ::1",
        "[::1]:0",
        "::1",
        |_| vec![],
        secret_replies(),
        2,
    )
    .map_err(with_family_hint)
}

fn server_by_name(subject: &Subject) -> Result<(), Box<Failure>> {
    // A UDP client cannot tell which of a name's addresses has a server behind it (nothing
    // answers a datagram sent to the wrong one), so the contract asks only for the first: the
    // server listens where `localhost` resolves first (127.0.0.1 here, ::1 on many systems).
    let first = ("localhost", 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| {
            setup_failure("the name localhost does not resolve on this machine".into())
        })?;
    let bind = SocketAddr::new(first.ip(), 0).to_string();
    let scenario = format!(
        "the server listens on {}, the first address of the name localhost, and the program is \
         given HOST = localhost",
        first.ip()
    );
    exchange(
        subject,
        &scenario,
        &bind,
        "localhost",
        |_| vec![],
        secret_replies(),
        2,
    )
    .map_err(with_family_hint)
}

/// A program that could not talk to the server at all, in an address check, mishandles the address.
fn with_family_hint(mut failure: Box<Failure>) -> Box<Failure> {
    if matches!(
        failure.hint,
        Hint::FailedNeedlessly { .. } | Hint::Hung { .. }
    ) {
        failure.hint = Hint::AddressFamily { chapter: CH_UDP };
    }
    failure
}

fn several_clients_at_once(subject: &Subject) -> Result<(), Box<Failure>> {
    const CLIENTS: usize = 4;
    let scenario = "4 copies of the program talk to one server at the same time, 3 lines each";
    let server = start_server("127.0.0.1:0", secret_replies(), vec![])?;
    let port = server.local_addr().port();
    let inputs: Vec<Vec<String>> = (0..CLIENTS).map(|_| words::lines(3)).collect();
    let runs = inputs
        .iter()
        .map(|lines| run_client(subject, "127.0.0.1", port, lines))
        .collect::<Result<Vec<_>, _>>()?;
    let deadline = Instant::now() + FINISH;
    let outcomes: Vec<Outcome> = runs.into_iter().map(|run| run.finish(deadline)).collect();
    let events = server.journal().snapshot();
    let mut addresses = BTreeSet::new();
    for (outcome, lines) in outcomes.iter().zip(&inputs) {
        let exchange = Exchange::new(scenario, outcome, &events, lines);
        exchange.expect_success()?;
        addresses.extend(exchange.addresses());
    }
    if addresses.len() < CLIENTS {
        let exchange = Exchange::new(scenario, &outcomes[0], &events, &inputs[0]);
        return Err(exchange.fail(
            format!("{CLIENTS} programs, {CLIENTS} different addresses"),
            format!(
                "their datagrams came from {} addresses: {addresses:?}",
                addresses.len()
            ),
            Hint::UdpFixedPort,
        ));
    }
    Ok(())
}

fn server_never_answers(subject: &Subject) -> Result<(), Box<Failure>> {
    let scenario = "the server receives the program's datagrams but never answers; the program \
                    must try 3 times, waiting up to 1 s each time, then give up";
    let lines = words::lines(1);
    let server = start_server("127.0.0.1:0", secret_replies(), vec![UdpFault::Silent])?;
    let run = run_client(subject, "127.0.0.1", server.local_addr().port(), &lines)?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    let exchange = Exchange::new(scenario, &outcome, &events, &lines);
    let tries: Vec<Instant> = exchange
        .events
        .iter()
        .filter(|e| matches!(e.event, UdpEvent::Received { .. }))
        .map(|e| e.at)
        .collect();
    let expected = format!(
        "{TRIES} datagrams about 1 s apart, nothing on standard output, one line on standard \
         error, exit status 1, within about {} s",
        TRIES as u64 * TRY_WAIT.as_secs() + 1
    );
    let actual = format!(
        "the server received {} after {:.1} s; {}; standard error: {}",
        plural(tries.len(), "datagram", "datagrams"),
        outcome.elapsed.as_secs_f64(),
        describe(&outcome),
        quote(outcome.stderr_text().as_bytes()),
    );
    let spread = match (tries.first(), tries.last()) {
        (Some(first), Some(last)) => *last - *first,
        _ => Duration::ZERO,
    };
    let hint = if let Some(hint) = general_hint(&outcome, CH_UDP) {
        Some(hint)
    } else if outcome.ending == Ending::StillRunning {
        Some(if tries.len() >= TRIES {
            Hint::UdpTooManyTries
        } else {
            Hint::UdpNoTimeout
        })
    } else if !outcome.stdout.is_empty() {
        Some(Hint::MadeUpReplies { chapter: CH_UDP })
    } else if tries.is_empty() {
        Some(Hint::FailedNeedlessly { chapter: CH_UDP })
    } else if tries.len() < TRIES {
        Some(Hint::UdpNoRetry)
    } else if tries.len() > TRIES
        // Tries must be spread over the waits: at least 2 waits of most of a second.
        || spread < TRY_WAIT.mul_f64(1.5)
        // ... and not much longer than 3 waits.
        || outcome.elapsed > TRY_WAIT * (TRIES as u32 + 2)
    {
        Some(Hint::UdpTooManyTries)
    } else if outcome.ending != Ending::Exited(1) || outcome.stderr.is_empty() {
        Some(Hint::ErrorNotReported { chapter: CH_UDP })
    } else {
        None
    };
    match hint {
        Some(hint) => Err(exchange.fail(expected, actual, hint)),
        None => Ok(()),
    }
}

fn no_server(subject: &Subject) -> Result<(), Box<Failure>> {
    let scenario = "nothing is bound to the port the program is given; it must give up in time \
                    (3 tries of 1 s at most) with a message";
    // A port that was free a moment ago: bind, note it, close.
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map_err(|e| setup_failure(format!("could not find a free UDP port: {e}")))?
        .port();
    let lines = words::lines(1);
    let run = run_client(subject, "127.0.0.1", port, &lines)?;
    let outcome = run.finish(Instant::now() + FINISH);
    let exchange = Exchange::new(scenario, &outcome, &[], &lines);
    let hint = if let Some(hint) = general_hint(&outcome, CH_UDP) {
        Some(hint)
    } else {
        match outcome.ending {
            Ending::StillRunning => Some(Hint::UdpNoTimeout),
            _ if !outcome.stdout.is_empty() => Some(Hint::MadeUpReplies { chapter: CH_UDP }),
            _ if outcome.elapsed > TRY_WAIT * (TRIES as u32 + 2) => Some(Hint::UdpTooManyTries),
            Ending::Exited(1) if !outcome.stderr.is_empty() => None,
            _ => Some(Hint::ErrorNotReported { chapter: CH_UDP }),
        }
    };
    match hint {
        Some(hint) => Err(exchange.fail(
            "nothing on standard output, one line on standard error, exit status 1, within 5 s"
                .into(),
            format!(
                "{}; standard error: {}",
                describe(&outcome),
                quote(outcome.stderr_text().as_bytes())
            ),
            hint,
        )),
        None => Ok(()),
    }
}

/// 1000 lines. The server holds its reply to line 10 back while the grader looks at the
/// program's sockets and counts its descriptors, and again at line 1000: the count must not have
/// grown, and the one socket must be a UDP socket. Nothing waits per line: the grader waits only
/// for the two holds, and looks within milliseconds, long before the program's 1 s try is over.
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
        secret_replies(),
        vec![
            UdpFault::Hold {
                seq: FIRST,
                gate: early.clone(),
            },
            UdpFault::Hold {
                seq: LINES,
                gate: late.clone(),
            },
        ],
    )?;
    let server_addr = server.local_addr();
    let lines: Vec<String> = (1..=LINES)
        .map(|i| format!("line {i} {}", words::token(4)))
        .collect();
    let mut run = run_client(subject, "127.0.0.1", server_addr.port(), &lines)?;
    let holding =
        |seq: u64| move |e: &UdpEvent| matches!(e, UdpEvent::Holding { seq: s, .. } if *s == seq);
    let looks = watch::look_at_two_holds(
        &mut run,
        server.journal(),
        (holding(FIRST), &early),
        (holding(LINES), &late),
    );
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    let mut exchange = Exchange::new(&scenario, &outcome, &events, &lines);
    let (first, last) = match looks {
        TwoLooks::Seen { first, last } => (first, last),
        // It never got that far: the usual diagnosis says why.
        TwoLooks::NotReached => return exchange.expect_success(),
        TwoLooks::Hidden(hidden) => {
            let f = watch::hidden_failure(&hidden, CH_UDP);
            return Err(exchange.fail(f.expected, f.actual, f.hint));
        }
    };
    exchange.seen = Some(watch::looks_shown(
        &format!("at line {FIRST}"),
        &first,
        &format!("at line {LINES}"),
        &last,
    ));
    // Connected or not: a connected UDP socket has the server as its peer.
    let right = |r: &SocketRow| {
        r.proto.starts_with("udp") && r.remote.is_none_or(|a| a.port() == server_addr.port())
    };
    let words = format!(
        "a UDP socket (connected to the server's port {}, or not connected)",
        server_addr.port()
    );
    if let Err(f) =
        watch::judge_client_looks((&first, &last), (FIRST, LINES), right, &words, CH_UDP)
    {
        return Err(exchange.fail(f.expected, f.actual, f.hint));
    }
    exchange.expect_success()
}
