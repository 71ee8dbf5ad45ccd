//! Checks for `udp_client HOST PORT` (chapter 2).
//!
//! Every check starts a `support` UDP server in this process whose replies carry a secret the
//! program cannot guess, runs the program, and compares what it printed with what the server
//! really sent to the program's address ([`crate::datagrams`]). The server's journal also says
//! what the program sent, from which address, when and how often: that is how a missing retry, a
//! wrong wait or a second socket shows. Strangers ([`crate::strangers`]) send look-alike replies
//! from another port and from another address. Over a thousand lines, while the server holds a
//! reply back, the grader also looks at the program from outside ([`crate::watch`]).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::running::Running;
use support::udp_server::{UdpEvent, UdpFault, UdpOptions, UdpReplyFn, UdpServer};

use crate::datagrams::{self, Conversation, seconds};
use crate::diagnose::general_hint;
use crate::failure::{Failure, RunReport, describe, plural, quote, quote_lines};
use crate::hint::{CH_UDP, Hint};
use crate::inspect::SocketRow;
use crate::manifest::Check;
use crate::program::{Ending, FINISH, Input, Outcome, Run, Subject};
use crate::strangers::{Decoys, WithStrangers};
use crate::watch::{self, TwoLooks};
use crate::{usage, words};

macro_rules! checks {
    ($($name:ident),* $(,)?) => { &[$(Check { name: stringify!($name), run: $name }),*] };
}

pub const CHECKS: &[Check] = checks![
    plain_exchange,
    resends_a_lost_datagram,
    ignores_strangers,
    replies_before_the_next_line,
    slow_server,
    long_replies,
    several_clients_at_once,
    server_on_ipv6,
    server_by_name,
    server_never_answers,
    strangers_do_not_stretch_the_wait,
    no_server,
    one_socket_and_no_leak_over_1000_lines,
    usage_errors,
];

/// The contract's numbers: 3 tries, each followed by a wait of 1 s for the reply.
const TRIES: usize = 3;
const TRY_WAIT: Duration = Duration::from_secs(1);
/// A wait the grader measures (between two datagrams the server received, or from the last to
/// the program's exit) counts as 1 s from 0.8 s to 1.6 s: a timer never fires early, but the
/// server may read one datagram later than the next; and a loaded machine wakes a program late.
const WAIT_SHORTEST: Duration = Duration::from_millis(800);
const WAIT_LONGEST: Duration = Duration::from_millis(1600);
/// "As soon as it arrives": a reply printed this long after the server sent it was not.
const PRINT_WITHIN: Duration = Duration::from_millis(300);

/// Replies `SECRET.N PAYLOAD-IN-CAPITALS`: readable, and impossible to make up. Two calls make
/// two secrets: the server's, and the strangers' look-alikes.
fn secret_replies() -> UdpReplyFn {
    let secret = words::token(6);
    Arc::new(move |request| {
        let mut reply = format!("{secret}.{} ", request.seq).into_bytes();
        reply.extend(request.payload.to_ascii_uppercase());
        reply
    })
}

fn setup_failure(message: String) -> Box<Failure> {
    Failure::setup(CH_UDP, message)
}

fn start_server(
    bind: SocketAddr,
    replies: UdpReplyFn,
    faults: Vec<UdpFault>,
) -> Result<Running<UdpEvent>, Box<Failure>> {
    let options = UdpOptions {
        replies,
        faults,
        trace: false,
    };
    UdpServer::bind(bind, options)
        .and_then(UdpServer::spawn)
        .map_err(|e| setup_failure(format!("could not start a UDP server on {bind}: {e}")))
}

fn start_with_strangers(
    faults: Vec<UdpFault>,
    decoys: Decoys,
) -> Result<WithStrangers, Box<Failure>> {
    WithStrangers::start(secret_replies(), secret_replies(), faults, decoys).map_err(|e| {
        setup_failure(format!(
            "could not start a UDP server on 127.0.0.1 with strangers on 127.0.0.2: {e}"
        ))
    })
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

fn run_client(subject: &Subject, host: &str, port: u16, input: Input) -> Result<Run, Box<Failure>> {
    Run::start(subject, &[host.to_string(), port.to_string()], input)
        .map_err(|e| setup_failure(format!("could not start {}: {e}", subject.shown_as)))
}

/// One client run, seen from both sides.
struct Exchange<'a> {
    scenario: &'a str,
    outcome: &'a Outcome,
    talk: Conversation,
    lines: &'a [String],
    /// What the grader saw of the program's sockets, shown in a failure.
    seen: Option<String>,
    /// The check is about HOST's address: a program that reached no server mishandled it.
    about_the_address: bool,
}

impl<'a> Exchange<'a> {
    fn new(
        scenario: &'a str,
        outcome: &'a Outcome,
        events: &datagrams::Events,
        lines: &'a [String],
    ) -> Self {
        Exchange {
            scenario,
            outcome,
            talk: Conversation::of(events, lines),
            lines,
            seen: None,
            about_the_address: false,
        }
    }

    fn fail(&self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let report = RunReport {
            scenario: self.scenario,
            outcome: self.outcome,
            lines: self.lines,
            seen: self.seen.as_deref(),
        };
        report.fail(self.talk.transcript(self.outcome), expected, actual, hint)
    }

    /// Every line sent, every reply printed, exit 0.
    fn expect_success(&self) -> Result<(), Box<Failure>> {
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
    fn diagnose(&self) -> Hint {
        if let Some(hint) = general_hint(self.outcome, CH_UDP) {
            return hint;
        }
        let printed = self.outcome.stdout_lines();
        let replies = self.talk.replies();
        let stderr = self.outcome.stderr_text().to_lowercase();
        if self.sent_newlines() {
            return Hint::UdpNewlineSent;
        }
        if stderr.contains("in use") || stderr.contains("os error 98") {
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

    /// After a try that got no reply, the program must wait 1 s, send again, 3 tries in all, then
    /// give up: nothing on standard output, one line on standard error, exit status 1.
    fn expect_giving_up(&self) -> Result<(), Box<Failure>> {
        let tries = self.talk.tries();
        let waits = datagrams::waits(&tries, self.outcome.ended_at());
        let expected = format!(
            "{TRIES} datagrams, each followed by a wait of 1 s for the reply ({:.1} s to {:.1} s \
             accepted), then nothing on standard output, one line on standard error, exit status 1",
            WAIT_SHORTEST.as_secs_f64(),
            WAIT_LONGEST.as_secs_f64()
        );
        let actual = format!(
            "the server received {}, and the waits after each lasted {}; {}; standard error: {}",
            plural(tries.len(), "datagram", "datagrams"),
            seconds(&waits),
            describe(self.outcome),
            quote(self.outcome.stderr_text().as_bytes()),
        );
        let decoys = self.talk.decoy_times();
        // A wait that lasted too long while strangers talked, and then ended (another try, or the
        // exit): each stranger had started it over.
        let stretched = waits.iter().zip(&tries).enumerate().any(|(k, (wait, at))| {
            let ended = k + 1 < tries.len() || self.outcome.ending != Ending::StillRunning;
            ended && *wait > WAIT_LONGEST && decoys.iter().any(|d| d > at && *d < *at + *wait)
        });
        let still = self.outcome.ending == Ending::StillRunning;
        let hint = match general_hint(self.outcome, CH_UDP) {
            Some(hint) => hint,
            None if !self.outcome.stdout.is_empty() => Hint::MadeUpReplies { chapter: CH_UDP },
            None if tries.is_empty() && still => Hint::Hung { chapter: CH_UDP },
            None if tries.is_empty() => Hint::FailedNeedlessly { chapter: CH_UDP },
            None if self.timeout_taken_for_error() => Hint::UdpTimeoutIsError,
            None if stretched => Hint::UdpStrangerRestartsWait,
            None if still && tries.len() > TRIES => Hint::UdpTooManyTries,
            None if still => Hint::UdpNoTimeout,
            None if tries.len() < TRIES => Hint::UdpNoRetry,
            None if tries.len() > TRIES => Hint::UdpTooManyTries,
            None if waits
                .iter()
                .any(|w| *w < WAIT_SHORTEST || *w > WAIT_LONGEST) =>
            {
                Hint::UdpTryWait
            }
            None if self.outcome.ending != Ending::Exited(1) || self.outcome.stderr.len() != 1 => {
                Hint::ErrorNotReported { chapter: CH_UDP }
            }
            None => return Ok(()),
        };
        Err(self.fail(expected, actual, hint))
    }
}

/// Runs one client with `lines` against `server` and expects a complete exchange.
fn exchange(
    subject: &Subject,
    scenario: &str,
    host: &str,
    servers: &[&Running<UdpEvent>],
    lines: &[String],
) -> Result<(), Box<Failure>> {
    let port = servers[0].local_addr().port();
    let run = run_client(subject, host, port, Input::Lines(lines.to_vec()))?;
    let outcome = run.finish(Instant::now() + FINISH);
    let journals: Vec<datagrams::Events> = servers.iter().map(|s| s.journal().snapshot()).collect();
    let mut exchange = Exchange::new(scenario, &outcome, &datagrams::merged(&journals), lines);
    exchange.about_the_address = host != "127.0.0.1";
    exchange.expect_success()
}

fn plain_exchange(subject: &Subject) -> Result<(), Box<Failure>> {
    let server = start_server(loopback(), secret_replies(), vec![])?;
    let scenario = "a UDP server on 127.0.0.1 answers every datagram; the program sends 3 lines";
    exchange(subject, scenario, "127.0.0.1", &[&server], &words::lines(3))
}

fn resends_a_lost_datagram(subject: &Subject) -> Result<(), Box<Failure>> {
    let lines = words::lines(3);
    let lost = UdpFault::DropFirstCopy {
        only: Some(lines[1].as_bytes().to_vec()),
    };
    let server = start_server(loopback(), secret_replies(), vec![lost])?;
    let scenario = "the server ignores the first datagram of the second line, as if the network \
                    had lost it; the program must send it again after waiting 1 s";
    exchange(subject, scenario, "127.0.0.1", &[&server], &lines)
}

fn ignores_strangers(subject: &Subject) -> Result<(), Box<Failure>> {
    let both = start_with_strangers(vec![], Decoys::AroundEachReply)?;
    let scenario = "around each reply, two strangers send the program a datagram that looks just \
                    like it (another secret): one from the server's IP on another port, one from \
                    127.0.0.2 on the server's port; the program must print only the server's";
    let lines = words::lines(4);
    let run = run_client(
        subject,
        "127.0.0.1",
        both.server.local_addr().port(),
        Input::Lines(lines.clone()),
    )?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = datagrams::merged(&[both.server.journal().snapshot(), both.journal().snapshot()]);
    Exchange::new(scenario, &outcome, &events, &lines).expect_success()
}

fn replies_before_the_next_line(subject: &Subject) -> Result<(), Box<Failure>> {
    // A reply takes milliseconds; this only has to be long enough for a loaded machine.
    const STEP_WITHIN: Duration = Duration::from_secs(3);
    let scenario = "the grader types 3 lines one at a time, each only once the program has \
                    printed the reply to the one before, as a person at a terminal would";
    let server = start_server(loopback(), secret_replies(), vec![])?;
    let lines = words::lines(3);
    let mut run = run_client(
        subject,
        "127.0.0.1",
        server.local_addr().port(),
        Input::Open,
    )?;
    let stepped = run.send_lines_in_step(&lines, 1, STEP_WITHIN);
    let stuck_at = Instant::now();
    run.close_stdin();
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    let exchange = Exchange::new(scenario, &outcome, &events, &lines);
    let Err(k) = stepped else {
        return exchange.expect_success();
    };
    let ended_first = outcome.ending != Ending::StillRunning && outcome.ended_at() < stuck_at;
    let hint = match general_hint(&outcome, CH_UDP) {
        Some(hint) => hint,
        None if ended_first => exchange.diagnose(),
        None => Hint::NotInteractive { chapter: CH_UDP },
    };
    let heard = exchange.talk.events.iter().any(|e| {
        e.at < stuck_at && matches!(&e.event, UdpEvent::Received { payload, .. } if payload == lines[k].as_bytes())
    });
    Err(exchange.fail(
        format!(
            "the reply to {} on standard output before the next line is typed",
            quote(lines[k].as_bytes())
        ),
        format!(
            "{} s after the grader typed it, {}, and the program had printed no reply to it",
            STEP_WITHIN.as_secs(),
            if heard {
                "the server had received it and replied"
            } else {
                "the server had not received it"
            }
        ),
        hint,
    ))
}

fn slow_server(subject: &Subject) -> Result<(), Box<Failure>> {
    const DELAY: Duration = Duration::from_millis(400);
    let secret = secret_replies();
    // The timer is the scenario: a server that takes its time, well inside the try's second.
    let slow: UdpReplyFn = Arc::new(move |request| {
        thread::sleep(DELAY);
        secret(request)
    });
    let server = start_server(loopback(), slow, vec![])?;
    let scenario = "the server answers each datagram 0.4 s after it came; the program must print \
                    each reply as soon as it arrives";
    let lines = words::lines(3);
    let run = run_client(
        subject,
        "127.0.0.1",
        server.local_addr().port(),
        Input::Lines(lines.clone()),
    )?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    let exchange = Exchange::new(scenario, &outcome, &events, &lines);
    exchange.expect_success()?;
    let late: Vec<Duration> = exchange
        .talk
        .replies_at()
        .iter()
        .zip(&outcome.stdout)
        .map(|((sent, _), printed)| printed.at.saturating_duration_since(*sent))
        .collect();
    if late.iter().all(|d| *d <= PRINT_WITHIN) {
        return Ok(());
    }
    Err(exchange.fail(
        format!(
            "each reply printed within {:.1} s of the server sending it",
            PRINT_WITHIN.as_secs_f64()
        ),
        format!(
            "the replies were printed {} after the server sent them",
            seconds(&late)
        ),
        Hint::UdpLateReply,
    ))
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
    let server = start_server(loopback(), replies, vec![])?;
    let scenario =
        "the server's replies are 3,000, 20,000 and 60,000 bytes long, one datagram each";
    exchange(subject, scenario, "127.0.0.1", &[&server], &words::lines(3))
}

fn server_on_ipv6(subject: &Subject) -> Result<(), Box<Failure>> {
    let server = start_server(
        "[::1]:0".parse().expect("an address"),
        secret_replies(),
        vec![],
    )?;
    let scenario =
        "the server listens on the IPv6 loopback address ::1 and the program is given HOST = ::1";
    exchange(subject, scenario, "::1", &[&server], &words::lines(2))
}

fn server_by_name(subject: &Subject) -> Result<(), Box<Failure>> {
    // Nothing tells a UDP client which of a name's addresses has a server behind it, so the
    // contract lets it take any: a server listens on every one, all on one port.
    let mut addresses: Vec<IpAddr> = ("localhost", 0)
        .to_socket_addrs()
        .map_err(|e| setup_failure(format!("the name localhost does not resolve here: {e}")))?
        .map(|a| a.ip())
        .collect();
    addresses.dedup();
    let servers = servers_on_one_port(&addresses)?;
    let scenario = format!(
        "a server listens on every address of the name localhost ({}), all on port {}, and the \
         program is given HOST = localhost",
        addresses
            .iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        servers[0].local_addr().port()
    );
    let servers: Vec<&Running<UdpEvent>> = servers.iter().collect();
    exchange(subject, &scenario, "localhost", &servers, &words::lines(2))
}

/// One server on each of `addresses`, all on the same port (tried again while another program
/// holds the port on one of them).
fn servers_on_one_port(addresses: &[IpAddr]) -> Result<Vec<Running<UdpEvent>>, Box<Failure>> {
    let replies = secret_replies();
    let mut last = None;
    for _ in 0..20 {
        let first = start_server(SocketAddr::new(addresses[0], 0), replies.clone(), vec![])?;
        let port = first.local_addr().port();
        let mut servers = vec![first];
        for ip in &addresses[1..] {
            match start_server(SocketAddr::new(*ip, port), replies.clone(), vec![]) {
                Ok(server) => servers.push(server),
                Err(failure) => last = Some(failure),
            }
        }
        if servers.len() == addresses.len() {
            return Ok(servers);
        }
    }
    Err(last.unwrap_or_else(|| setup_failure("no common port for localhost's addresses".into())))
}

fn several_clients_at_once(subject: &Subject) -> Result<(), Box<Failure>> {
    const CLIENTS: usize = 4;
    let scenario = "4 copies of the program talk to one server at the same time, 3 lines each";
    let server = start_server(loopback(), secret_replies(), vec![])?;
    let port = server.local_addr().port();
    let inputs: Vec<Vec<String>> = (0..CLIENTS).map(|_| words::lines(3)).collect();
    let runs = inputs
        .iter()
        .map(|lines| run_client(subject, "127.0.0.1", port, Input::Lines(lines.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let deadline = Instant::now() + FINISH;
    let outcomes: Vec<Outcome> = runs.into_iter().map(|run| run.finish(deadline)).collect();
    let events = server.journal().snapshot();
    let mut addresses = std::collections::BTreeSet::new();
    for (outcome, lines) in outcomes.iter().zip(&inputs) {
        let exchange = Exchange::new(scenario, outcome, &events, lines);
        exchange.expect_success()?;
        addresses.extend(exchange.talk.addresses());
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
                    must try 3 times, waiting 1 s after each, then give up";
    let server = start_server(loopback(), secret_replies(), vec![UdpFault::Silent])?;
    let lines = words::lines(1);
    let run = run_client(
        subject,
        "127.0.0.1",
        server.local_addr().port(),
        Input::Lines(lines.clone()),
    )?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    Exchange::new(scenario, &outcome, &events, &lines).expect_giving_up()
}

fn strangers_do_not_stretch_the_wait(subject: &Subject) -> Result<(), Box<Failure>> {
    // Strangers talk for 3 s, as long as the 3 tries take: after that, a program that started
    // its wait over at each of them gives up late, and one with no timeout at all never does.
    let decoys = Decoys::Every {
        period: Duration::from_millis(500),
        for_as_long: TRY_WAIT * TRIES as u32,
    };
    let both = start_with_strangers(vec![UdpFault::Silent], decoys)?;
    let scenario = "the server never answers, and every 0.5 s for 3 s a stranger sends the \
                    program a look-alike reply; the program must still give up after 3 tries of 1 s";
    let lines = words::lines(1);
    let run = run_client(
        subject,
        "127.0.0.1",
        both.server.local_addr().port(),
        Input::Lines(lines.clone()),
    )?;
    let outcome = run.finish(Instant::now() + FINISH);
    let events = datagrams::merged(&[both.server.journal().snapshot(), both.journal().snapshot()]);
    Exchange::new(scenario, &outcome, &events, &lines).expect_giving_up()
}

fn no_server(subject: &Subject) -> Result<(), Box<Failure>> {
    let scenario = "nothing is bound to the port the program is given; it must give up in time \
                    (3 tries of 1 s), or at the error a connected socket gets, with one line on \
                    standard error";
    // A port that was free a moment ago: bind, note it, close.
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map_err(|e| setup_failure(format!("could not find a free UDP port: {e}")))?
        .port();
    let lines = words::lines(1);
    let run = run_client(subject, "127.0.0.1", port, Input::Lines(lines.clone()))?;
    let (outcome, sleeping) = watch::finish_telling_sleep(run, Instant::now() + FINISH);
    let latest = (TRY_WAIT + (WAIT_LONGEST - TRY_WAIT)) * TRIES as u32 + Duration::from_millis(500);
    let hint = match general_hint(&outcome, CH_UDP) {
        Some(hint) => Some(hint),
        None if !outcome.stdout.is_empty() => Some(Hint::MadeUpReplies { chapter: CH_UDP }),
        None if outcome.ending == Ending::StillRunning => Some(match sleeping {
            watch::Sleep::Forever => Hint::UdpNoTimeout,
            watch::Sleep::WakesUp | watch::Sleep::Unknown => Hint::UdpTooManyTries,
        }),
        None if outcome.elapsed > latest => Some(Hint::UdpTooManyTries),
        None if outcome.ending == Ending::Exited(1) && outcome.stderr.len() == 1 => None,
        None => Some(Hint::ErrorNotReported { chapter: CH_UDP }),
    };
    let Some(hint) = hint else {
        return Ok(());
    };
    let how = match sleeping {
        watch::Sleep::Forever => "; it was asleep, waiting for something with no time limit",
        watch::Sleep::WakesUp => "; it kept waking up: it waits with a timeout, but never gives up",
        watch::Sleep::Unknown => "",
    };
    let exchange = Exchange::new(scenario, &outcome, &Vec::new(), &lines);
    Err(exchange.fail(
        format!(
            "nothing on standard output, one line on standard error, exit status 1, within {:.1} s",
            latest.as_secs_f64()
        ),
        format!(
            "{}; standard error: {}{how}",
            describe(&outcome),
            quote(outcome.stderr_text().as_bytes())
        ),
        hint,
    ))
}

/// 1000 lines. The server holds its reply to line 10 back while the grader looks at the
/// program's sockets and counts its descriptors, and again at line 1000: the count must not have
/// grown, and the one socket must be a UDP socket. Nothing waits per line: the grader waits only
/// for the two holds, and looks within milliseconds, long before the program's 1 s try is over.
fn one_socket_and_no_leak_over_1000_lines(subject: &Subject) -> Result<(), Box<Failure>> {
    const LINES: u64 = 1000;
    const FIRST: u64 = 10;
    let scenario = format!(
        "the program sends {LINES} lines; the server holds its reply to line {FIRST} and to line \
         {LINES} back while the grader looks at the program's sockets and descriptors"
    );
    let (early, late) = (Gate::new(), Gate::new());
    let holds = vec![
        UdpFault::Hold {
            seq: FIRST,
            gate: early.clone(),
        },
        UdpFault::Hold {
            seq: LINES,
            gate: late.clone(),
        },
    ];
    let server = start_server(loopback(), secret_replies(), holds)?;
    let server_addr = server.local_addr();
    let lines: Vec<String> = (1..=LINES)
        .map(|i| format!("line {i} {}", words::token(4)))
        .collect();
    let mut run = run_client(
        subject,
        "127.0.0.1",
        server_addr.port(),
        Input::Lines(lines.clone()),
    )?;
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

fn usage_errors(subject: &Subject) -> Result<(), Box<Failure>> {
    usage::check(
        subject,
        CH_UDP,
        &[
            &[],
            &["127.0.0.1"],
            &["127.0.0.1", "notaport"],
            &["127.0.0.1", "0"],
            &["127.0.0.1", "70000"],
            &["127.0.0.1", "7000", "extra"],
        ],
    )
}
