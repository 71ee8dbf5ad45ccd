//! Stopping a program cleanly on Ctrl-C (`SIGINT`) and `SIGTERM`.
//!
//! A signal handler may run in the middle of anything, so it can safely do almost nothing. The
//! classic way out: *block* the signals in every thread, so the kernel keeps them pending, and
//! let one ordinary thread collect them with `sigwait(2)`. That thread can then do whatever it
//! likes: here, say "stopping" and exit with status 0.

use std::io;
use std::thread;

use nix::sys::signal::{SigSet, Signal};

/// Blocks `SIGINT` and `SIGTERM` and starts a thread that waits for them, then prints `stopping`
/// on standard error and exits the process with status 0.
///
/// Call it first thing in `main`: a thread inherits the signal mask of the thread that starts it,
/// so every thread started afterwards keeps the signals blocked too, and only the waiting thread
/// ever sees them.
pub fn exit_on_signal() -> io::Result<()> {
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    signals.thread_block()?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            // sigwait(2) can only fail on an invalid set; should it ever, the signals would stay
            // blocked and Ctrl-C would do nothing, so better to end now, saying why.
            if let Err(e) = signals.wait() {
                eprintln!("stopping: waiting for signals failed: {e}");
                std::process::exit(1);
            }
            eprintln!("stopping");
            std::process::exit(0);
        })?;
    Ok(())
}
