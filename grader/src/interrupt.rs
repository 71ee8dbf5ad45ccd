//! Nothing left behind when grading is interrupted.
//!
//! Each child runs in a process group of its own, so the Ctrl-C a terminal sends to the grader's
//! group never reaches it. Instead every live group (and every detached daemon a check is told
//! about, [`Detached`]) is listed in one registry, and [`end_children_on_interrupt`] kills them
//! all when the grader gets SIGINT, SIGTERM or SIGHUP.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::thread;

/// What a grading run must kill if it is interrupted: the process groups of the children it
/// runs, and the pids of detached daemons that left every group of ours.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) groups: BTreeSet<i32>,
    detached: BTreeSet<i32>,
}

static LIVE: Mutex<Registry> = Mutex::new(Registry {
    groups: BTreeSet::new(),
    detached: BTreeSet::new(),
});

pub(crate) fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A check that panicked while holding the lock leaves the set itself intact.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Kills every child a check started, and every detached daemon it was told about, when this
/// process is asked to stop (SIGINT from a terminal's Ctrl-C, SIGTERM, SIGHUP); then exits with
/// the shell's status for the signal (128 + its number). Call it first thing in `main`, before
/// any thread starts: the signals are blocked in every thread and taken by one thread of its own,
/// which may then take locks and kill freely (a signal handler could do neither).
/// [`crate::program::Run::start`] empties the mask again in every child, which would otherwise
/// inherit it.
pub fn end_children_on_interrupt() {
    use nix::sys::signal::{SigSet, Signal};
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(signal);
    }
    if signals.thread_block().is_err() {
        return;
    }
    thread::spawn(move || {
        let Ok(signal) = signals.wait() else { return };
        kill_everything_started();
        eprintln!("grader: stopped by {signal}; every program it started has been killed");
        std::process::exit(128 + signal as i32);
    });
}

/// Kills every live child group and detached daemon. Children are reaped by their waiter threads
/// (or by init, once this process exits).
fn kill_everything_started() {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    let live = registry();
    for &group in &live.groups {
        let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
    }
    for &pid in &live.detached {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// A daemon that detached itself (a new session, so no group of ours holds it): killed when
/// this guard is dropped, and by [`end_children_on_interrupt`] if grading is interrupted first.
pub struct Detached(i32);

impl Detached {
    pub fn track(pid: i32) -> Detached {
        registry().detached.insert(pid);
        Detached(pid)
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0),
            nix::sys::signal::Signal::SIGKILL,
        );
        registry().detached.remove(&self.0);
    }
}
