//! The TCP line server: one reply line per request line; after the client half-closes, a few
//! farewell lines, then the server closes.
//!
//! TCP carries a *stream of bytes*, not messages: one `write` by the client may arrive in several
//! `read`s here, and several writes may arrive in one read. So the server collects bytes until it
//! sees a `'\n'`, and only then has a line. A `read` that returns 0 is not "no data yet": it means
//! the peer closed its sending side (a half-close with `shutdown(Write)`, or a full close). The
//! peer may still be reading, which is why the server can send its farewell lines after that.
//!
//! Each connection gets a thread of its own: simple, and a client that stalls blocks only its
//! own thread. [`TcpFault`]s make the server misbehave on purpose, each to catch one mistake.

use std::collections::HashMap;
use std::io::{self, Read, Write};
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
use crate::trace::{self, quoted};

/// How many connections the kernel may hold, fully open, before the server accepts them.
const BACKLOG: i32 = 1024;
/// How much one `read` asks for. Any size works: lines are cut at `'\n'`, not at reads.
const READ_BUFFER: usize = 16 * 1024;
/// How often [`Pace::PeerDrained`] looks at `/proc/net/tcp` again. The kernel has no event for
/// "the peer has read its data", so this one wait has to poll.
const DRAIN_POLL: Duration = Duration::from_micros(200);
/// How long to wait before accepting again after `accept` failed for want of resources (too
/// many open files, say), rather than failing again at once in a tight loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// A held reply is sent after this at the latest, so that a forgotten gate never hangs a server.
const HOLD_AT_MOST: Duration = Duration::from_secs(20);

/// One line to answer.
pub struct LineRequest<'a> {
    pub conn: u64,
    pub peer: SocketAddr,
    /// The line, without its `'\n'`.
    pub line: &'a [u8],
    /// 1-based count of lines on this connection, this one included.
    pub seq: u64,
}

/// The end of a conversation: the client half-closed after `lines_received` lines.
pub struct Farewell {
    pub conn: u64,
    pub peer: SocketAddr,
    pub lines_received: u64,
}

/// Computes the reply line (without `'\n'`) to one line.
pub type LineReplyFn = Arc<dyn Fn(&LineRequest<'_>) -> Vec<u8> + Send + Sync>;
/// Computes the lines (without `'\n'`) sent after the peer's end of stream.
pub type FarewellFn = Arc<dyn Fn(&Farewell) -> Vec<Vec<u8>> + Send + Sync>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Pause this long after every byte.
    Every(Duration),
    /// After every byte, wait until the peer's socket has no unread bytes (its rx_queue in
    /// /proc/net/tcp or tcp6, found by local = peer addr, remote = our addr, is 0), at most this
    /// long, then go on anyway. Makes every read of the peer return exactly one byte when it
    /// keeps up. (The queue is asked for over netlink `sock_diag`, which gives the same number
    /// as `/proc/net/tcp` without walking the whole table; `/proc` is the fallback.)
    PeerDrained { at_most: Duration },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpFault {
    /// Send every reply and farewell one byte per write (TCP_NODELAY on), paced. Catches "one
    /// read is one message".
    Trickle(Pace),
    /// On the first line of a connection, close it without replying (orderly close, no
    /// farewell).
    CloseBeforeReply,
    /// Before replying to line `seq` of a connection, journal [`TcpEvent::Holding`] and wait
    /// until the gate is open (at most [`HOLD_AT_MOST`]). The client is then known to be waiting
    /// for that reply, for as long as the grader needs to look at it from outside (its sockets,
    /// its descriptors). Lines that arrive meanwhile wait in the socket's buffer.
    Hold { seq: u64, gate: Gate },
}

#[derive(Clone)]
pub struct TcpOptions {
    pub replies: LineReplyFn,
    pub farewell: FarewellFn,
    pub faults: Vec<TcpFault>,
    /// The longest line kept, in bytes without the `'\n'`. A longer one gets an error line.
    pub max_line: usize,
    /// Log every line received and sent on standard error.
    pub trace: bool,
}

impl TcpOptions {
    /// The program's default behaviour: each reply is the line with ASCII letters in capitals,
    /// after `TAG ` when a tag is given; the farewell is `received N lines` and `bye`.
    pub fn uppercase(tag: Option<String>) -> Self {
        let prefix = tag
            .map(|t| format!("{t} ").into_bytes())
            .unwrap_or_default();
        TcpOptions {
            replies: Arc::new(move |request| {
                let mut reply = prefix.clone();
                reply.extend(request.line.to_ascii_uppercase());
                reply
            }),
            farewell: Arc::new(|farewell| {
                let n = farewell.lines_received;
                let noun = if n == 1 { "line" } else { "lines" };
                vec![format!("received {n} {noun}").into_bytes(), b"bye".to_vec()]
            }),
            faults: Vec::new(),
            max_line: 65536,
            trace: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpEvent {
    Accepted {
        conn: u64,
        peer: SocketAddr,
    },
    Received {
        conn: u64,
        line: Vec<u8>,
    },
    /// A line over `max_line`: replied "error: line longer than N bytes", discarded up to the
    /// next `'\n'`.
    Oversized {
        conn: u64,
    },
    /// One record per reply line or farewell line, with its `'\n'`, however it was written;
    /// journaled before the first byte is written, so whatever a client prints is already here.
    Sent {
        conn: u64,
        bytes: Vec<u8>,
    },
    /// The reply to line `seq` is held at a gate ([`TcpFault::Hold`]): the client waits for it.
    Holding {
        conn: u64,
        seq: u64,
    },
    /// `read` returned 0: orderly end of stream from the client.
    PeerHalfClosed {
        conn: u64,
    },
    /// `ECONNRESET` (or another read or write error): the client is forgotten.
    PeerReset {
        conn: u64,
    },
    /// The server closed its socket for this connection (always the last event of a conn).
    Closed {
        conn: u64,
    },
}

/// A listening TCP line server, ready to serve on this thread ([`TcpLineServer::serve`]) or
/// another ([`TcpLineServer::spawn`]).
pub struct TcpLineServer {
    listener: TcpListener,
    options: TcpOptions,
    journal: Journal<TcpEvent>,
}

impl TcpLineServer {
    /// Creates the listening socket step by step, as a C program would: `socket`, `setsockopt`,
    /// `bind`, `listen`.
    pub fn bind(addr: SocketAddr, options: TcpOptions) -> io::Result<TcpLineServer> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        // Without SO_REUSEADDR, a restarted server could not bind its port again while the old
        // connections linger in TIME-WAIT.
        socket.set_reuse_address(true)?;
        if addr.is_ipv6() {
            // `::1` means IPv6 only; otherwise `::` would also take IPv4 connections, which
            // show up as odd `::ffff:127.0.0.1` addresses.
            socket.set_only_v6(true)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        Ok(TcpLineServer {
            listener: socket.into(),
            options,
            journal: Journal::new(),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn journal(&self) -> Journal<TcpEvent> {
        self.journal.clone()
    }

    /// Serves on a new thread until the returned [`Running`] is stopped or dropped.
    pub fn spawn(self) -> io::Result<Running<TcpEvent>> {
        let addr = self.local_addr()?;
        let journal = self.journal();
        let shared = Arc::new(Shared::new(&self.options)?);
        let thread = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("tcp-server {addr}"))
                .spawn(move || {
                    if let Err(e) = self.serve_until(shared) {
                        trace::info(format_args!("tcp-server: stopped serving: {e}"));
                    }
                })?
        };
        Ok(Running::new(addr, journal, move || shared.stop(), thread))
    }

    /// Serves on this thread for as long as the process runs (the programs end it with a
    /// signal, see [`crate::signals`]).
    pub fn serve(self) -> io::Result<()> {
        let shared = Arc::new(Shared::new(&self.options)?);
        self.serve_until(shared)
    }

    /// The accept loop. Returns once a stop is requested (or waiting itself fails) and every
    /// connection thread is done.
    fn serve_until(self, shared: Arc<Shared>) -> io::Result<()> {
        let options = Arc::new(self.options);
        let mut next_conn = 1;
        let mut workers: Vec<JoinHandle<()>> = Vec::new();
        // Non-blocking, because the listener is only used once poll(2) says a connection is
        // waiting; a blocking accept could still hang if that connection was reset meanwhile.
        self.listener.set_nonblocking(true)?;
        let outcome = loop {
            match shared.stop.wait_readable(&self.listener) {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => {
                    // Connections already open are still served to their end.
                    break Err(e);
                }
            }
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if is_transient(&e) => continue,
                Err(e) => {
                    trace::info(format_args!("tcp-server: accept failed: {e}"));
                    shared.stop.sleep(ACCEPT_BACKOFF);
                    continue;
                }
            };
            let conn = next_conn;
            next_conn += 1;
            workers.retain(|w| !w.is_finished());
            self.journal.record(TcpEvent::Accepted { conn, peer });
            trace::info(format_args!("conn {conn}: accepted from {peer}"));
            let connection = Connection {
                conn,
                peer,
                stream,
                options: Arc::clone(&options),
                journal: self.journal.clone(),
                shared: Arc::clone(&shared),
                lines_received: 0,
            };
            match connection.start() {
                Ok(worker) => workers.push(worker),
                Err(e) => trace::info(format_args!("conn {conn}: cannot serve: {e}")),
            }
        };
        for worker in workers {
            // Err only if the thread panicked; it has ended either way.
            let _ = worker.join();
        }
        outcome
    }
}

/// Accept errors that concern one connection, not the listener: try the next one at once.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
    )
}

/// What the accept loop and the connection threads share: the stop switch, and a second handle
/// on every open connection so that stopping can wake threads blocked in `read` or `write`.
struct Shared {
    stop: Stop,
    open: Mutex<HashMap<u64, TcpStream>>,
    /// The gates of [`TcpFault::Hold`], opened when stopping so that no thread waits on.
    gates: Vec<Gate>,
}

impl Shared {
    fn new(options: &TcpOptions) -> io::Result<Shared> {
        let gates = options
            .faults
            .iter()
            .filter_map(|f| match f {
                TcpFault::Hold { gate, .. } => Some(gate.clone()),
                _ => None,
            })
            .collect();
        Ok(Shared {
            stop: Stop::new()?,
            open: Mutex::new(HashMap::new()),
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
    /// switch is checked under the same lock that [`Shared::stop`] takes after flipping it, so a
    /// connection is either registered in time to be shut down, or refused.
    fn register(&self, conn: u64, stream: &TcpStream) -> io::Result<bool> {
        let mut open = self.lock();
        if self.stop.is_requested() {
            return Ok(false);
        }
        open.insert(conn, stream.try_clone()?);
        Ok(true)
    }

    /// Drops the second handle. Must happen before the connection's own handle is dropped: the
    /// kernel closes a socket (sends FIN, or RST) only when its *last* descriptor is closed.
    fn forget(&self, conn: u64) {
        self.lock().remove(&conn);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a conversation ended early.
enum Cut {
    /// The server is stopping.
    Stopping,
    /// A read or write failed; the client is gone.
    Reset,
    /// [`TcpFault::CloseBeforeReply`].
    CloseEarly,
}

/// One accepted connection, served by a thread of its own.
struct Connection {
    conn: u64,
    peer: SocketAddr,
    stream: TcpStream,
    options: Arc<TcpOptions>,
    journal: Journal<TcpEvent>,
    shared: Arc<Shared>,
    lines_received: u64,
}

impl Connection {
    fn start(self) -> io::Result<JoinHandle<()>> {
        let conn = self.conn;
        let journal = self.journal.clone();
        let shared = Arc::clone(&self.shared);
        let started = self.prepare().and_then(|registered| {
            if !registered {
                return Err(io::Error::other("the server is stopping"));
            }
            thread::Builder::new()
                .name(format!("tcp conn {conn}"))
                .spawn(move || self.run())
        });
        if started.is_err() {
            // `self` (and with it the socket) is gone by now; say so.
            shared.forget(conn);
            journal.record(TcpEvent::Closed { conn });
        }
        started
    }

    fn prepare(&self) -> io::Result<bool> {
        // Linux does not pass O_NONBLOCK from the listener to accepted sockets, but say it.
        self.stream.set_nonblocking(false)?;
        if self.pace().is_some() {
            // Without TCP_NODELAY, Nagle's algorithm would hold back each small write until the
            // previous one is acknowledged, and glue bytes back together.
            self.stream.set_nodelay(true)?;
        }
        self.shared.register(self.conn, &self.stream)
    }

    fn run(mut self) {
        match self.converse() {
            Ok(()) => {}
            Err(Cut::CloseEarly) => self.close_early(),
            Err(Cut::Stopping | Cut::Reset) => {}
        }
        let Connection {
            conn,
            stream,
            journal,
            shared,
            ..
        } = self;
        shared.forget(conn);
        drop(stream);
        journal.record(TcpEvent::Closed { conn });
        trace::info(format_args!("conn {conn}: closed"));
    }

    /// Reads lines and answers them until the client's end of stream, then says farewell.
    fn converse(&mut self) -> Result<(), Cut> {
        let max_line = self.options.max_line;
        let mut buf = vec![0u8; READ_BUFFER];
        // Bytes received after the last '\n': the start of a line still arriving.
        let mut pending: Vec<u8> = Vec::new();
        // True after an oversized line, until its '\n' comes by.
        let mut discarding = false;
        loop {
            let n = match self.stream.read(&mut buf) {
                // 0 means the peer closed its sending side: no more lines will come.
                Ok(0) if self.stopping() => return Err(Cut::Stopping),
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.failed("read", &e)),
            };
            pending.extend_from_slice(&buf[..n]);
            let mut start = 0;
            while let Some(len) = pending[start..].iter().position(|&b| b == b'\n') {
                let line = &pending[start..start + len];
                if discarding {
                    discarding = false;
                } else {
                    self.on_line(line)?;
                }
                start += len + 1;
            }
            pending.drain(..start);
            if discarding {
                pending.clear();
            } else if pending.len() > max_line {
                // No '\n' in sight and already too long: answer now rather than buffer without
                // end, and skip the rest of this line as it comes.
                self.oversized()?;
                discarding = true;
                pending.clear();
            }
        }
        self.journal
            .record(TcpEvent::PeerHalfClosed { conn: self.conn });
        trace::info(format_args!("conn {}: peer half-closed", self.conn));
        // A last line without '\n' before the end of stream is still a line.
        if !pending.is_empty() && !discarding {
            self.on_line(&pending)?;
        }
        let farewell = (self.options.farewell)(&Farewell {
            conn: self.conn,
            peer: self.peer,
            lines_received: self.lines_received,
        });
        for line in farewell {
            self.send_line(line)?;
        }
        Ok(())
    }

    fn on_line(&mut self, line: &[u8]) -> Result<(), Cut> {
        if line.len() > self.options.max_line {
            return self.oversized();
        }
        self.lines_received += 1;
        if self.options.trace {
            trace::trace(format_args!("conn {} <- {}", self.conn, quoted(line)));
        }
        self.journal.record(TcpEvent::Received {
            conn: self.conn,
            line: line.to_vec(),
        });
        if self.lines_received == 1 && self.options.faults.contains(&TcpFault::CloseBeforeReply) {
            return Err(Cut::CloseEarly);
        }
        self.hold(self.lines_received)?;
        let reply = (self.options.replies)(&LineRequest {
            conn: self.conn,
            peer: self.peer,
            line,
            seq: self.lines_received,
        });
        self.send_line(reply)
    }

    /// [`TcpFault::Hold`]: waits at the gate of line `seq`, if it has one.
    fn hold(&self, seq: u64) -> Result<(), Cut> {
        let gate = self.options.faults.iter().find_map(|f| match f {
            TcpFault::Hold { seq: at, gate } if *at == seq => Some(gate.clone()),
            _ => None,
        });
        let Some(gate) = gate else {
            return Ok(());
        };
        self.journal.record(TcpEvent::Holding {
            conn: self.conn,
            seq,
        });
        trace::info(format_args!(
            "conn {}: holding the reply to line {seq} (fault)",
            self.conn
        ));
        gate.wait(Instant::now() + HOLD_AT_MOST);
        if self.stopping() {
            return Err(Cut::Stopping);
        }
        Ok(())
    }

    fn oversized(&mut self) -> Result<(), Cut> {
        self.journal.record(TcpEvent::Oversized { conn: self.conn });
        let message = format!("error: line longer than {} bytes", self.options.max_line);
        self.send_line(message.into_bytes())
    }

    /// Sends one line and its '\n', all at once or trickled. It is journaled before the first
    /// byte is written: a client can read a line, print it and exit, and the grader read the
    /// journal, before the write has returned here. So `Sent` means "the server sent, or began
    /// to send, these bytes"; a write that fails is followed by a `PeerReset`.
    fn send_line(&mut self, mut line: Vec<u8>) -> Result<(), Cut> {
        line.push(b'\n');
        if self.options.trace {
            trace::trace(format_args!("conn {} -> {}", self.conn, quoted(&line)));
        }
        self.journal.record(TcpEvent::Sent {
            conn: self.conn,
            bytes: line.clone(),
        });
        let written = match self.pace() {
            None => self.stream.write_all(&line),
            Some(pace) => self.trickle(&line, &pace)?,
        };
        if let Err(e) = written {
            return Err(self.failed("write", &e));
        }
        Ok(())
    }

    /// One `write` per byte, each followed by the pause of `pace`.
    fn trickle(&mut self, bytes: &[u8], pace: &Pace) -> Result<io::Result<()>, Cut> {
        for byte in bytes {
            if let Err(e) = self.stream.write_all(std::slice::from_ref(byte)) {
                return Ok(Err(e));
            }
            let stopped = match pace {
                Pace::Every(pause) => self.shared.stop.sleep(*pause),
                Pace::PeerDrained { at_most } => self.wait_until_drained(*at_most),
            };
            if stopped {
                return Err(Cut::Stopping);
            }
        }
        Ok(Ok(()))
    }

    /// Waits until the client has read everything sent so far, or `at_most`. Returns `true` when
    /// the wait ended because the server is stopping.
    ///
    /// Both ends of a connection on this machine are known to the kernel. The client's socket
    /// (local = its address, remote = ours) has an `rx_queue`: bytes that arrived and were not
    /// read yet (`Recv-Q` in `ss`). On loopback, a byte has arrived by the time `write` returns
    /// (the kernel delivers it to the other socket inside the call), so an `rx_queue` of 0 means
    /// the client has read it. The queue is asked for over netlink ([`crate::sock_diag`]), or
    /// read from `/proc/net/tcp` where netlink is not available.
    fn wait_until_drained(&self, at_most: Duration) -> bool {
        let deadline = Instant::now() + at_most;
        let Ok(ours) = self.stream.local_addr() else {
            return self.stopping();
        };
        let diag = SockDiag::new().ok();
        loop {
            let Ok(drained) = self.peer_drained(diag.as_ref(), ours) else {
                return self.stopping();
            };
            if drained || Instant::now() >= deadline {
                return false;
            }
            // The kernel has no event for "the peer has read its data", so this wait polls.
            if self.shared.stop.sleep(DRAIN_POLL) {
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

    /// [`TcpFault::CloseBeforeReply`]: an orderly close. `shutdown(Write)` sends FIN at once;
    /// then the server reads and discards until the client closes too. Closing with unread
    /// bytes in the receive buffer would make the kernel send RST instead of FIN, and the client
    /// would see "connection reset" rather than a clean end of stream.
    fn close_early(&mut self) {
        trace::info(format_args!(
            "conn {}: closing before replying (fault)",
            self.conn
        ));
        if self.stream.shutdown(Shutdown::Write).is_err() {
            return;
        }
        let mut buf = vec![0u8; READ_BUFFER];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) if self.stopping() => return,
                Ok(0) => {
                    self.journal
                        .record(TcpEvent::PeerHalfClosed { conn: self.conn });
                    return;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.failed("read", &e);
                    return;
                }
            }
        }
    }

    /// Journals a failed read or write as a reset, unless it failed because the server itself
    /// shut the socket down to stop.
    fn failed(&self, what: &str, e: &io::Error) -> Cut {
        if self.stopping() {
            return Cut::Stopping;
        }
        trace::info(format_args!("conn {}: {what} failed: {e}", self.conn));
        self.journal.record(TcpEvent::PeerReset { conn: self.conn });
        Cut::Reset
    }

    fn stopping(&self) -> bool {
        self.shared.stop.is_requested()
    }

    fn pace(&self) -> Option<Pace> {
        self.options.faults.iter().find_map(|f| match f {
            TcpFault::Trickle(pace) => Some(pace.clone()),
            TcpFault::CloseBeforeReply | TcpFault::Hold { .. } => None,
        })
    }
}
