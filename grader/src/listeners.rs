//! Listeners in the grader's own process, for checks that probe a port: one that accepts and
//! records how each connection ended (in order, by a reset, still open), one that never accepts
//! (connections wait in its backlog), and one whose backlog is full (the kernel drops every
//! further connection attempt, and a `connect` without a time limit waits for minutes).

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How a connection to a [`Watched`] listener ended, seen from the listener's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnEnd {
    Open,
    Orderly(Instant),
    Reset(Instant),
    SentData,
}

/// The connections accepted so far, and whether the listener is being dropped.
type Conns = (Mutex<(bool, Vec<ConnEnd>)>, Condvar);

/// A listener on 127.0.0.1. With `accept`, every connection is accepted and read (never
/// answered) until it ends; without, connections wait in the backlog.
pub struct Watched {
    /// Held for its lifetime: the port stays this process's.
    _listener: Arc<TcpListener>,
    pub port: u16,
    conns: Arc<Conns>,
}

impl Watched {
    pub fn start(accept: bool) -> io::Result<Watched> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let listener = Arc::new(listener);
        let conns: Arc<Conns> = Arc::default();
        if accept {
            let (listener, conns) = (Arc::clone(&listener), Arc::clone(&conns));
            thread::spawn(move || accept_loop(&listener, &conns));
        }
        Ok(Watched {
            _listener: listener,
            port,
            conns,
        })
    }

    /// How each accepted connection has ended so far.
    pub fn endings(&self) -> Vec<ConnEnd> {
        self.conns.0.lock().unwrap().1.clone()
    }

    /// Waits until at least `count` connections have been accepted and every one has ended (or
    /// the deadline).
    pub fn wait_ended(&self, count: usize, deadline: Instant) -> Vec<ConnEnd> {
        let (lock, changed) = &*self.conns;
        let mut state = lock.lock().unwrap();
        while state.1.len() < count || state.1.contains(&ConnEnd::Open) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = changed.wait_timeout(state, deadline - now).unwrap().0;
        }
        state.1.clone()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // Wake the accepting thread with a connection of our own, so that it sees the stop.
        self.conns.0.lock().unwrap().0 = true;
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn accept_loop(listener: &TcpListener, conns: &Arc<Conns>) {
    while let Ok((stream, _)) = listener.accept() {
        let mut state = conns.0.lock().unwrap();
        if state.0 {
            return;
        }
        let index = state.1.len();
        state.1.push(ConnEnd::Open);
        drop(state);
        conns.1.notify_all();
        let conns = Arc::clone(conns);
        thread::spawn(move || {
            let ending = watch(stream);
            conns.0.lock().unwrap().1[index] = ending;
            conns.1.notify_all();
        });
    }
}

/// Reads (and never writes) until the peer ends the connection; the kernel ends it at the latest
/// when the peer's process exits or is killed.
fn watch(mut stream: TcpStream) -> ConnEnd {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = [0u8; 256];
    match stream.read(&mut buf) {
        Ok(0) => ConnEnd::Orderly(Instant::now()),
        Ok(_) => ConnEnd::SentData,
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => ConnEnd::Reset(Instant::now()),
        Err(_) => ConnEnd::Open,
    }
}

/// A listener on 127.0.0.1 with a backlog of 0 that never accepts, and the one connection that
/// fills its queue. Linux queues backlog + 1 connections; once the queue is full it drops every
/// SYN, so a further `connect` gets no answer and, without a time limit, retries for about two
/// minutes before it fails.
pub struct FullBacklog {
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
    pub port: u16,
}

impl FullBacklog {
    pub fn start(deadline: Instant) -> Result<FullBacklog, String> {
        let open = || -> io::Result<(TcpListener, u16, u64)> {
            use std::os::fd::AsRawFd;
            let listener = TcpListener::bind("127.0.0.1:0")?;
            // listen(2) again on a listening socket sets its backlog anew.
            // SAFETY: a plain system call on a descriptor we own.
            if unsafe { libc::listen(listener.as_raw_fd(), 0) } != 0 {
                return Err(io::Error::last_os_error());
            }
            let port = listener.local_addr()?.port();
            let inode = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd()))?
                .to_string_lossy()
                .trim_start_matches("socket:[")
                .trim_end_matches(']')
                .parse()
                .map_err(io::Error::other)?;
            Ok((listener, port, inode))
        };
        let (listener, port, inode) =
            open().map_err(|e| format!("cannot listen on 127.0.0.1 with a backlog of 0: {e}"))?;
        let mut queued = Vec::new();
        // The kernel's table says when the queue is full: for a listener, `rx_queue` is how many
        // connections wait and `tx_queue` the backlog; full is one more than the backlog.
        loop {
            let row = support::proc_net::tcp_sockets()
                .map_err(|e| format!("cannot read /proc/net/tcp: {e}"))?
                .into_iter()
                .find(|e| e.inode == inode)
                .ok_or("the listener is not in /proc/net/tcp")?;
            if row.rx_queue > row.tx_queue {
                return Ok(FullBacklog {
                    _listener: listener,
                    _queued: queued,
                    port,
                });
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the backlog did not fill: {} connections wait, for a backlog of {}",
                    row.rx_queue, row.tx_queue
                ));
            }
            if queued.len() as u32 <= row.tx_queue {
                let left = deadline.saturating_duration_since(Instant::now());
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                let stream = TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1)))
                    .map_err(|e| format!("cannot fill the backlog: {e}"))?;
                queued.push(stream);
            } else {
                // The handshake of the last one is done on our side; the listener's side counts
                // it a moment later.
                thread::sleep(Duration::from_millis(5));
            }
        }
    }
}
