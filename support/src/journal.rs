//! A shared, waitable event log.
//!
//! Every server records what it did (a datagram received, a line sent, a connection closed) in a
//! [`Journal`]. The grader reads it afterwards to compare what the learner's program printed with
//! what really crossed the wire, and waits on it instead of sleeping: "wait until the server has
//! seen the half-close, or 2 seconds have passed".

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// One event and the moment it was recorded.
#[derive(Clone, Debug)]
pub struct Stamped<E> {
    pub at: Instant,
    pub event: E,
}

/// An append-only list of events, shared by cloning: every clone sees the same list.
pub struct Journal<E> {
    shared: Arc<(Mutex<Vec<Stamped<E>>>, Condvar)>,
}

// Written by hand rather than derived: a derive would demand `E: Clone` just to clone the `Arc`.
impl<E> Clone for Journal<E> {
    fn clone(&self) -> Self {
        Journal {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<E: Clone> Default for Journal<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Clone> Journal<E> {
    pub fn new() -> Self {
        Journal {
            shared: Arc::new((Mutex::new(Vec::new()), Condvar::new())),
        }
    }

    /// Appends an event, stamped now, and wakes everyone waiting in [`Journal::wait_until`].
    pub fn record(&self, event: E) {
        let mut events = self.lock();
        events.push(Stamped {
            at: Instant::now(),
            event,
        });
        self.shared.1.notify_all();
    }

    /// A copy of every event recorded so far, oldest first.
    pub fn snapshot(&self) -> Vec<Stamped<E>> {
        self.lock().clone()
    }

    /// Waits until `done(events)` is true or the deadline passes; returns whether it became true.
    ///
    /// `done` is called once at the start and again after every new event.
    pub fn wait_until(
        &self,
        deadline: Instant,
        mut done: impl FnMut(&[Stamped<E>]) -> bool,
    ) -> bool {
        let mut events = self.lock();
        loop {
            if done(&events) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            events = self
                .shared
                .1
                .wait_timeout(events, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// A thread that panicked while holding the lock cannot have left a half-pushed `Vec`
    /// behind, so a poisoned lock is still good to use.
    fn lock(&self) -> MutexGuard<'_, Vec<Stamped<E>>> {
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Duration;

    #[test]
    fn wait_until_wakes_on_a_record_from_another_thread() {
        let journal = Journal::new();
        let writer = journal.clone();
        let t = thread::spawn(move || writer.record(7));
        let seen = journal.wait_until(Instant::now() + Duration::from_secs(5), |events| {
            events.iter().any(|e| e.event == 7)
        });
        t.join().unwrap();
        assert!(seen);
        assert_eq!(journal.snapshot().len(), 1);
    }

    #[test]
    fn wait_until_gives_up_at_the_deadline() {
        let journal: Journal<u8> = Journal::default();
        let start = Instant::now();
        assert!(!journal.wait_until(start + Duration::from_millis(20), |e| !e.is_empty()));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
