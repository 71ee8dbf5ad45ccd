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
use std::net::{Shutdown, TcpListener};
use std::thread;
use std::time::Instant;

use crate::failure::{Failure, quote};
use crate::hint::{CH_MANY_CLIENTS, Hint};
use crate::line_client::{LineClient, each_in_a_thread};
use crate::listen_failure;
use crate::manifest::Check;
use crate::meeting::Meeting;
use crate::program::{FINISH, Subject};
use crate::served::{ChildProcess, Leftover, connections, pids_shown};
use crate::usage;
use crate::watch;
use crate::words;

mod server;

use server::{
    Miss, Server, converse, converse_open, diagnose_silence, expect_echo, expect_rest_then_end,
    line_for, panicked, rank, send, start,
};

/// One check: its name is its function's.
macro_rules! checks {
    ($($run:ident),* $(,)?) => {
        &[$(Check { name: stringify!($run), run: $run }),*]
    };
}

pub const CHECKS: &[Check] = checks![
    one_client,
    first_line_and_port,
    fifty_clients_at_once,
    a_stalled_client_delays_no_one,
    half_close_gets_every_echo_then_the_end,
    a_reset_client_takes_nothing_down,
    nothing_left_when_all_have_gone,
    cannot_listen_says_why,
    usage_errors,
];

/// Connects a client, or ends the check with the server's failure.
macro_rules! connect {
    ($server:ident, $name:expr) => {
        match $server.connect($name) {
            Ok(client) => client,
            Err(miss) => return Err($server.failed(miss)),
        }
    };
}

fn one_client(subject: &Subject) -> Result<(), Box<Failure>> {
    let (server, _) = start(
        subject,
        &["--port", "0"],
        "one client sends 5 lines, one at a time, each after the echo of the one before; then \
         it half-closes",
    )?;
    let mut client = connect!(server, "the client");
    converse(&mut client, 5, &words::token(6), Instant::now() + FINISH)
        .map_err(|miss| server.failed(miss))
}

fn first_line_and_port(subject: &Subject) -> Result<(), Box<Failure>> {
    let secret = words::token(6);
    // No option at all: port 0, whatever free port the system picks.
    let (server, first) = start(
        subject,
        &[],
        "the program starts without options (so on port 0); one client sends a line",
    )?;
    let server = server.listens_as_said(&first)?;
    let mut client = connect!(server, "the client");
    converse(&mut client, 1, &secret, Instant::now() + FINISH).map_err(|m| server.failed(m))?;

    // A port given: a free one, found by binding port 0 and letting it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Failure::setup(CH_MANY_CLIENTS, format!("cannot find a free port: {e}")))?
        .port();
    let (server, first) = start(
        subject,
        &["--port", &port.to_string()],
        &format!("the program starts with --port {port}"),
    )?;
    if server.addr.port() != port {
        return Err(server.fail(
            format!("the first line `listening on 127.0.0.1:{port}`"),
            format!("the first line was {}", quote(first.as_bytes())),
            Hint::EchoFirstLine,
        ));
    }
    let server = server.listens_as_said(&first)?;
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
    let one_at_a_time = || Miss {
        expected: format!("all {MANY} clients, connected at once, to get their first echo"),
        actual: format!(
            "only {} of them did within {} s; the others were still waiting",
            meeting.count(),
            FINISH.as_secs()
        ),
        hint: Hint::EchoOneAtATime,
    };
    let each = |mut client: LineClient| {
        let first = line_for(&client.name, 1, &secret);
        send(&mut client, &first)?;
        expect_echo(&mut client, &first, deadline)?;
        if !meeting.arrive_and_wait(MANY, deadline) {
            return Err(one_at_a_time());
        }
        for n in 2..=ROUNDS {
            let line = line_for(&client.name, n, &secret);
            send(&mut client, &line)?;
            expect_echo(&mut client, &line, deadline)?;
        }
        client.half_close();
        expect_rest_then_end(&mut client, &[], deadline)
    };
    let results = each_in_a_thread(
        clients,
        |client| each(client).inspect_err(|_| meeting.give_up()),
        panicked,
    );
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
    if let Err(miss) = send(&mut stalled, &half) {
        return Err(server.failed(miss));
    }
    let mut active = connect!(server, "the active client");
    let deadline = Instant::now() + FINISH;
    let first = line_for("the active client", 1, &secret);
    let result =
        send(&mut active, &first).and_then(|()| expect_echo(&mut active, &first, deadline));
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
        send(&mut stalled, rest)?;
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
        let _ = writer.shutdown(Shutdown::Write);
        sent
    });
    let result = expect_rest_then_end(&mut client, &lines, Instant::now() + FINISH);
    // The writer ends: either it sent everything, or the connection is closed here.
    if result.is_err() {
        client.reset();
        let _ = sending.join();
    } else if let Ok(Err(e)) = sending.join() {
        let miss = Miss {
            expected: "to send every line".into(),
            actual: format!("sending failed: {e}"),
            hint: Hint::FailedNeedlessly {
                chapter: CH_MANY_CLIENTS,
            },
        };
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
    server.resets_clients();
    let secret = words::token(6);
    let mut unread = connect!(server, "client 1");
    let _ = unread.send(line_for("client 1", 1, &secret).repeat(200).as_bytes());
    unread.reset();
    let mut mid_line = connect!(server, "client 2");
    let _ = mid_line.send(b"half a li");
    mid_line.reset();
    connect!(server, "client 3").reset();
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
    server.resets_clients();
    let secret = words::token(6);
    let deadline = Instant::now() + FINISH;
    for batch in 0..CLIENTS / AT_ONCE {
        let mut clients = Vec::new();
        for i in 1..=AT_ONCE {
            clients.push(connect!(server, format!("client {}", batch * AT_ONCE + i)));
        }
        let each = |mut client: LineClient| {
            if client.name.ends_with(['0', '2', '4', '6', '8']) {
                let _ = client.send(b"going away\n");
                client.reset();
                return Ok(());
            }
            converse(&mut client, 2, &secret, deadline)
        };
        let results = each_in_a_thread(clients, each, panicked);
        if let Some(miss) = results.into_iter().filter_map(Result::err).min_by_key(rank) {
            return Err(server.failed(miss));
        }
    }
    // Every client has read its end of stream, or reset; the server closes its side when it
    // reads theirs. Its table must come down to the listening socket alone, and its descriptors
    // to what it started with; its own deadline, since the clients may have taken theirs.
    let look = match server.served.let_go(baseline, Instant::now() + FINISH) {
        Ok(()) => return children_are_gone(server, &helpers, &secret, CLIENTS),
        Err(Leftover::Hidden(hidden)) => return Err(server.hidden(&hidden)),
        Err(Leftover::Held(look)) => look,
    };
    let left = connections(&look);
    let hint = if left.iter().any(|r| r.state == "CLOSE-WAIT") {
        Hint::EchoNeverCloses
    } else {
        Hint::EchoLeaksDescriptors
    };
    let expected = format!(
        "once all {CLIENTS} clients had gone, the server to hold only its listening socket, and \
         about the {baseline} descriptors it had when it started (up to {} more)",
        watch::LEAK_SLACK
    );
    let actual = format!(
        "it held {} descriptors, and {} sockets besides the listening one",
        look.fds,
        left.len()
    );
    Err(server.fail(expected, actual, hint))
}

/// No process left for the clients that have gone: no child still running, and none a zombie
/// once the next client has come (a server may wait for its children as it accepts).
fn children_are_gone(
    server: Server,
    helpers: &[ChildProcess],
    secret: &str,
    clients: usize,
) -> Result<(), Box<Failure>> {
    let deadline = Instant::now() + FINISH;
    let running = server
        .served
        .children_until(helpers, deadline, |c| c.state != 'Z');
    let mut next = connect!(server, "one more client");
    if let Err(miss) = converse_open(&mut next, 1, secret, deadline) {
        return Err(server.failed(miss));
    }
    let zombies = server
        .served
        .children_until(helpers, deadline, |c| c.state == 'Z');
    let actual = match (running, zombies) {
        (Ok(()), Ok(())) => {
            return converse(&mut next, 0, secret, deadline).map_err(|m| server.failed(m));
        }
        (Err(live), _) => format!(
            "{} child processes still ran once their clients had gone (pids {})",
            live.len(),
            pids_shown(&live)
        ),
        (Ok(()), Err(dead)) => format!(
            "{} child processes had exited but were never waited for: zombies (state Z, pids \
             {}), although another client had come since",
            dead.len(),
            pids_shown(&dead)
        ),
    };
    let expected = format!(
        "once all {clients} clients had gone and one more had come, no process left for them: \
         each child that served one has exited and has been waited for"
    );
    Err(server.fail(expected, actual, Hint::EchoChildrenLeft))
}

fn cannot_listen_says_why(subject: &Subject) -> Result<(), Box<Failure>> {
    listen_failure::check(subject, CH_MANY_CLIENTS, |port| {
        vec!["--port".into(), port.to_string()]
    })
}

fn usage_errors(subject: &Subject) -> Result<(), Box<Failure>> {
    let cases: &[&[&str]] = &[
        &["--port", "notaport"],
        &["--port", "70000"],
        &["--port"],
        &["--verbose"],
        &["--port", "0", "extra"],
    ];
    usage::check(subject, CH_MANY_CLIENTS, cases)
}
