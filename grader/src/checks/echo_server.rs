//! Checks for `echo_server [--port P]` (chapter 6).
//!
//! Here the learner's program is the server and the grader is every client. Each check starts
//! the program ([`crate::served`]), waits for its first line `listening on 127.0.0.1:PORT`, and
//! connects clients ([`crate::line_client`]) from threads of this process (fifty at once in one
//! check). Every line a client sends carries a secret and the client's own number, so an echo
//! that was made up, or went to another client, is caught. The server's sockets, descriptors and
//! child processes are read from `/proc`, the way `ss`, `lsof` and `ps` do, and its socket table
//! is shown in every failure.
//!
//! Every wait is on an event (a line read, an end of stream, a socket table) with a deadline.
//! A deadline is reached only by a wrong program; then the check finds out *which* mistake by
//! changing one thing (letting a stalled client go, half-closing, a reset or not) and trying
//! again.
//!
//! | contract sentence | check |
//! | --- | --- |
//! | `echo_server [--port P]`: listen on 127.0.0.1 port P (default 0: any free port) | `first_line_and_port` (no option, and a given port; the address read from the server's own socket table: 127.0.0.1 only) |
//! | print `listening on 127.0.0.1:PORT` (the real port) as the first line of standard output | `first_line_and_port`; every check waits for it (listening with no line: `EchoLineNotFlushed`) |
//! | serve any number of clients at once, for as long as it runs | `fifty_clients_at_once`, `a_stalled_client_delays_no_one`; an exit in any check (`EchoStopsServing`) |
//! | Every line a client sends (up to and including its newline) is sent back to that client, as soon as the line is complete | `one_client`, `fifty_clients_at_once` (to the right client), `a_stalled_client_delays_no_one` |
//! | When a client half-closes, send back what is left of its input and close that connection | `half_close_gets_every_echo_then_the_end` (a last piece without newline comes back as it is) |
//! | When a client resets its connection or vanishes, forget it and keep serving everyone else | `a_reset_client_takes_nothing_down` (`EchoDiesOnReset` only when the same clients without the reset leave it running) |
//! | Once a client has gone, the server holds nothing of it: no socket, no descriptor, no process | `nothing_left_when_all_have_gone` (descriptors within [`watch::LEAK_SLACK`], no socket but the listening one, no child left running or unreaped) |
//! | Wrong usage prints a usage line on standard error and exits 2 | `usage_errors` |
//! | When it cannot listen, it prints one line on standard error with the system's reason and exits 1; never a panic | `cannot_listen_says_why` (its port taken by a listener of the grader's) |

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, quote};
use crate::hint::{CH_MANY_CLIENTS, Hint};
use crate::line_client::{LineClient, Received};
use crate::listen_failure;
use crate::manifest::Check;
use crate::meeting::Meeting;
use crate::program::{Ending, FINISH, Subject};
use crate::served::{self, ChildProcess, Served, Started};
use crate::usage;
use crate::watch::{self, Hidden, Look};
use crate::words;

pub const CHECKS: &[Check] = &[
    Check {
        name: "one_client",
        run: one_client,
    },
    Check {
        name: "first_line_and_port",
        run: first_line_and_port,
    },
    Check {
        name: "fifty_clients_at_once",
        run: fifty_clients_at_once,
    },
    Check {
        name: "a_stalled_client_delays_no_one",
        run: a_stalled_client_delays_no_one,
    },
    Check {
        name: "half_close_gets_every_echo_then_the_end",
        run: half_close_gets_every_echo_then_the_end,
    },
    Check {
        name: "a_reset_client_takes_nothing_down",
        run: a_reset_client_takes_nothing_down,
    },
    Check {
        name: "nothing_left_when_all_have_gone",
        run: nothing_left_when_all_have_gone,
    },
    Check {
        name: "cannot_listen_says_why",
        run: cannot_listen_says_why,
    },
    Check {
        name: "usage_errors",
        run: usage_errors,
    },
];

/// The learner's server, running, and what the check did to it.
struct Server {
    served: Served,
    addr: SocketAddr,
    scenario: String,
    subject: Subject,
    /// Whether the check reset a client: only then may an exit be the reset's doing.
    reset_any: AtomicBool,
}

/// Connects a client, or ends the check with the server's failure.
macro_rules! connect {
    ($server:ident, $name:expr) => {
        match $server.connect($name) {
            Ok(client) => client,
            Err(miss) => return Err($server.failed(miss)),
        }
    };
}

/// Starts the program with `args` and waits for its first line, which must name the address it
/// listens on.
fn start(
    subject: &Subject,
    args: &[&str],
    scenario: &str,
) -> Result<(Server, String), Box<Failure>> {
    let started = served::start(subject, args).map_err(|e| {
        Failure::setup(
            CH_MANY_CLIENTS,
            format!("could not start {}: {e}", subject.shown_as),
        )
    })?;
    let server = |served| Server {
        served,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        scenario: scenario.to_string(),
        subject: subject.clone(),
        reset_any: AtomicBool::new(false),
    };
    let (server, first) = match started {
        Started::Printed(served, first) => (server(served), first),
        Started::Silent(served) => return Err(server(served).silent()),
    };
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        .filter(|a| a.ip() == Ipv4Addr::LOCALHOST && a.port() != 0);
    match addr {
        Some(addr) => Ok((Server { addr, ..server }, first)),
        // Printing 0.0.0.0 may be the truth: then where it listens is the mistake to name.
        None if matches!(server.beyond_loopback(), Ok(Some(_))) => {
            Err(server.listens_where_it_says(&first).err().expect("beyond"))
        }
        None => Err(server.fail(
            "a first line `listening on 127.0.0.1:PORT`, with the real port (not 0)".into(),
            format!("the first line was {}", quote(first.as_bytes())),
            Hint::EchoFirstLine,
        )),
    }
}

impl Server {
    fn connect(&self, name: impl Into<String>) -> Result<LineClient, Miss> {
        LineClient::connect(self.addr, name).map_err(|e| Miss {
            expected: format!("to connect to {}", self.addr),
            actual: format!("connecting failed: {e}"),
            hint: Hint::FailedNeedlessly {
                chapter: CH_MANY_CLIENTS,
            },
        })
    }

    /// Resets `client`'s connection, and remembers that the check did.
    fn reset(&self, client: LineClient) {
        self.reset_any.store(true, Ordering::Relaxed);
        client.reset();
    }

    /// No first line: when the socket table shows it listening, the line is stuck in a buffer.
    fn silent(self) -> Box<Failure> {
        let expected = "a first line `listening on 127.0.0.1:PORT` on standard output".into();
        match self.served.listening() {
            Ok(rows) if !rows.is_empty() && self.served.running() => {
                let actual = format!(
                    "nothing on standard output within {} s, although it was listening on {} \
                     (its socket table shows LISTEN)",
                    FINISH.as_secs(),
                    rows[0].local
                );
                self.fail(expected, actual, Hint::EchoLineNotFlushed)
            }
            _ => self.fail(expected, "no line at all".into(), Hint::EchoFirstLine),
        }
    }

    /// A listening socket on another address than 127.0.0.1, if it has one.
    fn beyond_loopback(&self) -> Result<Option<SocketAddr>, Hidden> {
        let rows = self.served.listening()?;
        Ok(rows
            .iter()
            .map(|r| r.local)
            .find(|a| a.ip() != Ipv4Addr::LOCALHOST))
    }

    /// Its own socket table must show it listening where its first line says, and nowhere else.
    fn listens_where_it_says(self, first: &str) -> Result<Server, Box<Failure>> {
        let rows = match self.served.listening() {
            Ok(rows) => rows,
            Err(hidden) => return Err(self.hidden(&hidden)),
        };
        let expected = format!(
            "its socket table to show it listening on {}, as its first line says, and on no \
             other address",
            self.addr
        );
        let printed = quote(first.as_bytes());
        let (actual, hint) = match self.beyond_loopback() {
            _ if rows.is_empty() => (
                format!("it printed {printed} but holds no listening socket"),
                Hint::EchoFirstLine,
            ),
            Ok(Some(other)) => (
                format!("it printed {printed} but listens on {other}"),
                Hint::EchoListensBeyondLoopback,
            ),
            _ if rows.iter().all(|r| r.local == self.addr) => return Ok(self),
            _ => (
                format!("it printed {printed} but listens on {}", rows[0].local),
                Hint::EchoFirstLine,
            ),
        };
        Err(self.fail(expected, actual, hint))
    }

    fn hidden(self, hidden: &Hidden) -> Box<Failure> {
        self.fail(
            "a server whose descriptors the grader can read in /proc".into(),
            hidden.message().to_string(),
            Hint::Uninspectable {
                chapter: CH_MANY_CLIENTS,
            },
        )
    }

    fn failed(self, miss: Miss) -> Box<Failure> {
        self.fail(miss.expected, miss.actual, miss.hint)
    }

    /// The failure, with the server's socket table read while it still runs, then the server
    /// stopped. A mistake every program can make (a `todo!()`, a panic) wins over `hint`; so does
    /// an exit, for a hint that presumes a running server.
    fn fail(self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let Server {
            served,
            scenario,
            subject,
            reset_any,
            ..
        } = self;
        let stopped = served.stop();
        let outcome = stopped.outcome;
        let hint =
            general_hint(&outcome, CH_MANY_CLIENTS).unwrap_or_else(|| match outcome.ending {
                Ending::Exited(_) if expects_running(&hint) => {
                    if reset_any.into_inner() && dies_on_reset(&subject) {
                        Hint::EchoDiesOnReset
                    } else {
                        Hint::EchoStopsServing
                    }
                }
                _ => hint,
            });
        Box::new(Failure {
            scenario,
            command: outcome.command.clone(),
            transcript: Transcript::of(&outcome),
            expected,
            actual: format!("{actual}\n          the server held {}", stopped.held),
            hint,
        })
    }
}

/// Hints that presume the server was still there: when it has exited, its exit is the mistake.
fn expects_running(hint: &Hint) -> bool {
    !matches!(
        hint,
        Hint::EchoFirstLine
            | Hint::EchoLineNotFlushed
            | Hint::EchoListensBeyondLoopback
            | Hint::Uninspectable { .. }
    )
}

/// What went wrong with one expected echo.
struct Miss {
    expected: String,
    actual: String,
    hint: Hint,
}

fn needless(expected: String, actual: String) -> Miss {
    let hint = Hint::FailedNeedlessly {
        chapter: CH_MANY_CLIENTS,
    };
    Miss {
        expected,
        actual,
        hint,
    }
}

/// A line no program can guess, for client `who`.
fn line_for(who: &str, n: usize, secret: &str) -> String {
    format!("{who} line {n} {secret} {}\n", words::text(12))
}

/// The same bytes but for newlines and carriage returns at the end: what `lines()` and
/// `writeln!` make of a line.
fn same_but_newline(a: &[u8], b: &[u8]) -> bool {
    a.trim_ascii_end() == b.trim_ascii_end()
}

/// Waits for the echo of `sent`.
fn expect_echo(client: &mut LineClient, sent: &str, deadline: Instant) -> Result<(), Miss> {
    let expected = format!("{} to get back {}", client.name, quote(sent.as_bytes()));
    match client.read(deadline) {
        Received::Line(line) if line == sent.as_bytes() => Ok(()),
        Received::Line(line) => Err(Miss {
            expected,
            actual: format!("{} got {}", client.name, quote(&line)),
            hint: if same_but_newline(&line, sent.as_bytes()) {
                Hint::EchoAltersLines
            } else {
                Hint::EchoMixedUp
            },
        }),
        Received::End => Err(needless(
            expected,
            format!("the server closed {}'s connection instead", client.name),
        )),
        Received::Failed(e) => Err(needless(
            expected,
            format!("{}'s connection failed: {e}", client.name),
        )),
        // A last piece without a newline is whole only once the end of the stream follows it.
        Received::TimedOut if client.pending() == sent.as_bytes() => Err(Miss {
            expected: format!("{expected}, then the end of the stream"),
            actual: format!(
                "it came back, but the connection stayed open {} s after the half-close",
                FINISH.as_secs()
            ),
            hint: Hint::EchoNeverCloses,
        }),
        Received::TimedOut => Err(Miss {
            expected,
            actual: format!(
                "nothing came back to {} within {} s",
                client.name,
                FINISH.as_secs()
            ),
            hint: Hint::WrongOutput {
                chapter: CH_MANY_CLIENTS,
            },
        }),
    }
}

/// After the half-close: every echo of `sent` (in order), then the end of the stream.
fn expect_rest_then_end(
    client: &mut LineClient,
    sent: &[String],
    deadline: Instant,
) -> Result<(), Miss> {
    for line in sent {
        expect_echo(client, line, deadline)?;
    }
    let expected = format!(
        "{} to read the end of the stream after its echoes",
        client.name
    );
    let (actual, hint) = match client.read(deadline) {
        Received::End => return Ok(()),
        Received::TimedOut => (
            format!(
                "every echo came, but the connection stayed open {} s after the half-close",
                FINISH.as_secs()
            ),
            Hint::EchoNeverCloses,
        ),
        Received::Line(line) => (
            format!("it got one more line: {}", quote(&line)),
            Hint::EchoMixedUp,
        ),
        // A reset at the very end still loses nothing that was sent; but say so.
        Received::Failed(e) => (
            format!("the connection failed instead of ending in order: {e}"),
            Hint::EchoNeverCloses,
        ),
    };
    Err(Miss {
        expected,
        actual,
        hint,
    })
}

/// A full conversation: `lines` lines one by one, each echo awaited, then the half-close, the
/// end of the stream.
fn converse(
    client: &mut LineClient,
    lines: usize,
    secret: &str,
    deadline: Instant,
) -> Result<(), Miss> {
    for n in 1..=lines {
        let line = line_for(&client.name, n, secret);
        send_or_miss(client, &line)?;
        expect_echo(client, &line, deadline).map_err(|m| diagnose_silence(client, &line, m))?;
    }
    client.half_close();
    expect_rest_then_end(client, &[], deadline)
}

fn send_or_miss(client: &mut LineClient, line: &str) -> Result<(), Miss> {
    client.send(line.as_bytes()).map_err(|e| {
        needless(
            format!("{} to send {}", client.name, quote(line.as_bytes())),
            format!("sending failed: {e}"),
        )
    })
}

/// A client got no echo: was the server waiting for the end of its input? Half-closes it and
/// waits again.
fn diagnose_silence(client: &mut LineClient, sent: &str, miss: Miss) -> Miss {
    if !matches!(miss.hint, Hint::WrongOutput { .. }) {
        return miss;
    }
    client.half_close();
    match client.read(Instant::now() + FINISH) {
        Received::Line(line) if line == sent.as_bytes() => Miss {
            actual: format!(
                "{}; its echo came only after the client half-closed",
                miss.actual
            ),
            hint: Hint::EchoWaitsForEnd,
            ..miss
        },
        _ => miss,
    }
}

/// Whether a server that exited did so because a client reset. Two fresh servers meet the same
/// two clients; in one the second client resets, in the other it half-closes in order. Only a
/// server that stops in the first and goes on in the second dies of the reset; one that stops
/// in both stops for another reason (after so many clients, say).
fn dies_on_reset(subject: &Subject) -> bool {
    !survives(subject, true) && survives(subject, false)
}

/// Whether the first client is still served after the second one left (by a reset, or not).
fn survives(subject: &Subject, reset: bool) -> bool {
    let Ok((server, _)) = start(subject, &["--port", "0"], "a probe") else {
        return false;
    };
    let secret = words::token(6);
    let deadline = Instant::now() + FINISH;
    let served = (|| {
        let mut stays = server.connect("the first client")?;
        let first = line_for(&stays.name, 1, &secret);
        send_or_miss(&mut stays, &first)?;
        expect_echo(&mut stays, &first, deadline)?;
        let mut leaves = server.connect("the second client")?;
        let line = line_for(&leaves.name, 1, &secret);
        send_or_miss(&mut leaves, &line)?;
        expect_echo(&mut leaves, &line, deadline)?;
        let gone = leaves.local_addr().ok();
        if reset {
            leaves.reset();
        } else {
            converse(&mut leaves, 0, &secret, deadline)?;
        }
        // The server has read the reset (or the end) once it holds that connection no longer:
        // only then can the first client tell whether it survived it.
        poll_until(deadline, || {
            let rows = watch::sockets_of(server.served.pid()).ok()?;
            rows.iter()
                .any(|r| r.remote.is_some() && r.remote == gone)
                .then_some(())
        });
        converse(&mut stays, 1, &secret, deadline)
    })();
    served.is_ok() && server.served.running()
}

fn one_client(subject: &Subject) -> Result<(), Box<Failure>> {
    let (server, _) = start(
        subject,
        &["--port", "0"],
        "one client sends 5 lines, one at a time, each after the echo of the one before; then \
         it half-closes",
    )?;
    let secret = words::token(6);
    let mut client = connect!(server, "the client");
    let deadline = Instant::now() + FINISH;
    let first = line_for("the client", 1, &secret);
    let result = send_or_miss(&mut client, &first)
        .and_then(|()| expect_echo(&mut client, &first, deadline))
        .map_err(|miss| diagnose_silence(&mut client, &first, miss))
        .and_then(|()| converse(&mut client, 4, &secret, deadline));
    result.map_err(|miss| server.failed(miss))
}

fn first_line_and_port(subject: &Subject) -> Result<(), Box<Failure>> {
    let secret = words::token(6);
    // No option at all: port 0, whatever free port the system picks.
    let (server, first) = start(
        subject,
        &[],
        "the program starts without options (so on port 0); one client sends a line",
    )?;
    let server = server.listens_where_it_says(&first)?;
    let mut client = connect!(server, "the client");
    converse(&mut client, 1, &secret, Instant::now() + FINISH).map_err(|m| server.failed(m))?;

    // A port given: a free one, found by binding port 0 and letting it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Failure::setup(CH_MANY_CLIENTS, format!("cannot find a free port: {e}")))?
        .port();
    let port_text = port.to_string();
    let (server, first) = start(
        subject,
        &["--port", &port_text],
        &format!("the program starts with --port {port}"),
    )?;
    if server.addr.port() != port {
        return Err(server.fail(
            format!("the first line `listening on 127.0.0.1:{port}`"),
            format!("the first line was {}", quote(first.as_bytes())),
            Hint::EchoFirstLine,
        ));
    }
    let server = server.listens_where_it_says(&first)?;
    let mut client = connect!(server, "the client");
    converse(&mut client, 1, &secret, Instant::now() + FINISH).map_err(|m| server.failed(m))
}

/// The clients of the many-clients check.
const MANY: usize = 50;

fn fifty_clients_at_once(subject: &Subject) -> Result<(), Box<Failure>> {
    const ROUNDS: usize = 6;
    let (server, _) = start(
        subject,
        &["--port", "0"],
        &format!(
            "{MANY} clients connect; each sends a line and waits for its echo, until all {MANY} \
             have theirs; then each sends {} more lines, one at a time, and half-closes",
            ROUNDS - 1
        ),
    )?;
    let secret = words::token(6);
    let mut clients = Vec::new();
    for i in 1..=MANY {
        clients.push(connect!(server, format!("client {i}")));
    }
    let meeting = Meeting::default();
    let deadline = Instant::now() + FINISH;
    let all_met = || Miss {
        expected: format!("all {MANY} clients, connected at once, to get their first echo"),
        actual: format!(
            "only {} of them did within {} s; the others were still waiting",
            meeting.count(),
            FINISH.as_secs()
        ),
        hint: Hint::EchoOneAtATime,
    };
    let results = in_threads(clients, |mut client| {
        let result = (|| {
            let first = line_for(&client.name, 1, &secret);
            send_or_miss(&mut client, &first)?;
            expect_echo(&mut client, &first, deadline)?;
            if !meeting.arrive_and_wait(MANY, deadline) {
                return Err(all_met());
            }
            for n in 2..=ROUNDS {
                let line = line_for(&client.name, n, &secret);
                send_or_miss(&mut client, &line)?;
                expect_echo(&mut client, &line, deadline)?;
            }
            client.half_close();
            expect_rest_then_end(&mut client, &[], deadline)
        })();
        if result.is_err() {
            meeting.give_up();
        }
        result
    });
    let Some(miss) = results.into_iter().filter_map(Result::err).min_by_key(rank) else {
        return Ok(());
    };
    let miss = if meeting.count() == 0 && matches!(miss.hint, Hint::WrongOutput { .. }) {
        // Nobody got even a first echo: maybe they all wait for an end of input.
        let mut probe = connect!(server, "one more client");
        let line = line_for("one more client", 1, &secret);
        let _ = probe.send(line.as_bytes());
        diagnose_silence(&mut probe, &line, miss)
    } else {
        miss
    };
    Err(server.failed(miss))
}

/// Runs `each` on every client, in a thread of its own, and collects the results.
fn in_threads(
    clients: Vec<LineClient>,
    each: impl Fn(LineClient) -> Result<(), Miss> + Sync,
) -> Vec<Result<(), Miss>> {
    thread::scope(|scope| {
        let each = &each;
        let handles: Vec<_> = clients
            .into_iter()
            .map(|client| scope.spawn(move || each(client)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(panicked())))
            .collect()
    })
}

/// The most telling miss first: a mixed-up echo, then one-at-a-time, then the rest.
fn rank(miss: &Miss) -> u8 {
    match miss.hint {
        Hint::EchoMixedUp | Hint::EchoAltersLines => 0,
        Hint::EchoOneAtATime => 1,
        Hint::EchoNeverCloses => 2,
        _ => 3,
    }
}

fn panicked() -> Miss {
    Miss {
        expected: "the grader's client thread to finish".into(),
        actual: "it panicked".into(),
        hint: Hint::Setup {
            chapter: CH_MANY_CLIENTS,
        },
    }
}

fn a_stalled_client_delays_no_one(subject: &Subject) -> Result<(), Box<Failure>> {
    let (server, _) = start(
        subject,
        &["--port", "0"],
        "a first client connects and sends half a line, then nothing; a second client connects \
         and sends 3 lines, one at a time",
    )?;
    let secret = words::token(6);
    let mut stalled = connect!(server, "the stalled client");
    let half = format!("half a line {secret}");
    if let Err(miss) = send_or_miss(&mut stalled, &half) {
        return Err(server.failed(miss));
    }
    let mut active = connect!(server, "the active client");
    let deadline = Instant::now() + FINISH;
    let first = line_for("the active client", 1, &secret);
    let result =
        send_or_miss(&mut active, &first).and_then(|()| expect_echo(&mut active, &first, deadline));
    if let Err(miss) = result {
        if !matches!(miss.hint, Hint::WrongOutput { .. }) {
            return Err(server.failed(miss));
        }
        // Let the stalled client finish: if the echo comes now, it was waiting for that one.
        let _ = stalled.send(b"\n");
        stalled.half_close();
        let miss = match expect_echo(&mut active, &first, Instant::now() + FINISH) {
            Ok(()) => Miss {
                actual: format!(
                    "{}; it came only once the stalled client had finished its line and \
                     half-closed",
                    miss.actual
                ),
                hint: Hint::EchoOneAtATime,
                ..miss
            },
            Err(_) => diagnose_silence(&mut active, &first, miss),
        };
        return Err(server.failed(miss));
    }
    let result = converse(&mut active, 2, &secret, deadline).and_then(|()| {
        // And the stalled client is still served when it goes on.
        let rest = " and the rest\n";
        send_or_miss(&mut stalled, rest)?;
        expect_echo(&mut stalled, &format!("{half}{rest}"), deadline)?;
        stalled.half_close();
        expect_rest_then_end(&mut stalled, &[], deadline)
    });
    result.map_err(|miss| server.failed(miss))
}

fn half_close_gets_every_echo_then_the_end(subject: &Subject) -> Result<(), Box<Failure>> {
    const LINES: usize = 4000;
    let (server, _) = start(
        subject,
        &["--port", "0"],
        &format!(
            "a client sends {LINES} lines (about 300 KB) as fast as it can, then a last piece \
             without a newline, half-closes, and reads the echoes meanwhile"
        ),
    )?;
    let secret = words::token(6);
    let mut client = connect!(server, "the client");
    let mut lines: Vec<String> = (1..=LINES)
        .map(|n| line_for("the client", n, &secret))
        .collect();
    // What is left of its input at the half-close: it comes back as it is.
    lines.push(format!("the last piece {secret}, with no newline"));
    let mut writer = client
        .writer()
        .map_err(|e| Failure::setup(CH_MANY_CLIENTS, format!("cannot clone: {e}")))?;
    let all: String = lines.concat();
    // A thread writes while this one reads: a server that echoes as it goes would otherwise
    // fill both directions' buffers and block, waiting for us to read.
    let sending = thread::spawn(move || {
        let sent = writer.write_all(all.as_bytes());
        let _ = writer.shutdown(std::net::Shutdown::Write);
        sent
    });
    let result = expect_rest_then_end(&mut client, &lines, Instant::now() + FINISH);
    // The writer ends: either it sent everything, or the connection is closed here.
    if result.is_err() {
        client.reset();
        let _ = sending.join();
    } else if let Ok(Err(e)) = sending.join() {
        let miss = needless("to send every line".into(), format!("sending failed: {e}"));
        return Err(server.failed(miss));
    }
    result.map_err(|miss| server.failed(miss))
}

fn a_reset_client_takes_nothing_down(subject: &Subject) -> Result<(), Box<Failure>> {
    let (server, _) = start(
        subject,
        &["--port", "0"],
        "three clients reset their connections (one with echoes unread, one in the middle of a \
         line, one at once); then another client sends 3 lines",
    )?;
    let secret = words::token(6);
    let mut unread = connect!(server, "client 1");
    let _ = unread.send(line_for("client 1", 1, &secret).repeat(200).as_bytes());
    server.reset(unread);
    let mut mid_line = connect!(server, "client 2");
    let _ = mid_line.send(b"half a li");
    server.reset(mid_line);
    let at_once = connect!(server, "client 3");
    server.reset(at_once);
    let mut after = connect!(server, "client 4");
    converse(&mut after, 3, &secret, Instant::now() + FINISH).map_err(|m| server.failed(m))
}

fn nothing_left_when_all_have_gone(subject: &Subject) -> Result<(), Box<Failure>> {
    const CLIENTS: usize = 32;
    const AT_ONCE: usize = 8;
    let (server, _) = start(
        subject,
        &["--port", "0"],
        &format!(
            "{CLIENTS} clients, {AT_ONCE} at a time, each send 2 lines and half-close (every \
             other one resets instead); then all have gone, and one more client comes"
        ),
    )?;
    // What it holds for no client at all: the descriptors and children it started with.
    let baseline = match server.served.look() {
        Ok(look) => look.fds,
        Err(hidden) => return Err(server.hidden(&hidden)),
    };
    let helpers = server.served.children();
    let secret = words::token(6);
    let deadline = Instant::now() + FINISH;
    // The clients reset from threads, where the server cannot go.
    server.reset_any.store(true, Ordering::Relaxed);
    for batch in 0..CLIENTS / AT_ONCE {
        let mut clients = Vec::new();
        for i in 0..AT_ONCE {
            clients.push(connect!(
                server,
                format!("client {}", batch * AT_ONCE + i + 1)
            ));
        }
        let results = in_threads(clients, |mut client| {
            if client.name.ends_with(['0', '2', '4', '6', '8']) {
                let _ = client.send(b"going away\n");
                client.reset();
                return Ok(());
            }
            converse(&mut client, 2, &secret, deadline)
        });
        if let Some(miss) = results.into_iter().filter_map(Result::err).min_by_key(rank) {
            return Err(server.failed(miss));
        }
    }
    // Every client has read its end of stream, or reset; the server closes its side when it
    // reads theirs. Its table must come down to the listening socket alone, and its descriptors
    // to what it started with. The kernel has no event for "a process closed a descriptor":
    // look again shortly until then, or the deadline.
    let held = |look: &Look| {
        let others = look.sockets.iter().filter(|r| r.state != "LISTEN").count();
        (look.fds > baseline + watch::LEAK_SLACK || others > 0).then_some(others)
    };
    let left = poll_until(deadline, || match server.served.look() {
        Ok(look) => held(&look).map(|_| Ok(look)),
        Err(hidden) => Some(Err(hidden)),
    });
    match left {
        None => {}
        Some(Err(hidden)) => return Err(server.hidden(&hidden)),
        Some(Ok(look)) => {
            let closing = look.sockets.iter().any(|r| r.state == "CLOSE-WAIT");
            let hint = if closing {
                Hint::EchoNeverCloses
            } else {
                Hint::EchoLeaksDescriptors
            };
            return Err(server.fail(
                format!(
                    "once all {CLIENTS} clients had gone, the server to hold only its listening \
                     socket, and about the {baseline} descriptors it had when it started (up to \
                     {} more)",
                    watch::LEAK_SLACK
                ),
                format!(
                    "it held {} descriptors, and {} sockets besides the listening one",
                    look.fds,
                    held(&look).unwrap_or(0)
                ),
                hint,
            ));
        }
    }
    children_are_gone(server, &helpers, &secret, CLIENTS)
}

/// Looks with `still` until it gives `None` (all is well), or the deadline; then gives its last
/// answer.
fn poll_until<T>(deadline: Instant, mut still: impl FnMut() -> Option<T>) -> Option<T> {
    loop {
        let seen = still()?;
        if Instant::now() >= deadline {
            return Some(seen);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// No process left for the clients that have gone: no child still running, and none a zombie
/// once the next client has come (a server may wait for its children at each accept).
fn children_are_gone(
    server: Server,
    helpers: &[ChildProcess],
    secret: &str,
    clients: usize,
) -> Result<(), Box<Failure>> {
    let deadline = Instant::now() + FINISH;
    let of_clients = || {
        let children = server.served.children();
        let kept: Vec<ChildProcess> = children
            .into_iter()
            .filter(|c| !helpers.iter().any(|h| h.pid == c.pid))
            .collect();
        kept
    };
    let running = poll_until(deadline, || {
        let live: Vec<_> = of_clients()
            .into_iter()
            .filter(|c| c.state != 'Z')
            .collect();
        (!live.is_empty()).then_some(live)
    });
    let mut next = connect!(server, "one more client");
    let line = line_for(&next.name, 1, secret);
    if let Err(miss) =
        send_or_miss(&mut next, &line).and_then(|()| expect_echo(&mut next, &line, deadline))
    {
        return Err(server.failed(miss));
    }
    let zombies = poll_until(deadline, || {
        let dead: Vec<_> = of_clients()
            .into_iter()
            .filter(|c| c.state == 'Z')
            .collect();
        (!dead.is_empty()).then_some(dead)
    });
    let actual = match (running, zombies) {
        (None, None) => {
            return converse(&mut next, 0, secret, deadline).map_err(|m| server.failed(m));
        }
        (Some(live), _) => format!(
            "{} child processes still ran once their clients had gone (pids {})",
            live.len(),
            pids(&live)
        ),
        (None, Some(dead)) => format!(
            "{} child processes had exited but were never waited for: zombies (state Z, pids \
             {}), although another client had come since",
            dead.len(),
            pids(&dead)
        ),
    };
    Err(server.fail(
        format!(
            "once all {clients} clients had gone and one more had come, no process left for \
             them: each child that served one has exited and has been waited for"
        ),
        actual,
        Hint::EchoChildrenLeft,
    ))
}

fn pids(children: &[ChildProcess]) -> String {
    let shown: Vec<String> = children.iter().take(8).map(|c| c.pid.to_string()).collect();
    let more = children.len().saturating_sub(8);
    if more > 0 {
        format!("{}, … and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn cannot_listen_says_why(subject: &Subject) -> Result<(), Box<Failure>> {
    listen_failure::check(subject, CH_MANY_CLIENTS, |port| {
        vec!["--port".into(), port.to_string()]
    })
}

fn usage_errors(subject: &Subject) -> Result<(), Box<Failure>> {
    usage::check(
        subject,
        CH_MANY_CLIENTS,
        &[
            &["--port", "notaport"],
            &["--port", "70000"],
            &["--port"],
            &["--verbose"],
            &["--port", "0", "extra"],
        ],
    )
}
