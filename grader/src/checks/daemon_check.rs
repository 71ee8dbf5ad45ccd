//! Checks for `daemon_check PIDFILE` (chapter 7).
//!
//! Every check writes a pid file into a folder of its own and sets up the world it describes:
//! a listener in this process (which the grader watches: was a probe made, did it close in
//! order?), one whose backlog is full, the `support` daemon as a child or detached, a live
//! process that listens on nothing (`sleep`), a pid that is dead, a port nobody may take (bound,
//! not listening), a process of another user, and a daemon whose descriptors cannot be read
//! ([`crate::other_user`]). Then it runs the program and compares its one line with the verdict
//! the world calls for.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::daemon::reserve_port;

use crate::failure::{Failure, Transcript, describe};
use crate::hint::{CH_DAEMONS, Hint};
use crate::interrupt::Detached;
use crate::listeners::FullBacklog;
use crate::manifest::Check;
use crate::other_user::{Foreign, UnreadableListener};
use crate::processes::{dead_pid, sleeper};
use crate::program::{Ending, Input, Run, Subject};
use crate::support_programs::{self, READY};

mod malformed;
mod verdict;

use verdict::{
    Behind, Expect, folder, judge_unwatched, me, run_check, run_check_as_another_user, setup,
    simple, watched,
};

pub const CHECKS: &[Check] = &[
    Check {
        name: "healthy_listener",
        run: healthy_listener,
    },
    Check {
        name: "accepts_and_never_answers",
        run: accepts_and_never_answers,
    },
    Check {
        name: "never_accepts",
        run: never_accepts,
    },
    Check {
        name: "support_daemon",
        run: support_daemon,
    },
    Check {
        name: "support_daemon_detached",
        run: support_daemon_detached,
    },
    Check {
        name: "no_pid_file",
        run: no_pid_file,
    },
    Check {
        name: "malformed_pid_files",
        run: malformed_pid_files,
    },
    Check {
        name: "dead_pid",
        run: dead_pid_check,
    },
    Check {
        name: "dead_pid_port_taken",
        run: dead_pid_port_taken,
    },
    Check {
        name: "alive_not_listening",
        run: alive_not_listening,
    },
    Check {
        name: "full_backlog",
        run: full_backlog,
    },
    Check {
        name: "another_users_process",
        run: another_users_process,
    },
    Check {
        name: "descriptors_unreadable",
        run: descriptors_unreadable,
    },
    Check {
        name: "pid_reused",
        run: pid_reused,
    },
    Check {
        name: "port_held_by_another_process",
        run: port_held_by_another_process,
    },
    Check {
        name: "usage_errors",
        run: usage_errors,
    },
];

fn healthy_listener(subject: &Subject) -> Result<(), Box<Failure>> {
    let watched = watched(true)?;
    let port = watched.port;
    // The trailing `\r\n` and spaces the contract allows.
    simple(
        subject,
        "the pid file names the grader's own process, which listens on the port and accepts",
        &format!("{};{} \r\n", me(), port),
        Expect::Running { pid: me(), port },
        Behind::Watched(&watched),
    )
}

fn accepts_and_never_answers(subject: &Subject) -> Result<(), Box<Failure>> {
    let watched = watched(true)?;
    simple(
        subject,
        "the daemon (the grader's own process) accepts every connection and never sends a byte",
        &format!("{};{}\n", me(), watched.port),
        Expect::Running {
            pid: me(),
            port: watched.port,
        },
        Behind::Watched(&watched),
    )
}

fn never_accepts(subject: &Subject) -> Result<(), Box<Failure>> {
    // Connections complete in the kernel and wait in the backlog: connect succeeds, accept never
    // comes.
    let watched = watched(false)?;
    simple(
        subject,
        "the daemon (the grader's own process) listens but never accepts: connections wait in its backlog",
        &format!("{};{}\n", me(), watched.port),
        Expect::Running {
            pid: me(),
            port: watched.port,
        },
        Behind::Unwatched,
    )
}

/// Starts the support daemon in the foreground; its pid file is written before it announces.
fn foreground_daemon(pidfile: &Path) -> Result<(Run, u16), Box<Failure>> {
    let path = pidfile.display().to_string();
    let run = support_programs::start(&[], "daemon", &["--pidfile", &path], "listening on")
        .map_err(setup)?;
    let text = fs::read_to_string(pidfile).map_err(|e| setup(format!("no pid file: {e}")))?;
    let port = support::daemon::parse_pid_file(&text)
        .map(|(_, port)| port)
        .ok_or_else(|| setup(format!("the daemon wrote {text:?}")))?;
    Ok((run, port))
}

fn support_daemon(subject: &Subject) -> Result<(), Box<Failure>> {
    let scenario = "the support daemon runs in the foreground and wrote its pid file";
    let dir = folder()?;
    let pidfile = dir.path().join("daemon.pid");
    let (daemon, port) = foreground_daemon(&pidfile)?;
    let text = fs::read_to_string(&pidfile).unwrap_or_default();
    let outcome = run_check(subject, &pidfile)?;
    let expect = Expect::Running {
        pid: daemon.pid(),
        port,
    };
    judge_unwatched(scenario, &text, expect, &outcome)?;
    // The daemon logs how each connection ended: stop it and read its log.
    let _ = kill(Pid::from_raw(daemon.pid()), Signal::SIGTERM);
    let log = daemon.finish(Instant::now() + Duration::from_secs(5));
    if log.stderr_text().contains("reset") {
        return Err(Box::new(Failure {
            scenario: scenario.into(),
            command: outcome.command.clone(),
            transcript: Transcript::of(&outcome),
            expected: "the daemon to read an end of stream on the probe connection".into(),
            actual: format!("the daemon's log: {}", log.stderr_text()),
            hint: Hint::DaemonProbeReset,
        }));
    }
    Ok(())
}

fn support_daemon_detached(subject: &Subject) -> Result<(), Box<Failure>> {
    let dir = folder()?;
    let pidfile = dir.path().join("daemon.pid");
    let daemon = support_programs::program("daemon").map_err(setup)?;
    let args = [
        "--pidfile".into(),
        pidfile.display().to_string(),
        "--detach".into(),
    ];
    let launcher = Run::start(&daemon, &args, Input::Lines(vec![]))
        .map_err(|e| setup(format!("cannot start the daemon: {e}")))?
        .finish(Instant::now() + READY);
    let text = fs::read_to_string(&pidfile).unwrap_or_default();
    let parsed = support::daemon::parse_pid_file(&text);
    // Not our child (its new parent reaps it): killed when the check ends, or when grading is
    // interrupted first.
    let _guard = parsed.map(|(pid, _)| Detached::track(pid));
    let Some((pid, port)) = parsed.filter(|_| launcher.ending == Ending::Exited(0)) else {
        return Err(setup(format!(
            "the detached daemon did not start: {}; {}",
            describe(&launcher),
            launcher.stderr_text()
        )));
    };
    let outcome = run_check(subject, &pidfile)?;
    let scenario = "the support daemon runs detached (--detach: double fork, new session) and wrote its pid file";
    let expect = Expect::Running { pid, port };
    judge_unwatched(scenario, &text, expect, &outcome)
}

fn no_pid_file(subject: &Subject) -> Result<(), Box<Failure>> {
    let dir = folder()?;
    let outcome = run_check(subject, &dir.path().join("daemon.pid"))?;
    let scenario = "the pid file does not exist";
    let expect = Expect::Not("no pid file");
    judge_unwatched(scenario, "(no file)", expect, &outcome)
}

fn malformed_pid_files(subject: &Subject) -> Result<(), Box<Failure>> {
    // A live listener behind every port number, so that only the parsing can say "malformed".
    let watched = watched(true)?;
    malformed::check(subject, me(), watched.port)
}

fn dead_pid_check(subject: &Subject) -> Result<(), Box<Failure>> {
    let (_reserved, port) = reserve_port().map_err(|e| setup(e.to_string()))?;
    let pid = dead_pid().map_err(setup)?;
    simple(
        subject,
        "the pid file names a process that has exited, and nothing listens on its port",
        &format!("{pid};{port}\n"),
        Expect::Not("no such process"),
        Behind::Unwatched,
    )
}

fn dead_pid_port_taken(subject: &Subject) -> Result<(), Box<Failure>> {
    let watched = watched(true)?;
    let pid = dead_pid().map_err(setup)?;
    simple(
        subject,
        "the daemon of the pid file has died, and another process now listens on its port",
        &format!("{pid};{}\n", watched.port),
        Expect::Not("no such process"),
        Behind::Watched(&watched),
    )
}

fn alive_not_listening(subject: &Subject) -> Result<(), Box<Failure>> {
    let sleeper = sleeper().map_err(setup)?;
    let (_reserved, port) = reserve_port().map_err(|e| setup(e.to_string()))?;
    simple(
        subject,
        "the pid file names a live process that listens on no port (nothing accepts on PORT)",
        &format!("{};{port}\n", sleeper.pid()),
        Expect::Not("not listening"),
        Behind::Unwatched,
    )
}

fn full_backlog(subject: &Subject) -> Result<(), Box<Failure>> {
    let full = FullBacklog::start(Instant::now() + READY).map_err(setup)?;
    simple(
        subject,
        "the daemon (the grader's own process) listens with a backlog of 0 that is already full: \
         the kernel drops every new connection attempt, so no connection can be made within 2 s",
        &format!("{};{}\n", me(), full.port),
        Expect::Not("not listening"),
        Behind::FullBacklog,
    )
}

/// `kill(pid, 0)` fails with EPERM, although the process exists.
fn another_users_process(subject: &Subject) -> Result<(), Box<Failure>> {
    let foreign = Foreign::find_or_start().map_err(setup)?;
    let (_reserved, port) = reserve_port().map_err(|e| setup(e.to_string()))?;
    let dir = folder()?;
    let text = format!("{};{port}\n", foreign.pid());
    let pidfile = dir
        .write("daemon.pid", &text)
        .map_err(|e| setup(e.to_string()))?;
    let outcome = run_check_as_another_user(subject, &pidfile)?;
    let scenario = format!(
        "the pid file names a live process of another user ({}): kill(pid, 0) fails with EPERM; \
         nothing listens on PORT",
        foreign.described()
    );
    let expect = Expect::Not("not listening");
    judge_unwatched(&scenario, &text, expect, &outcome)
}

/// The daemon runs and holds the port, but nothing the program may read proves it.
fn descriptors_unreadable(subject: &Subject) -> Result<(), Box<Failure>> {
    let daemon = UnreadableListener::start()
        .map_err(|e| setup(format!("cannot start a listener of our own: {e}")))?;
    let dir = folder()?;
    let text = format!("{};{}\n", daemon.pid, daemon.port);
    let pidfile = dir
        .write("daemon.pid", &text)
        .map_err(|e| setup(e.to_string()))?;
    let outcome = run_check_as_another_user(subject, &pidfile)?;
    let scenario = format!(
        "the daemon (process {}) listens on PORT, but the program may not read /proc/{}/fd: the \
         daemon is not dumpable{}",
        daemon.pid,
        daemon.pid,
        if crate::other_user::is_root() {
            ", and the program runs as user nobody"
        } else {
            " (so /proc/PID/fd is root's)"
        }
    );
    judge_unwatched(&scenario, &text, Expect::CheckFails, &outcome)
}

fn pid_reused(subject: &Subject) -> Result<(), Box<Failure>> {
    let sleeper = sleeper().map_err(setup)?;
    let watched = watched(true)?;
    simple(
        subject,
        "the daemon died and its pid now belongs to an unrelated process (sleep); another process holds the port",
        &format!("{};{}\n", sleeper.pid(), watched.port),
        Expect::Not("port held by another process"),
        Behind::Watched(&watched),
    )
}

fn port_held_by_another_process(subject: &Subject) -> Result<(), Box<Failure>> {
    let dir = folder()?;
    let (daemon, _) = foreground_daemon(&dir.path().join("own.pid"))?;
    let watched = watched(true)?;
    simple(
        subject,
        "the pid file names a running daemon, but another process (the grader) listens on the pid file's port",
        &format!("{};{}\n", daemon.pid(), watched.port),
        Expect::Not("port held by another process"),
        Behind::Watched(&watched),
    )
}

fn usage_errors(subject: &Subject) -> Result<(), Box<Failure>> {
    crate::usage::check(subject, CH_DAEMONS, &[&[], &["a.pid", "b.pid"]])
}
