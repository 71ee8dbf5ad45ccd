//! What the TCP servers with a thread per connection share ([`crate::tcp_server`] and
//! [`crate::framed_server`]): the listening socket, the accept loop, a thread per connection, the
//! journal of each connection's life (accepted, half-closed, reset, closed), and stopping. Each
//! server keeps only its protocol and its faults, in a [`Service`].
//!
//! Stopping has to reach threads that block in the kernel: the accept loop waits in `poll(2)`
//! next to the [`Stop`] switch, and every open connection has a second handle here, which
//! stopping shuts down so that a thread blocked in `read` or `write` on it wakes up.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::gate::Gate;
use crate::journal::Journal;
use crate::proc_net;
use crate::running::Running;
use crate::sock_diag::SockDiag;
use crate::stop::Stop;
use crate::trace;

/// How many connections the kernel may hold, fully open, before the server accepts them.
const BACKLOG: i32 = 1024;
/// How long to wait before accepting again after `accept` failed for want of resources (too
/// many open files, say), rather than failing again at once in a tight loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How often [`Conn::wait_until_drained`] asks the kernel again: there is no event for "the
/// peer has read its data", so this one wait has to poll.
const DRAIN_POLL: Duration = Duration::from_micros(200);
/// How much one `read` asks for while discarding. Any size works.
const READ_BUFFER: usize = 16 * 1024;
/// A held reply is sent after this at the latest, so that a forgotten gate never hangs a server.
const HOLD_AT_MOST: Duration = Duration::from_secs(20);

/// The events of a connection's life that every server journals, whatever its protocol.
pub(crate) trait ConnEvent: Clone + Send + 'static {
    fn accepted(conn: u64, peer: SocketAddr) -> Self;
    /// `read` returned 0: the client's orderly end of stream.
    fn peer_half_closed(conn: u64) -> Self;
    /// A read or write failed (usually `ECONNRESET`): the client is forgotten.
    fn peer_reset(conn: u64) -> Self;
    /// The server closed its socket: always the last event of a connection.
    fn closed(conn: u64) -> Self;
}

/// One server's protocol and faults: what it does with a connection once accepted.
pub(crate) trait Service: Send + Sync + 'static {
    type Event: ConnEvent;
    /// The server's name, in thread names and logs: `tcp-server`.
    const NAME: &'static str;
    /// The gates of the service's hold faults: opened when stopping, so that no thread waits on.
    fn gates(&self) -> Vec<Gate>;
    /// Sets up an accepted socket for this service (`TCP_NODELAY`, say).
    fn prepare(&self, stream: &TcpStream) -> io::Result<()>;
    /// Serves one connection until its conversation ends, however it ends. The socket is closed
    /// and [`ConnEvent::closed`] journaled afterwards, by the caller.
    fn converse(&self, conn: &mut Conn<Self::Event>);
}

/// Why a conversation ended before its natural end.
pub(crate) enum Cut {
    /// The server is stopping.
    Stopping,
    /// A read or write failed; the client is gone.
    Reset,
    /// A fault ended it on purpose: the server's (it broke the stream) or the client's (it
    /// broke a frame).
    Done,
}

/// Creates the listening socket step by step, as a C program would: `socket`, `setsockopt`,
/// `bind`, `listen`.
pub(crate) fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    listen_v6only(addr, true)
}

/// One listener for both families: `[::]:port` with `IPV6_V6ONLY` off, so IPv4 clients arrive
/// too, as IPv4-mapped addresses (`::ffff:127.0.0.1`).
pub(crate) fn listen_dual_stack(port: u16) -> io::Result<TcpListener> {
    listen_v6only(crate::dual_stack::any(port), false)
}

/// `only_v6` matters for an IPv6 address only.
fn listen_v6only(addr: SocketAddr, only_v6: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Without SO_REUSEADDR, a restarted server could not bind its port again while the old
    // connections linger in TIME-WAIT.
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        // `::1` means IPv6 only; otherwise `::` would also take IPv4 connections, which show up
        // as odd `::ffff:127.0.0.1` addresses. Only `--dual-stack` asks for that, on purpose.
        socket.set_only_v6(only_v6)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Serves on a new thread until the returned [`Running`] is stopped or dropped.
pub(crate) fn spawn<S: Service>(
    listener: TcpListener,
    journal: Journal<S::Event>,
    service: S,
) -> io::Result<Running<S::Event>> {
    let addr = listener.local_addr()?;
    let open = Arc::new(OpenConnections::new(service.gates())?);
    let thread = {
        let (open, journal) = (Arc::clone(&open), journal.clone());
        thread::Builder::new()
            .name(format!("{} {addr}", S::NAME))
            .spawn(move || {
                if let Err(e) = accept_loop(listener, journal, service, open) {
                    trace::info(format_args!("{}: stopped serving: {e}", S::NAME));
                }
            })?
    };
    Ok(Running::new(addr, journal, move || open.stop(), thread))
}

/// Serves on this thread for as long as the process runs (the programs end it with a signal,
/// see [`crate::signals`]).
pub(crate) fn serve<S: Service>(
    listener: TcpListener,
    journal: Journal<S::Event>,
    service: S,
) -> io::Result<()> {
    let open = Arc::new(OpenConnections::new(service.gates())?);
    accept_loop(listener, journal, service, open)
}

/// Returns once a stop is requested (or waiting itself fails) and every connection thread is
/// done.
fn accept_loop<S: Service>(
    listener: TcpListener,
    journal: Journal<S::Event>,
    service: S,
    open: Arc<OpenConnections>,
) -> io::Result<()> {
    let service = Arc::new(service);
    let mut next_conn = 1;
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    // Non-blocking, because the listener is only used once poll(2) says a connection is
    // waiting; a blocking accept could still hang if that connection was reset meanwhile.
    listener.set_nonblocking(true)?;
    let outcome = loop {
        match open.stop.wait_readable(&listener) {
            Ok(true) => {}
            Ok(false) => break Ok(()),
            // Connections already open are still served to their end.
            Err(e) => break Err(e),
        }
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if is_transient(&e) => continue,
            Err(e) => {
                trace::info(format_args!("{}: accept failed: {e}", S::NAME));
                open.stop.sleep(ACCEPT_BACKOFF);
                continue;
            }
        };
        let id = next_conn;
        next_conn += 1;
        workers.retain(|w| !w.is_finished());
        journal.record(S::Event::accepted(id, peer));
        trace::info(format_args!("conn {id}: accepted from {peer}"));
        let conn = Conn {
            id,
            peer,
            stream,
            journal: journal.clone(),
            open: Arc::clone(&open),
        };
        match start(&service, conn) {
            Ok(worker) => workers.push(worker),
            Err(e) => trace::info(format_args!("conn {id}: cannot serve: {e}")),
        }
    };
    for worker in workers {
        // Err only if the thread panicked; it has ended either way.
        let _ = worker.join();
    }
    outcome
}

/// Accept errors that concern one connection, not the listener: try the next one at once.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
    )
}

/// Prepares the connection and gives it a thread of its own; when that fails, closes it and
/// says so in the journal.
fn start<S: Service>(service: &Arc<S>, conn: Conn<S::Event>) -> io::Result<JoinHandle<()>> {
    let (id, journal, open) = (conn.id, conn.journal.clone(), Arc::clone(&conn.open));
    let prepared = conn
        // Linux does not pass O_NONBLOCK from the listener to accepted sockets, but say it.
        .stream
        .set_nonblocking(false)
        .and_then(|()| service.prepare(&conn.stream))
        .and_then(|()| open.register(id, &conn.stream));
    let started = prepared.and_then(|registered| {
        if !registered {
            return Err(io::Error::other("the server is stopping"));
        }
        let service = Arc::clone(service);
        thread::Builder::new()
            .name(format!("{} conn {id}", S::NAME))
            .spawn(move || {
                let mut conn = conn;
                service.converse(&mut conn);
                conn.close();
            })
    });
    if started.is_err() {
        // The connection (and with it the socket) is gone by now; say so.
        open.forget(id);
        journal.record(S::Event::closed(id));
    }
    started
}

/// The stop switch, a second handle on every open connection so that stopping can wake threads
/// blocked in `read` or `write`, and the gates to open when stopping.
struct OpenConnections {
    stop: Stop,
    streams: Mutex<HashMap<u64, TcpStream>>,
    gates: Vec<Gate>,
}

impl OpenConnections {
    fn new(gates: Vec<Gate>) -> io::Result<OpenConnections> {
        Ok(OpenConnections {
            stop: Stop::new()?,
            streams: Mutex::new(HashMap::new()),
            gates,
        })
    }

    /// Flips the switch, opens the gates, then shuts every open connection down.
    /// `shutdown(Both)` wakes a thread blocked in `read` (which returns 0) or in `write` (which
    /// fails with `EPIPE`), even when the client never reads.
    fn stop(&self) {
        self.stop.request();
        for gate in &self.gates {
            gate.open();
        }
        for stream in self.lock().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Keeps a second handle on a connection. Returns `false` when stopping has begun: the
    /// switch is checked under the same lock that [`OpenConnections::stop`] takes after flipping
    /// it, so a connection is either registered in time to be shut down, or refused.
    fn register(&self, conn: u64, stream: &TcpStream) -> io::Result<bool> {
        let mut streams = self.lock();
        if self.stop.is_requested() {
            return Ok(false);
        }
        streams.insert(conn, stream.try_clone()?);
        Ok(true)
    }

    /// Drops the second handle. Must happen before the connection's own handle is dropped: the
    /// kernel closes a socket (sends FIN, or RST) only when its *last* descriptor is closed.
    fn forget(&self, conn: u64) {
        self.lock().remove(&conn);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One accepted connection, as its service sees it.
pub(crate) struct Conn<E> {
    /// 1-based count of connections accepted by this server, this one included.
    pub(crate) id: u64,
    pub(crate) peer: SocketAddr,
    pub(crate) stream: TcpStream,
    journal: Journal<E>,
    open: Arc<OpenConnections>,
}

impl<E: ConnEvent> Conn<E> {
    pub(crate) fn record(&self, event: E) {
        self.journal.record(event);
    }

    pub(crate) fn stopping(&self) -> bool {
        self.open.stop.is_requested()
    }

    /// Pauses for `pause`, or less if the server stops meanwhile; returns `true` when it stops.
    pub(crate) fn sleep(&self, pause: Duration) -> bool {
        self.open.stop.sleep(pause)
    }

    /// A hold fault on message `seq`: journals `holding` (the grader waits for it), then waits until the gate is
    /// open, or [`HOLD_AT_MOST`]. The client is known to be waiting for the reply meanwhile, for
    /// as long as the grader needs to look at it from outside (its sockets, its descriptors).
    pub(crate) fn hold(&self, gate: &Gate, seq: u64, holding: E) -> Result<(), Cut> {
        self.record(holding);
        trace::info(format_args!(
            "conn {}: holding the reply to message {seq} (fault)",
            self.id
        ));
        gate.wait(Instant::now() + HOLD_AT_MOST);
        if self.stopping() {
            return Err(Cut::Stopping);
        }
        Ok(())
    }

    /// Journals the client's end of stream.
    pub(crate) fn peer_half_closed(&self) {
        self.record(E::peer_half_closed(self.id));
        trace::info(format_args!("conn {}: peer half-closed", self.id));
    }

    /// Journals a failed read or write as a reset, unless it failed because the server itself
    /// shut the socket down to stop.
    pub(crate) fn failed(&self, what: &str, e: &io::Error) -> Cut {
        if self.stopping() {
            return Cut::Stopping;
        }
        trace::info(format_args!("conn {}: {what} failed: {e}", self.id));
        self.record(E::peer_reset(self.id));
        Cut::Reset
    }

    /// Reads and discards until the client's end of stream (`Ok`), for a server that is done
    /// talking but must not close yet: closing with unread bytes in the receive buffer makes
    /// the kernel send RST instead of FIN, and the client would see "connection reset" rather
    /// than the clean end the fault is about.
    pub(crate) fn discard_until_end(&mut self) -> Result<(), Cut> {
        let mut buf = vec![0u8; READ_BUFFER];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) if self.stopping() => return Err(Cut::Stopping),
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.failed("read", &e)),
            }
        }
    }

    /// Waits until the client has read everything sent so far, or `at_most`. Returns `true` when
    /// the wait ended because the server is stopping.
    ///
    /// Both ends of a connection on this machine are known to the kernel. The client's socket
    /// (local = its address, remote = ours) has an `rx_queue`: bytes that arrived and were not
    /// read yet (`Recv-Q` in `ss`). On loopback, a byte has arrived by the time `write` returns
    /// (the kernel delivers it to the other socket inside the call), so an `rx_queue` of 0 means
    /// the client has read it. The queue is asked for over netlink (`diag`, see
    /// [`crate::sock_diag`]), or read from `/proc/net/tcp` where netlink is not available.
    pub(crate) fn wait_until_drained(&self, diag: Option<&SockDiag>, at_most: Duration) -> bool {
        let deadline = Instant::now() + at_most;
        let Ok(ours) = self.stream.local_addr() else {
            return self.stopping();
        };
        loop {
            let Ok(drained) = self.peer_drained(diag, ours) else {
                return self.stopping();
            };
            if drained || Instant::now() >= deadline {
                return self.stopping();
            }
            if self.sleep(DRAIN_POLL) {
                return true;
            }
        }
    }

    fn peer_drained(&self, diag: Option<&SockDiag>, ours: SocketAddr) -> io::Result<bool> {
        let (theirs, mine) = match diag {
            Some(diag) => (
                diag.lookup(self.peer, ours)?.map(|q| q.rx_queue),
                diag.lookup(ours, self.peer)?.map(|q| q.tx_queue),
            ),
            None => {
                let entries = proc_net::tcp_sockets()?;
                (
                    proc_net::find(&entries, self.peer, ours).map(|e| e.rx_queue),
                    proc_net::find(&entries, ours, self.peer).map(|e| e.tx_queue),
                )
            }
        };
        Ok(match theirs {
            Some(unread) => unread == 0,
            // The client is in another network namespace (or on another machine): its queue
            // cannot be seen, so the acknowledgement of our bytes is the best sign there is.
            None => mine.is_none_or(|unacked| unacked == 0),
        })
    }

    /// Closes the socket for good and journals it. The second handle goes first: the kernel
    /// closes a socket (FIN) only when its last descriptor is closed.
    fn close(self) {
        let Conn {
            id,
            stream,
            journal,
            open,
            ..
        } = self;
        open.forget(id);
        drop(stream);
        journal.record(E::closed(id));
        trace::info(format_args!("conn {id}: closed"));
    }
}
