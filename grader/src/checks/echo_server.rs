//! Checks for `echo_server [--port P]` (chapter 6).
//!
//! Here the learner's program is the server and the grader is every client. Each check starts
//! the program with [`Input::Open`], waits for its first line `listening on 127.0.0.1:PORT`, and
//! connects clients from threads of this process (fifty at once in one check). Every line a
//! client sends carries a secret and the client's own number, so an echo that was made up, or
//! went to another client, is caught. The server's sockets and descriptor count are read from
//! `/proc` ([`crate::inspect`]), the way `ss` and `lsof` do, and shown in every failure.
//!
//! Every wait is on an event (a line read, an end of stream, a socket table) with a deadline.
//! A deadline is reached only by a wrong program; then the check finds out *which* mistake by
//! changing one thing (letting a stalled client go, half-closing) and waiting again.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, quote};
use crate::hint::{CH_MANY_CLIENTS, Hint};
use crate::inspect;
use crate::manifest::Check;
use crate::program::{Ending, FINISH, Input, Run, Subject};
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
];

/// Connects a client, or ends the check with the server's failure.
macro_rules! connect {
    ($server:ident, $name:expr) => {
        match $server.connect($name) {
            Ok(client) => client,
            Err(miss) => return Err(failed($server, miss)),
        }
    };
}

/// The clients of the many-clients check.
const MANY: usize = 50;

/// The learner's server, running.
struct Server {
    run: Run,
    addr: SocketAddr,
    scenario: String,
}

/// Starts the program with `args` and waits for its first line.
fn start(
    subject: &Subject,
    args: &[&str],
    scenario: &str,
) -> Result<(Server, String), Box<Failure>> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let run = Run::start(subject, &args, Input::Open).map_err(|e| {
        Failure::setup(
            CH_MANY_CLIENTS,
            format!("could not start {}: {e}", subject.shown_as),
        )
    })?;
    let printed = run.wait_stdout_lines(1, Instant::now() + FINISH);
    let server = Server {
        run,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        scenario: scenario.to_string(),
    };
    if !printed {
        return Err(server.fail(
            "a first line `listening on 127.0.0.1:PORT` on standard output".into(),
            "no line at all".into(),
            Hint::EchoFirstLine,
        ));
    }
    let first = server
        .run
        .stdout_so_far()
        .first()
        .cloned()
        .unwrap_or_default();
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        .filter(|a| a.ip().is_loopback() && a.is_ipv4() && a.port() != 0);
    match addr {
        Some(addr) => Ok((Server { addr, ..server }, first)),
        None => Err(server.fail(
            "a first line `listening on 127.0.0.1:PORT`, with the real port (not 0)".into(),
            format!("the first line was {}", quote(first.as_bytes())),
            Hint::EchoFirstLine,
        )),
    }
}

impl Server {
    fn connect(&self, name: impl Into<String>) -> Result<Client, Miss> {
        match TcpStream::connect(self.addr) {
            Ok(stream) => Ok(Client::new(stream, name.into())),
            Err(e) => Err(Miss {
                expected: format!("to connect to {}", self.addr),
                actual: format!("connecting failed: {e}"),
                hint: Hint::FailedNeedlessly {
                    chapter: CH_MANY_CLIENTS,
                },
            }),
        }
    }

    fn pid(&self) -> i32 {
        self.run.pid()
    }

    /// The failure, with the server's socket table read while it still runs, then the server
    /// stopped. A mistake every program can make (a `todo!()`, a panic) wins over `hint`.
    fn fail(self, expected: String, actual: String, hint: Hint) -> Box<Failure> {
        let table = match inspect::sockets(self.pid()) {
            Ok(rows) => inspect::shown(&rows),
            Err(_) => "no socket table: the process has ended".to_string(),
        };
        let fds = inspect::fd_count(self.pid())
            .map_or(String::new(), |n| format!("; {n} open descriptors"));
        // A server that died (say, of a client's reset) closes every descriptor before its exit
        // reaches us: one with none left is exiting, so wait for that exit instead of calling it
        // "still running". A live server is stopped at once.
        let exiting = inspect::fd_count(self.pid()).map_or(true, |n| n == 0);
        let grace = if exiting { FINISH } else { Duration::ZERO };
        let outcome = self.run.finish(Instant::now() + grace);
        let hint = general_hint(&outcome, CH_MANY_CLIENTS).unwrap_or(match outcome.ending {
            // It ended by itself: whatever else went wrong, it stopped serving.
            Ending::Exited(_) if hint_expects_running(&hint) => Hint::EchoDiesOnReset,
            _ => hint,
        });
        Box::new(Failure {
            scenario: self.scenario,
            command: outcome.command.clone(),
            transcript: Transcript::of(&outcome),
            expected,
            actual: format!("{actual}\n          the server held {table}{fds}"),
            hint,
        })
    }
}

/// Hints that presume the server was still there.
fn hint_expects_running(hint: &Hint) -> bool {
    !matches!(hint, Hint::EchoFirstLine)
}

/// One client of the grader: a connection and what it has read of the current line.
struct Client {
    name: String,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    partial: Vec<u8>,
}

/// What one wait for a line gave.
#[derive(Debug)]
enum Read {
    Line(Vec<u8>),
    /// The server closed (read returned 0 with nothing pending).
    End,
    TimedOut,
    Failed(io::Error),
}

impl Client {
    fn new(stream: TcpStream, name: String) -> Client {
        let reader = BufReader::new(stream.try_clone().expect("a clone of a fresh socket"));
        Client {
            name,
            stream,
            reader,
            partial: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next line (with its newline), the end of the stream, or the deadline.
    fn read(&mut self, deadline: Instant) -> Read {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Read::TimedOut;
            }
            if let Err(e) = self.stream.set_read_timeout(Some(left)) {
                return Read::Failed(e);
            }
            // On a timeout, read_until keeps in `partial` what it had read: the next call goes
            // on from there.
            match self.reader.read_until(b'\n', &mut self.partial) {
                Ok(0) if self.partial.is_empty() => return Read::End,
                Ok(_) if self.partial.ends_with(b"\n") => {
                    return Read::Line(std::mem::take(&mut self.partial));
                }
                // The end came after a piece without a newline: that piece, then the end.
                Ok(_) => return Read::Line(std::mem::take(&mut self.partial)),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Read::Failed(e),
            }
        }
    }

    fn half_close(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Closes with a reset (RST) rather than in order: `SO_LINGER` 0, then the last close.
    fn reset(self) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket of ours, and a pointer to a linger struct of the size given.
        unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        // `reader` holds a clone: both must go for the socket to close (with the reset).
    }
}

/// A line no program can guess, for client `who`.
fn line_for(who: &str, n: usize, secret: &str) -> String {
    format!("{who} line {n} {secret} {}\n", words::text(12))
}

/// What went wrong with one expected echo.
struct Miss {
    expected: String,
    actual: String,
    hint: Hint,
}

/// Waits for the echo of `sent`.
fn expect_echo(client: &mut Client, sent: &str, deadline: Instant) -> Result<(), Miss> {
    let expected = format!("{} to get back {}", client.name, quote(sent.as_bytes()));
    match client.read(deadline) {
        Read::Line(line) if line == sent.as_bytes() => Ok(()),
        Read::Line(line) => Err(Miss {
            expected,
            actual: format!("{} got {}", client.name, quote(&line)),
            hint: Hint::EchoMixedUp,
        }),
        Read::End => Err(Miss {
            expected,
            actual: format!("the server closed {}'s connection instead", client.name),
            hint: Hint::FailedNeedlessly {
                chapter: CH_MANY_CLIENTS,
            },
        }),
        Read::Failed(e) => Err(Miss {
            expected,
            actual: format!("{}'s connection failed: {e}", client.name),
            hint: Hint::FailedNeedlessly {
                chapter: CH_MANY_CLIENTS,
            },
        }),
        Read::TimedOut => Err(Miss {
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
    client: &mut Client,
    sent: &[String],
    deadline: Instant,
) -> Result<(), Miss> {
    for line in sent {
        expect_echo(client, line, deadline)?;
    }
    match client.read(deadline) {
        Read::End => Ok(()),
        Read::TimedOut => Err(Miss {
            expected: format!(
                "{} to read the end of the stream after its echoes",
                client.name
            ),
            actual: format!(
                "every echo came, but the connection stayed open {} s after the half-close",
                FINISH.as_secs()
            ),
            hint: Hint::EchoNeverCloses,
        }),
        Read::Line(line) => Err(Miss {
            expected: format!(
                "{} to read the end of the stream after its echoes",
                client.name
            ),
            actual: format!("it got one more line: {}", quote(&line)),
            hint: Hint::EchoMixedUp,
        }),
        // A reset at the very end still loses nothing that was sent; but say so.
        Read::Failed(e) => Err(Miss {
            expected: format!("{} to read an orderly end of the stream", client.name),
            actual: format!("the connection failed: {e}"),
            hint: Hint::EchoNeverCloses,
        }),
    }
}

/// A full conversation: `lines` lines one by one, each echo awaited, then the half-close, the
/// end of the stream.
fn converse(
    client: &mut Client,
    lines: usize,
    secret: &str,
    deadline: Instant,
) -> Result<(), Miss> {
    for n in 1..=lines {
        let line = line_for(&client.name, n, secret);
        send_or_miss(client, &line)?;
        expect_echo(client, &line, deadline)?;
    }
    client.half_close();
    expect_rest_then_end(client, &[], deadline)
}

fn send_or_miss(client: &mut Client, line: &str) -> Result<(), Miss> {
    client.send(line.as_bytes()).map_err(|e| Miss {
        expected: format!("{} to send {}", client.name, quote(line.as_bytes())),
        actual: format!("sending failed: {e}"),
        hint: Hint::FailedNeedlessly {
            chapter: CH_MANY_CLIENTS,
        },
    })
}

/// A client got no echo: was the server waiting for the end of its input? Half-closes it and
/// waits again.
fn diagnose_silence(client: &mut Client, sent: &str, miss: Miss) -> Miss {
    if !matches!(miss.hint, Hint::WrongOutput { .. }) {
        return miss;
    }
    client.half_close();
    match client.read(Instant::now() + FINISH) {
        Read::Line(line) if line == sent.as_bytes() => Miss {
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

fn failed(server: Server, miss: Miss) -> Box<Failure> {
    server.fail(miss.expected, miss.actual, miss.hint)
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
    result.map_err(|miss| failed(server, miss))
}

fn first_line_and_port(subject: &Subject) -> Result<(), Box<Failure>> {
    let secret = words::token(6);
    // No option at all: port 0, whatever free port the system picks.
    let (server, _) = start(
        subject,
        &[],
        "the program starts without options (so on port 0); one client sends a line",
    )?;
    let mut client = connect!(server, "the client");
    converse(&mut client, 1, &secret, Instant::now() + FINISH).map_err(|m| failed(server, m))?;

    // A port given: a free one, found by binding port 0 and letting it go.
    let port = TcpListener::bind("127.0.0.1:0")
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
    let mut client = connect!(server, "the client");
    converse(&mut client, 1, &secret, Instant::now() + FINISH).map_err(|m| failed(server, m))
}

/// A meeting point for the client threads, with a deadline.
#[derive(Default)]
struct Meeting {
    arrived: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Meeting {
    /// Waits until `all` have arrived; `false` at the deadline, or once someone gave up.
    fn arrive_and_wait(&self, all: usize, deadline: Instant) -> bool {
        let mut state = self.arrived.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        self.changed.notify_all();
        while state.0 < all && !state.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.1 = true;
                self.changed.notify_all();
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        state.0 >= all
    }

    fn give_up(&self) {
        let mut state = self.arrived.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = true;
        self.changed.notify_all();
    }

    fn count(&self) -> usize {
        self.arrived.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

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
    let meeting = Arc::new(Meeting::default());
    let deadline = Instant::now() + FINISH;
    let results: Vec<Result<(), Miss>> = thread::scope(|scope| {
        let handles: Vec<_> = clients
            .into_iter()
            .map(|mut client| {
                let meeting = Arc::clone(&meeting);
                let secret = &secret;
                scope.spawn(move || {
                    let result = (|| {
                        let first = line_for(&client.name, 1, secret);
                        send_or_miss(&mut client, &first)?;
                        expect_echo(&mut client, &first, deadline)?;
                        if !meeting.arrive_and_wait(MANY, deadline) {
                            return Err(Miss {
                                expected: format!(
                                    "all {MANY} clients, connected at once, to get their first echo"
                                ),
                                actual: format!(
                                    "only {} of them did within {} s; the others were still \
                                     waiting",
                                    meeting.count(),
                                    FINISH.as_secs()
                                ),
                                hint: Hint::EchoOneAtATime,
                            });
                        }
                        for n in 2..=ROUNDS {
                            let line = line_for(&client.name, n, secret);
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
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(panicked())))
            .collect()
    });
    let served_first = meeting.count();
    let Some(miss) = results.into_iter().filter_map(Result::err).min_by_key(rank) else {
        return Ok(());
    };
    let miss = if served_first == 0 && matches!(miss.hint, Hint::WrongOutput { .. }) {
        // Nobody got even a first echo: maybe they all wait for an end of input.
        let mut probe = connect!(server, "one more client");
        let line = line_for("one more client", 1, &secret);
        let _ = probe.send(line.as_bytes());
        diagnose_silence(&mut probe, &line, miss)
    } else {
        miss
    };
    Err(failed(server, miss))
}

/// The most telling miss first: a mixed-up echo, then one-at-a-time, then the rest.
fn rank(miss: &Miss) -> u8 {
    match miss.hint {
        Hint::EchoMixedUp => 0,
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
        return Err(failed(server, miss));
    }
    let mut active = connect!(server, "the active client");
    let deadline = Instant::now() + FINISH;
    let first = line_for("the active client", 1, &secret);
    let result =
        send_or_miss(&mut active, &first).and_then(|()| expect_echo(&mut active, &first, deadline));
    if let Err(miss) = result {
        if !matches!(miss.hint, Hint::WrongOutput { .. }) {
            return Err(failed(server, miss));
        }
        // Let the stalled client finish: if the echo comes now, it was waiting for that one.
        let _ = stalled.send(b"\n");
        stalled.half_close();
        let released = expect_echo(&mut active, &first, Instant::now() + FINISH);
        let miss = match released {
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
        return Err(failed(server, miss));
    }
    let result = converse(&mut active, 2, &secret, deadline).and_then(|()| {
        // And the stalled client is still served when it goes on.
        let rest = " and the rest\n";
        send_or_miss(&mut stalled, rest)?;
        expect_echo(&mut stalled, &format!("{half}{rest}"), deadline)?;
        stalled.half_close();
        expect_rest_then_end(&mut stalled, &[], deadline)
    });
    result.map_err(|miss| failed(server, miss))
}

fn half_close_gets_every_echo_then_the_end(subject: &Subject) -> Result<(), Box<Failure>> {
    const LINES: usize = 4000;
    let (server, _) = start(
        subject,
        &["--port", "0"],
        &format!(
            "a client sends {LINES} lines (about 300 KB) as fast as it can, half-closes, and \
             reads the echoes meanwhile"
        ),
    )?;
    let secret = words::token(6);
    let mut client = connect!(server, "the client");
    let lines: Vec<String> = (1..=LINES)
        .map(|n| line_for("the client", n, &secret))
        .collect();
    let mut writer = match client.stream.try_clone() {
        Ok(writer) => writer,
        Err(e) => {
            return Err(Failure::setup(
                CH_MANY_CLIENTS,
                format!("cannot clone: {e}"),
            ));
        }
    };
    let all: String = lines.concat();
    // A thread writes while this one reads: a server that echoes as it goes would otherwise
    // fill both directions' buffers and block, waiting for us to read.
    let sending = thread::spawn(move || {
        let sent = writer.write_all(all.as_bytes());
        let _ = writer.shutdown(Shutdown::Write);
        sent
    });
    let result = expect_rest_then_end(&mut client, &lines, Instant::now() + FINISH);
    // The writer ends: either it sent everything, or the connection is closed below.
    if result.is_err() {
        client.reset();
        let _ = sending.join();
    } else if let Ok(Err(e)) = sending.join() {
        return Err(failed(
            server,
            Miss {
                expected: "to send every line".into(),
                actual: format!("sending failed: {e}"),
                hint: Hint::FailedNeedlessly {
                    chapter: CH_MANY_CLIENTS,
                },
            },
        ));
    }
    result.map_err(|miss| failed(server, miss))
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
    unread.reset();
    let mut mid_line = connect!(server, "client 2");
    let _ = mid_line.send(b"half a li");
    mid_line.reset();
    connect!(server, "client 3").reset();
    let mut after = connect!(server, "client 4");
    converse(&mut after, 3, &secret, Instant::now() + FINISH).map_err(|m| failed(server, m))
}

fn nothing_left_when_all_have_gone(subject: &Subject) -> Result<(), Box<Failure>> {
    const CLIENTS: usize = 24;
    let (server, _) = start(
        subject,
        &["--port", "0"],
        &format!(
            "{CLIENTS} clients, 8 at a time, each send 2 lines and half-close (every fourth \
             resets instead); then all have gone"
        ),
    )?;
    let baseline = inspect::fd_count(server.pid()).unwrap_or(0);
    let secret = words::token(6);
    let deadline = Instant::now() + FINISH;
    for batch in 0..CLIENTS / 8 {
        let mut clients = Vec::new();
        for i in 0..8 {
            clients.push(connect!(server, format!("client {}", batch * 8 + i + 1)));
        }
        let results: Vec<Result<(), Miss>> = thread::scope(|scope| {
            let handles: Vec<_> = clients
                .into_iter()
                .enumerate()
                .map(|(i, mut client)| {
                    let secret = &secret;
                    scope.spawn(move || {
                        if i % 4 == 3 {
                            let _ = client.send(b"going away\n");
                            client.reset();
                            return Ok(());
                        }
                        converse(&mut client, 2, secret, deadline)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(panicked())))
                .collect()
        });
        if let Some(miss) = results.into_iter().filter_map(Result::err).min_by_key(rank) {
            return Err(failed(server, miss));
        }
    }
    // Every client has read its end of stream and closed; the server closes its side when it
    // reads theirs. Wait for its table to show only the listening socket.
    let pid = server.pid();
    let leftovers = loop {
        let fds = inspect::fd_count(pid).unwrap_or(0);
        // A little slack for what a runtime may open after the first line (an epoll, a pipe);
        // a leak is one descriptor per client.
        if fds <= baseline + 2 {
            let rows = inspect::sockets(pid).unwrap_or_default();
            let extra: Vec<_> = rows
                .iter()
                .filter(|r| r.state != "LISTEN")
                .cloned()
                .collect();
            if extra.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                break (fds, extra);
            }
        } else if Instant::now() >= deadline {
            let rows = inspect::sockets(pid).unwrap_or_default();
            break (
                fds,
                rows.into_iter().filter(|r| r.state != "LISTEN").collect(),
            );
        }
        // The kernel has no event for "a process closed a descriptor": look again shortly.
        thread::sleep(Duration::from_millis(10));
    };
    let (fds, extra) = leftovers;
    let hint = if extra.iter().any(|r| r.state == "CLOSE-WAIT") {
        Hint::EchoNeverCloses
    } else {
        Hint::EchoLeaksDescriptors
    };
    Err(server.fail(
        format!(
            "once all {CLIENTS} clients had gone, the server to hold only its listening socket, \
             and about the {baseline} descriptors it had when it started"
        ),
        format!(
            "it held {fds} descriptors, and {} sockets besides the listening one",
            extra.len()
        ),
        hint,
    ))
}
