//! The shared scenarios that look at the programs from outside while the server holds replies
//! back: several copies at once, told apart by their own sockets, and a thousand lines with a
//! look at the sockets and descriptors early and late.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::journal::{Journal, Stamped};

use crate::exchange::{Conversation, Protocol, Seen, ServerEvent, ServerSetup, settled};
use crate::failure::Failure;
use crate::inspect::SocketRow;
use crate::program::{FINISH, Input, Outcome, Run, Subject};
use crate::watch::{self, TwoLooks, finish_looking};
use crate::{learner_view, words};

use super::run_client;

/// Waits until the journal shows `count` replies held, or every program that has not got there
/// has exited, or [`FINISH`]. Whether they all got there.
pub(super) fn wait_for_holds<E: ServerEvent>(
    runs: &mut [Run],
    journal: &Journal<E>,
    count: usize,
) -> bool {
    wait_for_holds_seeing(runs, journal, count, |_| {})
}

/// As [`wait_for_holds`], calling `look` on the programs between two waits.
fn wait_for_holds_seeing<E: ServerEvent>(
    runs: &mut [Run],
    journal: &Journal<E>,
    count: usize,
    mut look: impl FnMut(&[Run]),
) -> bool {
    const SLICE: Duration = Duration::from_millis(50);
    let deadline = Instant::now() + FINISH;
    let holding = |events: &[Stamped<E>]| {
        events
            .iter()
            .filter(|e| matches!(e.event.seen(), Seen::Holding(_)))
            .count()
    };
    loop {
        let until = deadline.min(Instant::now() + SLICE);
        if journal.wait_until(until, |events| holding(events) >= count) {
            return true;
        }
        look(runs);
        let exited = runs
            .iter_mut()
            .filter_map(|r| r.wait_exit(Instant::now()))
            .count();
        if Instant::now() >= deadline || holding(&journal.snapshot()) + exited >= count {
            return false;
        }
    }
}

/// The local addresses of a program's TCP connections to `port`, while it runs.
fn connections_to(run: &Run, port: u16) -> BTreeSet<SocketAddr> {
    watch::sockets_of(run.pid())
        .map(|rows| {
            rows.iter()
                .filter(|r| {
                    r.proto.starts_with("tcp") && r.remote.is_some_and(|a| a.port() == port)
                })
                .map(|r| r.local)
                .collect()
        })
        .unwrap_or_default()
}

/// Several copies at once: the server holds its reply to each one's first request until all are
/// connected, so that all conversations are open together. Each connection is told to its
/// program by the program's own socket (the server's peer is the program's local address), so
/// that malformed requests are still put to the program that sent them.
pub fn several_clients_at_once<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
    clients: usize,
) -> Result<(), Box<Failure>> {
    let scenario = format!(
        "{clients} copies of the program talk to one server at the same time, 3 lines each; the \
         server holds its reply to each one's first {} until all {clients} are connected",
        protocol.unit
    );
    let gate = Gate::new();
    let server = (protocol.start)(&ServerSetup {
        bind: "127.0.0.1:0",
        farewell: 2,
        holds: vec![(1, gate.clone())],
    })?;
    let port = server.local_addr().port();
    let inputs: Vec<Vec<String>> = (0..clients).map(|_| words::lines(3)).collect();
    let mut runs = inputs
        .iter()
        .map(|lines| {
            run_client(
                subject,
                protocol.chapter,
                "127.0.0.1",
                port,
                Input::Lines(lines.clone()),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Each program's connections, looked at while it waits (a program that fails fast may be
    // gone by the time all are connected).
    let mut owned: Vec<BTreeSet<SocketAddr>> = vec![BTreeSet::new(); clients];
    let mut see = |runs: &[Run]| {
        for (i, run) in runs.iter().enumerate() {
            owned[i].extend(connections_to(run, port));
        }
    };
    wait_for_holds_seeing(&mut runs, server.journal(), clients, &mut see);
    see(&runs);
    gate.open();
    let deadline = Instant::now() + FINISH;
    let outcomes: Vec<Outcome> = runs.into_iter().map(|run| run.finish(deadline)).collect();
    let events = settled(server.journal());
    let owners = owners_of_connections(&events, &owned, &inputs);
    for (i, (outcome, lines)) in outcomes.iter().zip(&inputs).enumerate() {
        let conns: Vec<u64> = owners
            .iter()
            .filter(|(_, owner)| *owner == i)
            .map(|(conn, _)| *conn)
            .collect();
        Conversation::new(protocol, &scenario, outcome, &events, lines, Some(&conns))
            .expect_success()?;
    }
    Ok(())
}

/// Which program (by index) each connection belongs to: by the program's own local address
/// where the grader saw it, else by the requests it carried, else in the order left.
fn owners_of_connections<E: ServerEvent>(
    events: &[Stamped<E>],
    owned: &[BTreeSet<SocketAddr>],
    inputs: &[Vec<String>],
) -> Vec<(u64, usize)> {
    let mut owners = Vec::new();
    let mut unknown = Vec::new();
    for e in events {
        let Seen::Accepted(peer) = e.event.seen() else {
            continue;
        };
        let conn = e.event.conn();
        let carried = |lines: &Vec<String>| {
            events.iter().any(|r| {
                r.event.conn() == conn
                    && matches!(r.event.seen(), Seen::Received(b) if lines.iter().any(|l| l.as_bytes() == b))
            })
        };
        match owned.iter().position(|addrs| addrs.contains(&peer)) {
            Some(i) => owners.push((conn, i)),
            None => match inputs.iter().position(carried) {
                Some(i) => owners.push((conn, i)),
                None => unknown.push(conn),
            },
        }
    }
    // The rest in order: the programs run the same code, so a connection put to the wrong one
    // of them shows the same mistake, with other input lines.
    let programs_left = (0..inputs.len()).filter(|i| !owners.iter().any(|(_, o)| o == i));
    let paired: Vec<(u64, usize)> = unknown.into_iter().zip(programs_left).collect();
    owners.extend(paired);
    owners
}

/// 1000 lines. The server holds its reply to line 10 back while the grader looks at the
/// program's sockets and counts its descriptors, and again at line 1000: the count must not have
/// grown, and the one socket must be the connection to the server. Nothing waits per line: the
/// grader waits only for the two holds.
pub fn one_socket_and_no_leak<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    const LINES: u64 = 1000;
    const FIRST: u64 = 10;
    let chapter = protocol.chapter;
    let scenario = format!(
        "the program sends {LINES} lines; the server holds its reply to line {FIRST} and to line \
         {LINES} back while the grader looks at the program's sockets and descriptors"
    );
    let (early, late) = (Gate::new(), Gate::new());
    let server = (protocol.start)(&ServerSetup {
        bind: "127.0.0.1:0",
        farewell: 1,
        holds: vec![(FIRST, early.clone()), (LINES, late.clone())],
    })?;
    let port = server.local_addr().port();
    let lines: Vec<String> = (1..=LINES)
        .map(|i| format!("line {i} {}", words::token(4)))
        .collect();
    let holding = |seq: u64| move |e: &E| matches!(e.seen(), Seen::Holding(s) if s == seq);
    let journal = server.journal().clone();
    // Run as a learner's grader would run it, so that root sees what a learner sees.
    let args = ["127.0.0.1".to_string(), port.to_string()];
    let started = learner_view::run(
        || Run::start(subject, &args, Input::Lines(lines.clone())),
        |mut run| {
            let looks = watch::look_at_two_holds(
                &mut run,
                &journal,
                (holding(FIRST), &early),
                (holding(LINES), &late),
            );
            (looks, finish_looking(run, Instant::now() + FINISH))
        },
    );
    let (looks, (outcome, seen_at_end)) = started.map_err(|e| {
        Failure::setup(
            chapter,
            format!("could not start {}: {e}", subject.shown_as),
        )
    })?;
    let events = settled(server.journal());
    let mut conversation = Conversation::new(protocol, &scenario, &outcome, &events, &lines, None);
    conversation.seen = seen_at_end;
    let (first, last) = match looks {
        TwoLooks::Seen { first, last } => (first, last),
        // It never got that far: how far it got says why.
        TwoLooks::NotReached => return conversation.expect_success(),
        TwoLooks::Hidden(hidden) => {
            let f = watch::hidden_failure(&hidden, chapter);
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
    let socket_words = format!(
        "a TCP connection (ESTAB, or FIN-WAIT-2 once it has half-closed) to the server's port {port}"
    );
    if let Err(f) = watch::judge_client_looks(
        (&first, &last),
        (FIRST, LINES),
        right,
        &socket_words,
        chapter,
    ) {
        return Err(conversation.fail(f.expected, f.actual, f.hint));
    }
    conversation.expect_success()
}
