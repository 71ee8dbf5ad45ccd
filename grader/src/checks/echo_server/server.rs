//! The learner's echo server as the checks see it: started and known by the address its first
//! line names, talked to by the grader's clients, and, when a check fails, stopped and named
//! with the mistake that explains what the clients saw.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, quote};
use crate::hint::{CH_MANY_CLIENTS, Hint};
use crate::line_client::{LineClient, Unexpected};
use crate::program::{Ending, FINISH, Subject};
use crate::served::{self, Listening, Served, Started, poll_until};
use crate::watch::Hidden;
use crate::words;

/// The learner's server, running, and what the check did to it.
pub struct Server {
    pub served: Served,
    pub addr: SocketAddr,
    scenario: String,
    subject: Subject,
    /// Whether the check reset a client: only then may an exit be the reset's doing.
    reset_any: AtomicBool,
}

/// What went wrong for one client.
pub struct Miss {
    pub expected: String,
    pub actual: String,
    pub hint: Hint,
}

const NEEDLESS: Hint = Hint::FailedNeedlessly {
    chapter: CH_MANY_CLIENTS,
};
const SILENT: Hint = Hint::WrongOutput {
    chapter: CH_MANY_CLIENTS,
};

/// Starts the program with `args` and waits for its first line, which must name the address it
/// listens on: 127.0.0.1 and a real port.
pub fn start(
    subject: &Subject,
    args: &[&str],
    scenario: &str,
) -> Result<(Server, String), Box<Failure>> {
    let started = served::start(subject, args).map_err(|e| {
        let message = format!("could not start {}: {e}", subject.shown_as);
        Failure::setup(CH_MANY_CLIENTS, message)
    })?;
    let server = |served, addr| Server {
        served,
        addr,
        scenario: scenario.to_string(),
        subject: subject.clone(),
        reset_any: AtomicBool::new(false),
    };
    let (served, first) = match started {
        Started::Printed(served, first) => (served, first),
        Started::Silent(served) => return Err(server(served, LOOPBACK_ANY).silent()),
    };
    match served::said_address(&first) {
        Some(addr) if addr.ip() == Ipv4Addr::LOCALHOST => Ok((server(served, addr), first)),
        // It may say 0.0.0.0 because it listens there: then that is the mistake to name.
        Some(addr) => server(served, addr)
            .listens_as_said(&first)
            .map(|s| (s, first)),
        None => Err(server(served, LOOPBACK_ANY).fail(
            "a first line `listening on 127.0.0.1:PORT`, with the real port (not 0)".into(),
            format!("the first line was {}", quote(first.as_bytes())),
            Hint::EchoFirstLine,
        )),
    }
}

const LOOPBACK_ANY: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

impl Server {
    pub fn connect(&self, name: impl Into<String>) -> Result<LineClient, Miss> {
        LineClient::connect(self.addr, name).map_err(|e| Miss {
            expected: format!("to connect to {}", self.addr),
            actual: format!("connecting failed: {e}"),
            hint: NEEDLESS,
        })
    }

    /// Says that the check resets clients: an exit may then be the reset's doing.
    pub fn resets_clients(&self) {
        self.reset_any.store(true, Ordering::Relaxed);
    }

    /// No first line: when the socket table shows it listening, the line is stuck in a buffer.
    fn silent(self) -> Box<Failure> {
        let expected = "a first line `listening on 127.0.0.1:PORT` on standard output".into();
        let listener = self
            .served
            .listening()
            .ok()
            .and_then(|rows| rows.first().cloned());
        match listener {
            Some(row) if self.served.running() => {
                let actual = format!(
                    "nothing on standard output within {} s, although it was listening on {} \
                     (its socket table shows LISTEN)",
                    FINISH.as_secs(),
                    row.local
                );
                self.fail(expected, actual, Hint::EchoLineNotFlushed)
            }
            _ => self.fail(expected, "no line at all".into(), Hint::EchoFirstLine),
        }
    }

    /// Its own socket table must show it listening where its first line says, and nowhere else;
    /// and that must be 127.0.0.1.
    pub fn listens_as_said(self, first: &str) -> Result<Server, Box<Failure>> {
        let printed = quote(first.as_bytes());
        let (actual, hint) = match self.served.listens_as_said(self.addr) {
            Err(hidden) => return Err(self.hidden(&hidden)),
            Ok(Listening::AsSaid) if self.addr.ip() == Ipv4Addr::LOCALHOST => return Ok(self),
            Ok(Listening::AsSaid) => (
                format!("it listens on {}, as it printed", self.addr),
                Hint::EchoListensBeyondLoopback,
            ),
            Ok(Listening::Nowhere) => (
                format!("it printed {printed} but holds no listening socket"),
                Hint::EchoFirstLine,
            ),
            Ok(Listening::Elsewhere(other)) => (
                format!("it printed {printed} but listens on {other}"),
                if other.ip() == Ipv4Addr::LOCALHOST {
                    Hint::EchoFirstLine
                } else {
                    Hint::EchoListensBeyondLoopback
                },
            ),
        };
        let expected = "its socket table to show it listening on 127.0.0.1 at the port its first \
                        line says, and on no other address";
        Err(self.fail(expected.into(), actual, hint))
    }

    pub fn hidden(self, hidden: &Hidden) -> Box<Failure> {
        self.fail(
            "a server whose descriptors the grader can read in /proc".into(),
            hidden.message().to_string(),
            Hint::Uninspectable {
                chapter: CH_MANY_CLIENTS,
            },
        )
    }

    pub fn failed(self, miss: Miss) -> Box<Failure> {
        self.fail(miss.expected, miss.actual, miss.hint)
    }

    /// The failure, with the server's socket table read while it still runs, then the server
    /// stopped. A mistake every program can make (a `todo!()`, a panic) wins over `hint`; so does
    /// an exit, for a hint that presumes a running server.
    pub fn fail(self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let stopped = self.served.stop();
        let outcome = stopped.outcome;
        let exited = matches!(outcome.ending, Ending::Exited(_)) && expects_running(&hint);
        let hint = match general_hint(&outcome, CH_MANY_CLIENTS) {
            Some(general) => general,
            None if exited && self.reset_any.into_inner() && dies_on_reset(&self.subject) => {
                Hint::EchoDiesOnReset
            }
            None if exited => Hint::EchoStopsServing,
            None => hint,
        };
        Box::new(Failure {
            scenario: self.scenario,
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
        converse_open(&mut stays, 1, &secret, deadline)?;
        let mut leaves = server.connect("the second client")?;
        converse_open(&mut leaves, 1, &secret, deadline)?;
        let gone = leaves.local_addr().ok();
        if reset {
            leaves.reset();
        } else {
            converse(&mut leaves, 0, &secret, deadline)?;
        }
        // The server has read the reset (or the end) once it holds that connection no longer:
        // only then can the first client tell whether it survived it.
        poll_until(deadline, || {
            let held = server.served.holds_connection_from(gone?).ok()?;
            held.then_some(())
        });
        converse(&mut stays, 1, &secret, deadline)
    })();
    served.is_ok() && server.served.running()
}

/// A line no program can guess, for client `who`.
pub fn line_for(who: &str, n: usize, secret: &str) -> String {
    format!("{who} line {n} {secret} {}\n", words::text(12))
}

/// Sends `line`.
pub fn send(client: &mut LineClient, line: &str) -> Result<(), Miss> {
    client.send(line.as_bytes()).map_err(|e| Miss {
        expected: format!("{} to send {}", client.name, quote(line.as_bytes())),
        actual: format!("sending failed: {e}"),
        hint: NEEDLESS,
    })
}

/// Waits for the echo of `sent`, and names what came instead.
pub fn expect_echo(client: &mut LineClient, sent: &str, deadline: Instant) -> Result<(), Miss> {
    let Err(unexpected) = client.expect_line(sent.as_bytes(), deadline) else {
        return Ok(());
    };
    let name = &client.name;
    let expected = format!("{name} to get back {}", quote(sent.as_bytes()));
    let (expected, actual, hint) = match unexpected {
        // What `lines()` and `writeln!` make of a line: the same but for its end.
        Unexpected::Other(line) if line.trim_ascii_end() == sent.trim_ascii_end().as_bytes() => (
            expected,
            format!("{name} got {}", quote(&line)),
            Hint::EchoAltersLines,
        ),
        Unexpected::Other(line) => (
            expected,
            format!("{name} got {}", quote(&line)),
            Hint::EchoMixedUp,
        ),
        Unexpected::End => (
            expected,
            format!("the server closed {name}'s connection instead"),
            NEEDLESS,
        ),
        Unexpected::Failed(e) => (
            expected,
            format!("{name}'s connection failed: {e}"),
            NEEDLESS,
        ),
        // A last piece without a newline is whole only once the end of the stream follows it.
        Unexpected::TimedOut { pending } if pending == sent.as_bytes() => (
            format!("{expected}, then the end of the stream"),
            format!(
                "it came back, but the connection stayed open {} s",
                FINISH.as_secs()
            ),
            Hint::EchoNeverCloses,
        ),
        Unexpected::TimedOut { .. } => (
            expected,
            format!("nothing came back to {name} within {} s", FINISH.as_secs()),
            SILENT,
        ),
    };
    Err(Miss {
        expected,
        actual,
        hint,
    })
}

/// After the half-close: every echo of `sent` (in order), then the end of the stream.
pub fn expect_rest_then_end(
    client: &mut LineClient,
    sent: &[String],
    deadline: Instant,
) -> Result<(), Miss> {
    for line in sent {
        expect_echo(client, line, deadline)?;
    }
    let Err(unexpected) = client.expect_end(deadline) else {
        return Ok(());
    };
    let (actual, hint) = match unexpected {
        Unexpected::Other(line) => (
            format!("it got one more line: {}", quote(&line)),
            Hint::EchoMixedUp,
        ),
        // A reset at the very end still loses nothing that was sent; but say so.
        Unexpected::Failed(e) => (
            format!("the connection failed instead of ending in order: {e}"),
            Hint::EchoNeverCloses,
        ),
        Unexpected::End | Unexpected::TimedOut { .. } => (
            format!(
                "every echo came, but the connection stayed open {} s after the half-close",
                FINISH.as_secs()
            ),
            Hint::EchoNeverCloses,
        ),
    };
    Err(Miss {
        expected: format!(
            "{} to read the end of the stream after its echoes",
            client.name
        ),
        actual,
        hint,
    })
}

/// `lines` lines one by one, each echo awaited; the connection stays open.
pub fn converse_open(
    client: &mut LineClient,
    lines: usize,
    secret: &str,
    deadline: Instant,
) -> Result<(), Miss> {
    for n in 1..=lines {
        let line = line_for(&client.name, n, secret);
        send(client, &line)?;
        expect_echo(client, &line, deadline).map_err(|m| diagnose_silence(client, &line, m))?;
    }
    Ok(())
}

/// A full conversation: `lines` lines one by one, each echo awaited, then the half-close, the
/// end of the stream.
pub fn converse(
    client: &mut LineClient,
    lines: usize,
    secret: &str,
    deadline: Instant,
) -> Result<(), Miss> {
    converse_open(client, lines, secret, deadline)?;
    client.half_close();
    expect_rest_then_end(client, &[], deadline)
}

/// A client got no echo: was the server waiting for the end of its input? Half-closes it and
/// waits again.
pub fn diagnose_silence(client: &mut LineClient, sent: &str, miss: Miss) -> Miss {
    if miss.hint != SILENT {
        return miss;
    }
    client.half_close();
    match client.expect_line(sent.as_bytes(), Instant::now() + FINISH) {
        Ok(()) => Miss {
            actual: format!(
                "{}; its echo came only after the client half-closed",
                miss.actual
            ),
            hint: Hint::EchoWaitsForEnd,
            ..miss
        },
        Err(_) => miss,
    }
}

/// The most telling miss first: a mixed-up echo, then one-at-a-time, then the rest.
pub fn rank(miss: &Miss) -> u8 {
    match miss.hint {
        Hint::EchoMixedUp | Hint::EchoAltersLines => 0,
        Hint::EchoOneAtATime => 1,
        Hint::EchoNeverCloses => 2,
        _ => 3,
    }
}

pub fn panicked() -> Result<(), Miss> {
    Err(Miss {
        expected: "the grader's client thread to finish".into(),
        actual: "it panicked".into(),
        hint: Hint::Setup {
            chapter: CH_MANY_CLIENTS,
        },
    })
}
