//! A gate a server thread waits at until the grader opens it: how a check holds a reply back for
//! as long as it needs to look at the client (its sockets, its descriptors) while it waits.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

/// Closed when made; once opened it stays open. Clones share one gate.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl PartialEq for Gate {
    fn eq(&self, other: &Gate) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Gate {}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    pub fn open(&self) {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.inner.1.notify_all();
    }

    pub fn is_open(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the gate is open, or the deadline; returns whether it is open.
    pub fn wait(&self, deadline: Instant) -> bool {
        let mut open = self.inner.0.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            open = self
                .inner
                .1
                .wait_timeout(open, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}
