//! A server running on its own thread.
//!
//! [`Running`] owns that thread. Dropping it (or calling [`Running::stop`]) asks the server to
//! stop, then joins the thread, so a test that fails half-way never leaves a server behind.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use crate::journal::Journal;

/// A server serving on a thread of its own; stopped and joined on drop.
pub struct Running<E> {
    addr: SocketAddr,
    journal: Journal<E>,
    /// Asks the server to stop: flips its [`crate::stop::Stop`] and wakes whatever it blocks on.
    stop: Option<Box<dyn FnOnce() + Send>>,
    thread: Option<JoinHandle<()>>,
}

impl<E> Running<E> {
    /// Wraps a serving thread. `stop` must make that thread return promptly, and the thread
    /// must join any threads of its own before it returns.
    pub fn new(
        addr: SocketAddr,
        journal: Journal<E>,
        stop: impl FnOnce() + Send + 'static,
        thread: JoinHandle<()>,
    ) -> Self {
        Running {
            addr,
            journal,
            stop: Some(Box::new(stop)),
            thread: Some(thread),
        }
    }
}

impl<E: Clone> Running<E> {
    /// The address the server is bound to, with its real port.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn journal(&self) -> &Journal<E> {
        &self.journal
    }

    /// Stops the server and waits for its threads to end. Same as dropping it.
    pub fn stop(self) {
        drop(self);
    }
}

impl<E> Drop for Running<E> {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
        if let Some(thread) = self.thread.take() {
            // An error here means the thread panicked; there is nothing left to clean up, and
            // panicking again inside `drop` would abort the whole process.
            let _ = thread.join();
        }
    }
}
