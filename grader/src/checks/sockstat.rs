//! Checks for `sockstat PID` (chapter 4).
//!
//! The truth is the grader's own reading of `/proc` ([`crate::inspect`]), taken just before and
//! just after the learner's program runs (the two must agree, or the check says so instead of
//! blaming the program), and, where `ss` is installed, what `ss -tuanp` says about the same
//! process ([`crate::ss`]). The processes looked at are children of the grader: the `support`
//! socket zoo, which holds a socket in every state the chapter shows, a `support` TCP server with
//! a client connected, the same server in a network namespace of its own, and `sleep`, which
//! holds none. Meanwhile the grader holds sockets of its own (the decoys), so that a program
//! listing every socket of the machine shows lines that are not the process's. Two processes
//! cannot be read: one that has exited, and one of another user ([`crate::other_user`]).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, describe, plural};
use crate::hint::{CH_SEEING, Hint};
use crate::inspect::{self, SocketRow};
use crate::manifest::Check;
use crate::other_user::{AsAnotherUser, Foreign, is_root};
use crate::processes::{dead_pid, sleeper};
use crate::program::{Ending, FINISH, Input, Outcome, Run, Subject};
use crate::ss::compare_with_ss;
use crate::support_programs::{self, READY};

mod diagnosis;

use diagnosis::{Decoys, Namespace, diagnose, shown_printed};

pub const CHECKS: &[Check] = &[
    Check {
        name: "the_socket_zoo",
        run: the_socket_zoo,
    },
    Check {
        name: "a_tcp_server_with_a_client",
        run: a_tcp_server_with_a_client,
    },
    Check {
        name: "a_process_with_no_sockets",
        run: a_process_with_no_sockets,
    },
    Check {
        name: "a_process_in_another_network_namespace",
        run: a_process_in_another_network_namespace,
    },
    Check {
        name: "no_such_process",
        run: no_such_process,
    },
    Check {
        name: "another_users_process",
        run: another_users_process,
    },
    Check {
        name: "usage_errors",
        run: usage_errors,
    },
];

fn setup(message: String) -> Box<Failure> {
    Failure::setup(CH_SEEING, message)
}

/// Reads the truth about `pid`'s sockets.
fn truth(pid: i32) -> Result<Vec<SocketRow>, Box<Failure>> {
    inspect::sockets(pid).map_err(|e| setup(format!("cannot read the sockets of {pid}: {e}")))
}

fn run_sockstat(subject: &Subject, pid: i32) -> Result<Outcome, Box<Failure>> {
    let run = Run::start(subject, &[pid.to_string()], Input::Lines(vec![]))
        .map_err(|e| setup(format!("cannot start {}: {e}", subject.shown_as)))?;
    Ok(run.finish(Instant::now() + FINISH))
}

/// Runs the program on `pid` and compares its table with the truth, read before and after.
fn judge_table(
    subject: &Subject,
    scenario: &str,
    pid: i32,
    decoys: &Decoys,
    namespace: Namespace,
) -> Result<(), Box<Failure>> {
    let before = truth(pid)?;
    let outcome = run_sockstat(subject, pid)?;
    let after = truth(pid)?;
    if before != after {
        return Err(setup(format!(
            "the sockets of {pid} changed while the program ran: from {} to {}",
            inspect::shown(&before),
            inspect::shown(&after)
        )));
    }
    let expected = inspect::table(&before);
    let printed = outcome.stdout_lines();
    let fail = |hint: Hint, actual: String, transcript: Transcript| {
        Err(Box::new(Failure {
            scenario: scenario.to_string(),
            command: outcome.command.clone(),
            transcript,
            expected: format!(
                "exit status 0 and {}",
                inspect::shown(&before).replacen(
                    "this table of sockets:",
                    "this table of sockets (the truth):",
                    1
                )
            ),
            actual,
            hint,
        }))
    };
    if let Some(hint) = general_hint(&outcome, CH_SEEING) {
        return fail(hint, describe(&outcome), Transcript::of(&outcome));
    }
    if outcome.ending != Ending::Exited(0) {
        let hint = match outcome.ending {
            Ending::StillRunning => Hint::Hung { chapter: CH_SEEING },
            _ => Hint::FailedNeedlessly { chapter: CH_SEEING },
        };
        return fail(hint, describe(&outcome), Transcript::of(&outcome));
    }
    if printed != expected {
        let hint = diagnose(&before, &printed, decoys, namespace);
        return fail(
            hint,
            shown_printed(&printed, &expected),
            Transcript::default(),
        );
    }
    if namespace == Namespace::Own {
        // `ss` shows the sockets of its own network namespace only.
        return Ok(());
    }
    compare_with_ss(pid, &before).map_err(|message| {
        setup(format!(
            "the program's table is the grader's, but `ss` disagrees with both: {message}"
        ))
    })
}

fn the_socket_zoo(subject: &Subject) -> Result<(), Box<Failure>> {
    let decoys = Decoys::open()?;
    let zoo = support_programs::start(&[], "socket-zoo", &[], "ready").map_err(setup)?;
    judge_table(
        subject,
        "the support socket zoo holds TCP and UDP sockets on IPv4 and IPv6: listeners, both ends \
         of connections (one from an IPv6 socket to an IPv4 listener), a half-closed one \
         (FIN-WAIT-2, CLOSE-WAIT), one stuck in SYN-SENT, UDP bound and connected, a duplicated \
         descriptor, and Unix sockets",
        zoo.pid(),
        &decoys,
        Namespace::Shared,
    )
}

fn a_tcp_server_with_a_client(subject: &Subject) -> Result<(), Box<Failure>> {
    let decoys = Decoys::open()?;
    let server = support_programs::start(&[], "tcp-server", &["--port", "0"], "listening on")
        .map_err(setup)?;
    let line = server.stdout_so_far().join("\n");
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| setup(format!("tcp-server announced {line:?}")))?;
    // The grader's end of the connection is the grader's, not the server's: it must not show.
    let mut client = TcpStream::connect(addr)
        .map_err(|e| setup(format!("cannot connect to the tcp-server: {e}")))?;
    // One reply proves the server has accepted the connection (and holds its socket).
    client
        .set_read_timeout(Some(READY))
        .and_then(|()| client.write_all(b"hello\n"))
        .map_err(|e| setup(format!("cannot talk to the tcp-server: {e}")))?;
    let mut reply = String::new();
    BufReader::new(&client)
        .read_line(&mut reply)
        .map_err(|e| setup(format!("no reply from the tcp-server: {e}")))?;
    judge_table(
        subject,
        "the support tcp-server listens on 127.0.0.1 and has accepted one client (the grader)",
        server.pid(),
        &decoys,
        Namespace::Shared,
    )
}

fn a_process_with_no_sockets(subject: &Subject) -> Result<(), Box<Failure>> {
    let decoys = Decoys::open()?;
    let sleeper = sleeper().map_err(setup)?;
    judge_table(
        subject,
        "`sleep 600` holds no socket at all, while other processes (the grader) hold some",
        sleeper.pid(),
        &decoys,
        Namespace::Shared,
    )
}

fn a_process_in_another_network_namespace(subject: &Subject) -> Result<(), Box<Failure>> {
    let decoys = Decoys::open()?;
    // As an ordinary user, a network namespace comes with a user namespace of its own (`-r`).
    let unshare: &[&str] = if is_root() {
        &["unshare", "-n"]
    } else {
        &["unshare", "-rn"]
    };
    let server = support_programs::start(unshare, "tcp-server", &["--port", "0"], "listening on")
        .map_err(|e| {
        setup(format!(
            "cannot start a process in a network namespace of its own with `{}` \
                 (util-linux): {e}",
            unshare.join(" ")
        ))
    })?;
    let namespace = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/net"));
    match (namespace("self"), namespace(&server.pid().to_string())) {
        (Ok(ours), Ok(its)) if ours != its => {}
        (ours, its) => {
            return Err(setup(format!(
                "the server is not in a network namespace of its own: ours is {ours:?}, its \
                 {its:?}"
            )));
        }
    }
    let scenario = format!(
        "the support tcp-server listens on 127.0.0.1 in a network namespace of its own (started \
         with `{}`): its sockets are in /proc/PID/net/tcp, not in the tables of the grader's \
         namespace",
        unshare.join(" ")
    );
    judge_table(subject, &scenario, server.pid(), &decoys, Namespace::Own)
}

fn no_such_process(subject: &Subject) -> Result<(), Box<Failure>> {
    let pid = dead_pid().map_err(setup)?;
    let outcome = run_sockstat(subject, pid)?;
    judge_error(
        &format!("process {pid} has exited: /proc/{pid} does not exist"),
        &outcome,
    )
}

fn another_users_process(subject: &Subject) -> Result<(), Box<Failure>> {
    let foreign = Foreign::find_or_start().map_err(setup)?;
    let pid = foreign.pid();
    if let Foreign::Found(_) = foreign {
        // The program runs as the grader: what the grader may read, it may too.
        if std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok() {
            return Err(setup(format!(
                "process {pid} is another user's, yet the grader can read /proc/{pid}/fd"
            )));
        }
    }
    let outcome = AsAnotherUser::start(subject, &[pid.to_string()])
        .and_then(|run| run.finish(Instant::now() + FINISH))
        .map_err(setup)?;
    judge_error(
        &format!(
            "{}: the program may not read /proc/{pid}/fd",
            foreign.described()
        ),
        &outcome,
    )
}

fn usage_errors(subject: &Subject) -> Result<(), Box<Failure>> {
    crate::usage::check(subject, CH_SEEING, &[&[], &["1", "2"], &["one"]])
}

/// A process that cannot be looked at: one line on standard error, nothing on standard output,
/// exit status 1.
fn judge_error(scenario: &str, outcome: &Outcome) -> Result<(), Box<Failure>> {
    let stderr_lines = outcome.stderr.len();
    let ok = outcome.ending == Ending::Exited(1) && outcome.stdout.is_empty() && stderr_lines == 1;
    if ok {
        return Ok(());
    }
    let hint = general_hint(outcome, CH_SEEING).unwrap_or(match outcome.ending {
        Ending::StillRunning => Hint::Hung { chapter: CH_SEEING },
        _ => Hint::ErrorNotReported { chapter: CH_SEEING },
    });
    Err(Box::new(Failure {
        scenario: scenario.to_string(),
        command: outcome.command.clone(),
        transcript: Transcript::of(outcome),
        expected: "one line on standard error, nothing on standard output, exit status 1".into(),
        actual: format!(
            "{}; {} on standard error",
            describe(outcome),
            plural(stderr_lines, "line", "lines")
        ),
        hint,
    }))
}
