//! The fork-per-client echo server.
//!
//! The parent only accepts. For every connection it calls `fork`: the child, a copy of the
//! parent, serves that one client with blocking calls and exits. Three duties come with it:
//!
//! - **The parent closes its copy of the client socket.** After `fork` both processes hold a
//!   descriptor for the connection, and the kernel closes a socket only when its *last*
//!   descriptor is closed. A parent that kept its copy would leak one descriptor per client, and
//!   the client would never see the end of the stream when the child finishes.
//! - **The child closes the listening socket**, which it does not need: it must never accept.
//! - **The parent reaps its children.** A child that has exited stays in the process table as a
//!   *zombie* (state `Z` in `ps`) until its parent collects its exit status with `waitpid`. The
//!   kernel says a child has exited with `SIGCHLD`; the handler here only writes one byte into a
//!   pipe that the accept loop polls (the "self-pipe trick"), and the loop itself calls
//!   `waitpid(-1, WNOHANG)` until no exited child is left: several exits can arrive as one signal.
//!
//! This process starts no threads: `fork` copies only the calling thread, and a lock held by
//! another thread at that instant would stay locked forever in the child.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::line_protocol::{self, EchoOptions, Ending};
use crate::trace;

/// The write end of the self-pipe, for the signal handler (which can take no arguments).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// Runs in the middle of whatever the process was doing: it does only what is safe there, one
/// `write` of one byte (the signal's number), keeping `errno` as it found it.
// ANCHOR: handler
extern "C" fn on_signal(signal: libc::c_int) {
    // SAFETY: __errno_location and write are async-signal-safe; the fd is the pipe's write end,
    // open for the whole life of the process, and the byte lives on this stack.
    unsafe {
        let errno = *libc::__errno_location();
        let byte = signal as u8;
        libc::write(
            WAKE_FD.load(Ordering::Relaxed),
            (&byte as *const u8).cast(),
            1,
        );
        *libc::__errno_location() = errno;
    }
}
// ANCHOR_END: handler

const SIGNALS: [Signal; 3] = [Signal::SIGCHLD, Signal::SIGINT, Signal::SIGTERM];

/// Serves every client in a child process of its own, for as long as the process runs; exits
/// with status 0 on Ctrl-C or `SIGTERM`, after stopping its children.
pub fn serve(listener: TcpListener, options: &EchoOptions) -> io::Result<()> {
    let (mut wake_rx, wake_tx) = UnixStream::pair()?;
    // A handler must never block, and the loop drains the pipe until it is empty.
    wake_tx.set_nonblocking(true)?;
    wake_rx.set_nonblocking(true)?;
    WAKE_FD.store(wake_tx.as_raw_fd(), Ordering::Relaxed);
    set_handlers(SigHandler::Handler(on_signal))?;
    // Non-blocking: the loop accepts until there is nobody left waiting, then polls again.
    listener.set_nonblocking(true)?;

    let mut children: HashMap<Pid, u64> = HashMap::new();
    let mut next_conn = 1;
    let mut accept_paused = false;
    loop {
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake_rx.as_fd(), PollFlags::POLLIN),
        ];
        let timeout = if accept_paused {
            // After a failed fork or accept, try again soon, not at once.
            PollTimeout::from(100u16)
        } else {
            PollTimeout::NONE
        };
        let fds = if accept_paused {
            &mut fds[1..]
        } else {
            &mut fds[..]
        };
        match poll(fds, timeout) {
            // A signal arrived while we waited: its byte is in the pipe, poll again.
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        accept_paused = false;

        let mut signals = [0u8; 64];
        loop {
            match wake_rx.read(&mut signals) {
                Ok(0) => break,
                Ok(n) => {
                    if signals[..n].iter().any(|&s| s != Signal::SIGCHLD as u8) {
                        stop(&children);
                    }
                }
                // Empty (WouldBlock), or interrupted: either way, look again next round.
                Err(_) => break,
            }
        }
        // Reap on every round, not only after SIGCHLD: it costs one system call, and no exit can
        // be missed even if a byte was.
        reap(&mut children);

        loop {
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if line_protocol::accept_error_is_transient(&e) => continue,
                Err(e) => {
                    trace::info(format_args!("accept failed: {e}"));
                    accept_paused = true;
                    break;
                }
            };
            let conn = next_conn;
            next_conn += 1;
            trace::info(format_args!("conn {conn}: accepted from {peer}"));
            // The accepted socket must block in the child, whatever the listener is.
            stream.set_nonblocking(false)?;
            // SAFETY: this process runs one thread (see the module doc), so the child starts
            // with every lock free; it only serves its socket and exits.
            // ANCHOR: fork
            match unsafe { fork() } {
                Ok(ForkResult::Child) => {
                    // The child: no accepting, no signal plumbing, just this one client.
                    drop(listener);
                    drop(wake_rx);
                    drop(wake_tx);
                    let _ = set_handlers(SigHandler::SigDfl);
                    let ending = line_protocol::serve_blocking(stream, conn, options);
                    line_protocol::log_closed(conn, ending);
                    std::process::exit(if ending == Ending::Finished { 0 } else { 1 });
                }
                Ok(ForkResult::Parent { child }) => {
                    // The parent: close our copy now, or the connection never really closes.
                    drop(stream);
                    children.insert(child, conn);
                }
                Err(e) => {
                    // Too many processes, or no memory: refuse this client (closing the stream)
                    // and keep serving those we have.
                    trace::info(format_args!("conn {conn}: cannot fork: {e}"));
                    drop(stream);
                    accept_paused = true;
                    break;
                }
            }
            // ANCHOR_END: fork
        }
    }
}

fn set_handlers(handler: SigHandler) -> io::Result<()> {
    // SA_RESTART: a system call that the signal interrupts is restarted rather than failing with
    // EINTR (poll fails with EINTR all the same, which the loop expects).
    let action = SigAction::new(handler, SaFlags::SA_RESTART, SigSet::empty());
    for signal in SIGNALS {
        // SAFETY: the handler only calls async-signal-safe functions.
        unsafe { sigaction(signal, &action) }?;
    }
    Ok(())
}

/// Collects the exit status of every child that has exited, so none is left a zombie.
// ANCHOR: reap
fn reap(children: &mut HashMap<Pid, u64>) {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => {
                let conn = children.remove(&pid).unwrap_or(0);
                trace::info(format_args!(
                    "conn {conn}: child {pid} exited with status {code}"
                ));
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) => {
                let conn = children.remove(&pid).unwrap_or(0);
                trace::info(format_args!("conn {conn}: child {pid} killed by {signal}"));
            }
            // StillAlive: children run, none has exited. ECHILD: no children at all.
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
// ANCHOR_END: reap

/// Ctrl-C or SIGTERM: stop the children serving clients, then leave.
fn stop(children: &HashMap<Pid, u64>) -> ! {
    eprintln!("stopping");
    for pid in children.keys() {
        let _ = kill(*pid, Signal::SIGTERM);
    }
    std::process::exit(0)
}
