//! The stop signal a serving thread waits on.
//!
//! A thread blocked in `accept` or `recvfrom` does not look at flags: it sleeps in the kernel
//! until its socket becomes readable. So instead of blocking on the socket alone, a server thread
//! blocks in `poll(2)` on two descriptors: its socket and the reading end of a private socket
//! pair. [`Stop::request`] writes one byte into the pair, which makes that end readable, which
//! wakes every `poll` at once. Nobody ever reads the byte, so the end stays readable and a thread
//! that polls later wakes at once too.
//!
//! The same [`Stop`] also interrupts deliberate pauses ([`Stop::sleep`]), such as the pace of a
//! server that trickles bytes, so stopping never waits for a pause to run out.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// A one-way switch from "serving" to "stopping", shared by cloning.
#[derive(Clone)]
pub struct Stop {
    inner: Arc<Inner>,
}

struct Inner {
    requested: Mutex<bool>,
    changed: Condvar,
    wake_rx: UnixStream,
    wake_tx: UnixStream,
}

impl Stop {
    pub fn new() -> io::Result<Stop> {
        let (wake_rx, wake_tx) = UnixStream::pair()?;
        // The one byte must never block the thread that asks to stop.
        wake_tx.set_nonblocking(true)?;
        Ok(Stop {
            inner: Arc::new(Inner {
                requested: Mutex::new(false),
                changed: Condvar::new(),
                wake_rx,
                wake_tx,
            }),
        })
    }

    /// Flips the switch and wakes every thread waiting in [`Stop::wait_readable`] or
    /// [`Stop::sleep`]. Calling it again does nothing more.
    pub fn request(&self) {
        let mut requested = self.lock();
        if !*requested {
            *requested = true;
            // A failed write could only mean the buffer is full, i.e. already readable.
            let _ = (&self.inner.wake_tx).write(&[1]);
        }
        self.inner.changed.notify_all();
    }

    pub fn is_requested(&self) -> bool {
        *self.lock()
    }

    /// Pauses for `duration`, or less if a stop is requested meanwhile.
    /// Returns `true` when the pause ended because of a stop.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut requested = self.lock();
        loop {
            let now = Instant::now();
            if *requested || now >= deadline {
                return *requested;
            }
            requested = self
                .inner
                .changed
                .wait_timeout(requested, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Blocks until `socket` has something to read (`Ok(true)`: a datagram, a connection to
    /// accept, data, end of stream, or an error to collect) or a stop is requested (`Ok(false)`).
    pub fn wait_readable(&self, socket: &impl AsFd) -> io::Result<bool> {
        loop {
            let mut fds = [
                PollFd::new(socket.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.inner.wake_rx.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                // A signal handler ran in this thread: nothing happened, wait again.
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
            if fds[1].revents().is_some_and(|r| !r.is_empty()) || self.is_requested() {
                return Ok(false);
            }
            if fds[0].revents().is_some_and(|r| !r.is_empty()) {
                return Ok(true);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        self.inner
            .requested
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::thread;

    #[test]
    fn request_wakes_a_thread_waiting_on_a_quiet_socket() {
        let stop = Stop::new().unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let waiter = {
            let stop = stop.clone();
            thread::spawn(move || stop.wait_readable(&socket).unwrap())
        };
        stop.request();
        assert!(!waiter.join().unwrap());
        assert!(stop.is_requested());
    }

    #[test]
    fn a_readable_socket_is_reported() {
        let stop = Stop::new().unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.send_to(b"x", socket.local_addr().unwrap()).unwrap();
        assert!(stop.wait_readable(&socket).unwrap());
    }

    #[test]
    fn sleep_ends_early_on_request() {
        let stop = Stop::new().unwrap();
        let sleeper = {
            let stop = stop.clone();
            thread::spawn(move || stop.sleep(Duration::from_secs(60)))
        };
        stop.request();
        assert!(sleeper.join().unwrap());
    }
}
