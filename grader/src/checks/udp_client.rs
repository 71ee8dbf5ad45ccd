//! Checks for `udp_client HOST PORT` (chapter 2).
//!
//! Every check starts a `support` UDP server in this process whose replies carry a secret the
//! program cannot guess, runs the program, and compares what it printed with what the server
//! really sent to the program's address ([`crate::datagrams`]). The server's journal also says
//! what the program sent, from which address, when and how often: that is how a missing retry, a
//! wrong wait or a second socket shows. Strangers ([`crate::strangers`]) send look-alike replies
//! from another port and from another address. Over a thousand lines, while the server holds a
//! reply back, the grader also looks at the program from outside ([`crate::watch`]).

use std::net::{IpAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::running::Running;
use support::udp_server::{UdpEvent, UdpFault, UdpReplyFn};

use crate::datagram_client::{ClientRun, Retries, Stuck, exchange, run_client, run_to_end};
use crate::diagnose::general_hint;
use crate::failure::{Failure, describe, quote};
use crate::hint::{CH_UDP, Hint};
use crate::inspect::SocketRow;
use crate::manifest::Check;
use crate::program::{Ending, FINISH, Input, Outcome, Run, Subject};
use crate::strangers::Decoys;
use crate::udp_servers::{
    loopback, secret_replies, servers_on_one_port, setup_failure, start_server,
    start_with_strangers,
};
use crate::watch::{self, TwoLooks};
use crate::{learner_view, usage, words};

macro_rules! checks {
    ($($name:ident),* $(,)?) => { &[$(Check { name: stringify!($name), run: $name }),*] };
}

/// The contract's numbers: 3 tries, each followed by a wait of 1 s for the reply. A wait the
/// grader measures counts as 1 s from 0.8 s to 1.6 s: a timer never fires early, but the server
/// may read one datagram later than the next, and a loaded machine wakes a program late.
const RETRIES: Retries = Retries {
    tries: 3,
    wait: Duration::from_secs(1),
    shortest: Duration::from_millis(800),
    longest: Duration::from_millis(1600),
};
/// "As soon as it arrives": a reply printed this long after the server sent it was not.
const PRINT_WITHIN: Duration = Duration::from_millis(300);

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
    let address = ("127.0.0.1", both.server.local_addr().port());
    let journals = [both.server.journal(), both.journal()];
    let (outcome, events) = run_to_end(subject, address, &lines, &journals)?;
    ClientRun::new(scenario, &outcome, &events, &lines).expect_success()
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
    // Stepping also stops when the program has closed its input by exiting: its exit status may
    // be a moment behind.
    let ended_first = run
        .wait_exit(stuck_at + Duration::from_millis(500))
        .is_some();
    run.close_stdin();
    let outcome = run.finish(Instant::now() + FINISH);
    let events = server.journal().snapshot();
    let exchange = ClientRun::new(scenario, &outcome, &events, &lines);
    let Err(k) = stepped else {
        return exchange.expect_success();
    };
    exchange.expect_in_step(
        &lines[k],
        Stuck {
            at: stuck_at,
            ended_first,
            after: STEP_WITHIN,
        },
    )
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
    let address = ("127.0.0.1", server.local_addr().port());
    let (outcome, events) = run_to_end(subject, address, &lines, &[server.journal()])?;
    let exchange = ClientRun::new(scenario, &outcome, &events, &lines);
    exchange.expect_success()?;
    exchange.expect_printed_within(PRINT_WITHIN)
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
        let exchange = ClientRun::new(scenario, outcome, &events, lines);
        exchange.expect_success()?;
        addresses.extend(exchange.talk.addresses());
    }
    if addresses.len() < CLIENTS {
        let exchange = ClientRun::new(scenario, &outcomes[0], &events, &inputs[0]);
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
    let address = ("127.0.0.1", server.local_addr().port());
    let (outcome, events) = run_to_end(subject, address, &lines, &[server.journal()])?;
    ClientRun::new(scenario, &outcome, &events, &lines).expect_giving_up(&RETRIES)
}

fn strangers_do_not_stretch_the_wait(subject: &Subject) -> Result<(), Box<Failure>> {
    // Strangers talk for 3 s, as long as the 3 tries take: after that, a program that started
    // its wait over at each of them gives up late, and one with no timeout at all never does.
    let decoys = Decoys::Every {
        period: Duration::from_millis(500),
        for_as_long: RETRIES.wait * RETRIES.tries as u32,
    };
    let both = start_with_strangers(vec![UdpFault::Silent], decoys)?;
    let scenario = "the server never answers, and every 0.5 s for 3 s a stranger sends the \
                    program a look-alike reply; the program must still give up after 3 tries of 1 s";
    let lines = words::lines(1);
    let address = ("127.0.0.1", both.server.local_addr().port());
    let journals = [both.server.journal(), both.journal()];
    let (outcome, events) = run_to_end(subject, address, &lines, &journals)?;
    ClientRun::new(scenario, &outcome, &events, &lines).expect_giving_up(&RETRIES)
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
    // Each try waited the longest accepted, and a loaded machine took its time to start it.
    let latest = RETRIES.longest * RETRIES.tries as u32 + Duration::from_millis(500);
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
    let exchange = ClientRun::new(scenario, &outcome, &Vec::new(), &lines);
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
    let holding =
        |seq: u64| move |e: &UdpEvent| matches!(e, UdpEvent::Holding { seq: s, .. } if *s == seq);
    let journal = server.journal().clone();
    let args = ["127.0.0.1".to_string(), server_addr.port().to_string()];
    // Run as a learner's grader would run it, so that root sees what a learner sees.
    let (looks, outcome) = learner_view::run(
        || Run::start(subject, &args, Input::Lines(lines.clone())),
        |mut run| {
            let looks = watch::look_at_two_holds(
                &mut run,
                &journal,
                (holding(FIRST), &early),
                (holding(LINES), &late),
            );
            (looks, run.finish(Instant::now() + FINISH))
        },
    )
    .map_err(|e| setup_failure(format!("could not start {}: {e}", subject.shown_as)))?;
    let events = server.journal().snapshot();
    let mut exchange = ClientRun::new(&scenario, &outcome, &events, &lines);
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
