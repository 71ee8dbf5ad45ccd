//! A meeting point for a check's client threads, with a deadline: "wait until all of us have got
//! this far". It proves concurrency: when every client must have its first answer before any
//! goes on, a program that serves one client at a time never lets them all meet.

use std::sync::{Condvar, Mutex};
use std::time::Instant;

/// Threads arrive and wait for the others; one that gives up releases everyone.
#[derive(Default)]
pub struct Meeting {
    /// How many have arrived, and whether someone gave up.
    arrived: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Meeting {
    /// Arrives, and waits until `all` have; `false` at the deadline, or once someone gave up.
    pub fn arrive_and_wait(&self, all: usize, deadline: Instant) -> bool {
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

    /// Someone will never arrive: nobody waits any longer.
    pub fn give_up(&self) {
        let mut state = self.arrived.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = true;
        self.changed.notify_all();
    }

    /// How many have arrived so far.
    pub fn count(&self) -> usize {
        self.arrived.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}
