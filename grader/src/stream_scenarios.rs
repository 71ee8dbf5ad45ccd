//! The scenarios every stream client shares (`tcp_client`, chapter 3; `framed_client`, chapter
//! 5), each written once over [`crate::exchange`]: one plain conversation, lines that must leave
//! at once, HOST as an IPv6 literal and as a name, a refused connection, several clients at once,
//! a thousand lines looked at from outside, a person typing line by line, a reply that comes late,
//! and the command line.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::journal::Stamped;
use support::running::Running;

use crate::exchange::{Conversation, Protocol, ServerEvent, ServerSetup, settled};
use crate::failure::{Failure, describe};
use crate::hint::{Chapter, Hint};
use crate::program::{FINISH, Input, Outcome, Run, Subject};
use crate::watch::{self, finish_looking};
use crate::words;

mod watched;

use watched::wait_for_holds;
pub use watched::{one_socket_and_no_leak, several_clients_at_once};

/// How long the server holds its reply back in [`reply_comes_late`]: longer than a read timeout a
/// program might set "so as not to wait for ever", short enough to grade quickly.
pub const LATE_BY: Duration = Duration::from_secs(2);

pub fn run_client(
    subject: &Subject,
    chapter: Chapter,
    host: &str,
    port: u16,
    input: Input,
) -> Result<Run, Box<Failure>> {
    Run::start(subject, &[host.to_string(), port.to_string()], input).map_err(|e| {
        Failure::setup(
            chapter,
            format!("could not start {}: {e}", subject.shown_as),
        )
    })
}

fn plain<E>(
    protocol: &Protocol<E>,
    bind: &str,
    farewell: usize,
) -> Result<Running<E>, Box<Failure>> {
    (protocol.start)(&ServerSetup {
        bind,
        farewell,
        holds: Vec::new(),
    })
}

/// One client of `server` with `lines` fresh input lines, a whole conversation expected.
pub fn converse<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
    scenario: &str,
    server: Running<E>,
    (host, lines): (&str, usize),
    finish: Duration,
) -> Result<(), Box<Failure>> {
    converse_on(
        protocol,
        subject,
        scenario,
        server,
        (host, lines),
        finish,
        false,
    )
}

fn converse_on<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
    scenario: &str,
    server: Running<E>,
    (host, lines): (&str, usize),
    finish: Duration,
    about_the_address: bool,
) -> Result<(), Box<Failure>> {
    let ran = run_one(
        protocol,
        subject,
        &server,
        (host, words::lines(lines)),
        finish,
        |_| {},
    )?;
    let mut conversation = ran.conversation(protocol, scenario);
    conversation.about_the_address = about_the_address;
    conversation.expect_success()
}

/// What one run of a client left: its input, how it went, what the grader saw of its sockets
/// when it had to stop it, and the server's events.
struct Ran<E: 'static> {
    lines: Vec<String>,
    outcome: Outcome,
    seen: Option<String>,
    events: Vec<Stamped<E>>,
}

impl<E: ServerEvent> Ran<E> {
    fn conversation<'a>(
        &'a self,
        protocol: &'a Protocol<E>,
        scenario: &'a str,
    ) -> Conversation<'a, E> {
        let mut conversation = Conversation::new(
            protocol,
            scenario,
            &self.outcome,
            &self.events,
            &self.lines,
            None,
        );
        conversation.seen = self.seen.clone();
        conversation
    }
}

/// Runs one client of `server` on HOST with `lines` as its input, does `meanwhile` with it, and
/// waits at most `finish` for its end.
fn run_one<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
    server: &Running<E>,
    (host, lines): (&str, Vec<String>),
    finish: Duration,
    meanwhile: impl FnOnce(&mut Run),
) -> Result<Ran<E>, Box<Failure>> {
    let port = server.local_addr().port();
    let input = Input::Lines(lines.clone());
    let mut run = run_client(subject, protocol.chapter, host, port, input)?;
    meanwhile(&mut run);
    let (outcome, seen) = finish_looking(run, Instant::now() + finish);
    Ok(Ran {
        lines,
        outcome,
        seen,
        events: settled(server.journal()),
    })
}

/// 20 lines; each must reach the server at once, not a delayed acknowledgement after the last.
pub fn each_line_leaves_at_once<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    const LINES: usize = 20;
    let unit = protocol.unit;
    let scenario = format!(
        "the program sends {LINES} lines; the server answers each {unit} as soon as it is whole"
    );
    let server = plain(protocol, "127.0.0.1:0", 1)?;
    let lines = ("127.0.0.1", words::lines(LINES));
    let ran = run_one(protocol, subject, &server, lines, FINISH, |_| {})?;
    let conversation = ran.conversation(protocol, &scenario);
    conversation.expect_success()?;
    conversation.expect_at_once()
}

pub fn server_on_ipv6<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    let server = plain(protocol, "[::1]:0", 1)?;
    converse_on(
        protocol,
        subject,
        "the server listens on the IPv6 loopback address ::1 only, and the program is given \
         HOST = ::1",
        server,
        ("::1", 2),
        FINISH,
        true,
    )
}

/// HOST = `localhost`, and the server listens on the last of its addresses only: a program that
/// tries only the first fails wherever `localhost` has two (::1 and 127.0.0.1).
pub fn server_by_name<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    let addresses: Vec<SocketAddr> = ("localhost", 0)
        .to_socket_addrs()
        .map_err(|e| Failure::setup(protocol.chapter, format!("cannot resolve localhost: {e}")))?
        .collect();
    let Some(last) = addresses.last() else {
        return Err(Failure::setup(
            protocol.chapter,
            "localhost has no address".into(),
        ));
    };
    let shown: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
    let scenario = format!(
        "the program is given HOST = localhost, a name whose addresses here are, in order, {}; \
         the server listens on the last of them only ({})",
        shown.join(", "),
        last.ip()
    );
    let server = plain(protocol, &SocketAddr::new(last.ip(), 0).to_string(), 1)?;
    converse_on(
        protocol,
        subject,
        &scenario,
        server,
        ("localhost", 2),
        FINISH,
        true,
    )
}

pub fn connection_refused<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    let scenario = "nothing listens on the port the program is given, so the connection is refused";
    // A port that was free a moment ago: listen, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| {
            Failure::setup(
                protocol.chapter,
                format!("could not find a free TCP port: {e}"),
            )
        })?
        .port();
    let lines = words::lines(1);
    let run = run_client(
        subject,
        protocol.chapter,
        "127.0.0.1",
        port,
        Input::Lines(lines.clone()),
    )?;
    let outcome = run.finish(Instant::now() + FINISH);
    Conversation::new(protocol, scenario, &outcome, &[], &lines, None)
        .expect_reported_error("the program to say that it could not connect", |_| None)
}

/// The server reads the first request and closes the connection without a reply (it stops: a
/// shutdown of both directions, then a close).
pub fn server_closes_before_replying<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    let scenario = format!(
        "the server reads the program's first {} and closes the connection without replying",
        protocol.unit
    );
    let gate = Gate::new();
    let server = (protocol.start)(&ServerSetup {
        bind: "127.0.0.1:0",
        farewell: 1,
        holds: vec![(1, gate)],
    })?;
    let journal = server.journal().clone();
    let lines = words::lines(2);
    let port = server.local_addr().port();
    let mut run = run_client(
        subject,
        protocol.chapter,
        "127.0.0.1",
        port,
        Input::Lines(lines.clone()),
    )?;
    wait_for_holds(std::slice::from_mut(&mut run), &journal, 1);
    // Stopping opens the gate but sends nothing: the held reply is dropped.
    server.stop();
    let outcome = run.finish(Instant::now() + FINISH);
    let events = journal.snapshot();
    Conversation::new(protocol, &scenario, &outcome, &events, &lines, None).expect_reported_error(
        "the program to say that the server closed before replying",
        |_| None,
    )
}

/// A person at a terminal: each line is typed only once the reply to the one before has been
/// printed.
pub fn replies_before_the_next_line<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    let chapter = protocol.chapter;
    let scenario = "standard input stays open, and each line is written to it only once the reply \
                    to the line before has been printed, as a person at a terminal types";
    let lines = words::lines(3);
    let server = plain(protocol, "127.0.0.1:0", 2)?;
    let port = server.local_addr().port();
    let mut run = run_client(subject, chapter, "127.0.0.1", port, Input::Open)?;
    let stepped = run.send_lines_in_step(&lines, 1, FINISH);
    // Where it waits, when a reply did not come: for more input, the reply still unprinted.
    let reads_ahead = match stepped {
        Err(_) => watch::reads_standard_input(run.pid()).unwrap_or(false),
        Ok(()) => false,
    };
    run.close_stdin();
    let (outcome, seen) = finish_looking(run, Instant::now() + FINISH);
    let events = settled(server.journal());
    let given = &outcome.stdin;
    let mut conversation = Conversation::new(protocol, scenario, &outcome, &events, given, None);
    conversation.seen = seen;
    if let (Err(k), true) = (stepped, reads_ahead) {
        return Err(conversation.fail(
            format!(
                "the reply to line {} printed before the program waits for line {}",
                k + 1,
                k + 2
            ),
            format!(
                "after line {} it printed nothing within {} s, and waited to read more \
                 standard input; then, once its input ended: {}",
                k + 1,
                FINISH.as_secs(),
                describe(&outcome)
            ),
            Hint::NotInteractive { chapter },
        ));
    }
    conversation.expect_success()?;
    match stepped {
        Ok(()) => Ok(()),
        // It printed the reply late, but not for want of input.
        Err(k) => Err(conversation.fail(
            format!("the reply to line {} printed as soon as it has come", k + 1),
            format!(
                "nothing printed within {} s of line {}",
                FINISH.as_secs(),
                k + 1
            ),
            Hint::NotInteractive { chapter },
        )),
    }
}

/// The server answers the first line only after [`LATE_BY`]: a program must wait for it, and
/// print nothing in the meantime.
pub fn reply_comes_late<E: ServerEvent>(
    protocol: &Protocol<E>,
    subject: &Subject,
) -> Result<(), Box<Failure>> {
    let scenario = format!(
        "the server holds its reply to the first {} back for {} s, then answers as usual",
        protocol.unit,
        LATE_BY.as_secs()
    );
    let gate = Gate::new();
    let server = (protocol.start)(&ServerSetup {
        bind: "127.0.0.1:0",
        farewell: 1,
        holds: vec![(1, gate.clone())],
    })?;
    let lines = ("127.0.0.1", words::lines(2));
    let ran = run_one(protocol, subject, &server, lines, FINISH, |run| {
        if wait_for_holds(std::slice::from_mut(run), server.journal(), 1) {
            // The delay is the scenario; a program that gives up ends it early.
            run.wait_exit(Instant::now() + LATE_BY);
        }
        gate.open();
    })?;
    ran.conversation(protocol, &scenario).expect_success()
}

/// The contract's wrong command lines: none, a PORT that is no port, one argument too many.
pub fn usage_errors(subject: &Subject, chapter: Chapter) -> Result<(), Box<Failure>> {
    crate::usage::check(
        subject,
        chapter,
        &[
            &[],
            &["127.0.0.1", "http"],
            &["127.0.0.1", "0"],
            &["127.0.0.1", "7000", "extra"],
        ],
    )
}
