//! The contract sentence every server shares: "When it cannot listen, it prints one line on
//! standard error with the system's reason and exits 1; never a panic." One check: the grader
//! holds a port itself and starts the server on it.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::FromRawFd;
use std::time::Instant;

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, describe, quote_lines};
use crate::hint::{Chapter, Hint};
use crate::program::{Ending, FINISH, Input, Run, Subject};

/// Listens on 127.0.0.1, on a port the system picks, *without* `SO_REUSEADDR` (which the
/// standard library's `TcpListener::bind` sets), so that no option of the server's lets it bind
/// the same port while this one listens.
pub fn hold_a_port() -> io::Result<TcpListener> {
    // SAFETY: plain system calls on a descriptor made here and owned by the listener returned;
    // on an error it is closed before returning.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let listener = TcpListener::from_raw_fd(fd);
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
            },
            sin_zero: [0; 8],
        };
        let bound = libc::bind(
            fd,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        if bound < 0 || libc::listen(fd, 16) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(listener)
    }
}

/// The words the system uses for "this port is taken", as `io::Error` shows them, without the
/// number: `Address already in use`.
pub fn in_use_reason() -> String {
    let shown = io::Error::from_raw_os_error(libc::EADDRINUSE).to_string();
    match shown.split_once(" (os error") {
        Some((reason, _)) => reason.to_string(),
        None => shown,
    }
}

/// Holds a port and starts `subject` with `args(port)`: it must exit with status 1, with exactly
/// one line on standard error that gives the system's reason, and no panic.
pub fn check(
    subject: &Subject,
    chapter: Chapter,
    args: impl Fn(u16) -> Vec<String>,
) -> Result<(), Box<Failure>> {
    let setup = |e: io::Error| Failure::setup(chapter, format!("cannot hold a port: {e}"));
    let held = hold_a_port().map_err(setup)?;
    let addr: SocketAddr = held.local_addr().map_err(setup)?;
    let args = args(addr.port());
    let run = Run::start(subject, &args, Input::Open).map_err(|e| {
        Failure::setup(
            chapter,
            format!("could not start {}: {e}", subject.shown_as),
        )
    })?;
    let outcome = run.finish(Instant::now() + FINISH);
    drop(held);
    let stderr: Vec<String> = outcome
        .stderr
        .iter()
        .map(|p| p.text.clone())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let reason = in_use_reason();
    let says_why = matches!(stderr.as_slice(), [line] if line.contains(&reason));
    if outcome.ending == Ending::Exited(1) && says_why {
        return Ok(());
    }
    let hint = general_hint(&outcome, chapter).unwrap_or(Hint::ErrorNotReported { chapter });
    Err(Box::new(Failure {
        scenario: format!(
            "the grader listens on {addr} itself, then starts the program on that port, where it \
             cannot listen"
        ),
        command: outcome.command.clone(),
        transcript: Transcript::of(&outcome),
        expected: format!(
            "one line on standard error that says why (the system's reason: \"{reason}\"), and \
             exit status 1"
        ),
        actual: format!(
            "{}; standard error: {}",
            describe(&outcome),
            quote_lines(&stderr)
        ),
        hint,
    }))
}
