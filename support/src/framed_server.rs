//! The framed server: one reply frame per request frame (4-byte big-endian length, then the
//! payload, see [`crate::framed`]); after the client half-closes, a few farewell frames, then it
//! closes.
//!
//! [`FrameFault`]s break the stream on purpose, each to catch one mistake of a client: bytes one
//! at a time, writes sliced at random, frames glued into one write, a frame of megabytes, a
//! connection closed inside a frame, a length over the limit. Each connection has a thread.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::framed::{self, Frame, MAX_FRAME, Rng};
use crate::gate::Gate;
use crate::journal::Journal;
use crate::running::Running;
use crate::sock_diag::SockDiag;
use crate::stop::Stop;
use crate::trace::{self, quoted};

/// How long a paced write waits at most for the client to read what it got, before going on.
const DRAIN_AT_MOST: Duration = Duration::from_millis(50);
/// How often a paced write asks the kernel again: there is no event for "the peer has read".
const DRAIN_POLL: Duration = Duration::from_micros(200);
/// A held reply is sent after this at the latest, so that a forgotten gate never hangs a server.
const HOLD_AT_MOST: Duration = Duration::from_secs(20);
/// The length [`FrameFault::OverLimit`] announces: 2 GiB - 1, far over any sane limit.
pub const OVER_LIMIT: u32 = 0x7fff_ffff;

/// One request to answer.
pub struct FrameRequest<'a> {
    pub conn: u64,
    pub payload: &'a [u8],
    /// 1-based count of frames on this connection, this one included.
    pub seq: u64,
}

/// Computes the reply payload to one request.
pub type FrameReplyFn = Arc<dyn Fn(&FrameRequest<'_>) -> Vec<u8> + Send + Sync>;
/// Computes the payloads sent after the client's end of stream, from the number of frames it sent.
pub type FrameFarewellFn = Arc<dyn Fn(u64) -> Vec<Vec<u8>> + Send + Sync>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameFault {
    /// Every frame one byte per write, each byte read by the client before the next is sent.
    Trickle,
    /// Every frame cut into pieces of 1 to 7 bytes at random (from this seed), one write each.
    Slice { seed: u64 },
    /// All farewell frames in one single write.
    Coalesce,
    /// The reply to the first frame is padded to this many bytes.
    Large { bytes: usize },
    /// The reply to the first frame: its header and half its payload, then an orderly close.
    CloseMidFrame,
    /// The reply to the first frame: a header announcing [`OVER_LIMIT`] bytes and a few bytes;
    /// then the server waits for the client to close.
    OverLimit,
    /// Before replying to frame `seq`, journal [`FrameEvent::Holding`] and wait for the gate.
    Hold { seq: u64, gate: Gate },
}

#[derive(Clone)]
pub struct FramedOptions {
    pub replies: FrameReplyFn,
    pub farewell: FrameFarewellFn,
    pub faults: Vec<FrameFault>,
    pub trace: bool,
}

impl FramedOptions {
    /// The program's default: each reply is the payload in capitals; the farewell is
    /// `received N frames` and `bye`.
    pub fn uppercase() -> FramedOptions {
        FramedOptions {
            replies: Arc::new(|request| request.payload.to_ascii_uppercase()),
            farewell: Arc::new(|n| {
                vec![format!("received {n} frames").into_bytes(), b"bye".to_vec()]
            }),
            faults: Vec::new(),
            trace: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameEvent {
    Accepted {
        conn: u64,
        peer: SocketAddr,
    },
    Received {
        conn: u64,
        payload: Vec<u8>,
    },
    /// One whole frame, journaled before its first byte is written.
    Sent {
        conn: u64,
        payload: Vec<u8>,
    },
    /// A frame the server broke on purpose: it announced `announced` bytes and sent `sent`.
    SentBroken {
        conn: u64,
        announced: u32,
        sent: usize,
    },
    /// A reply is held at a gate (see [`FrameFault::Hold`]).
    Holding {
        conn: u64,
        seq: u64,
    },
    /// The client's end of stream, between frames: an orderly half-close (or close).
    PeerHalfClosed {
        conn: u64,
    },
    /// The client's stream ended inside a frame, or announced a frame over the limit.
    PeerBrokeFrame {
        conn: u64,
    },
    /// A read or write failed (usually a reset).
    PeerReset {
        conn: u64,
    },
    Closed {
        conn: u64,
    },
}

impl FrameEvent {
    pub fn conn(&self) -> u64 {
        use FrameEvent::*;
        match self {
            Accepted { conn, .. }
            | Received { conn, .. }
            | Sent { conn, .. }
            | SentBroken { conn, .. }
            | Holding { conn, .. }
            | PeerHalfClosed { conn }
            | PeerBrokeFrame { conn }
            | PeerReset { conn }
            | Closed { conn } => *conn,
        }
    }
}

pub struct FramedServer {
    listener: TcpListener,
    options: FramedOptions,
    journal: Journal<FrameEvent>,
}

impl FramedServer {
    pub fn bind(addr: SocketAddr, options: FramedOptions) -> io::Result<FramedServer> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        Ok(FramedServer {
            listener: socket.into(),
            options,
            journal: Journal::new(),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn journal(&self) -> Journal<FrameEvent> {
        self.journal.clone()
    }

    /// Serves on a new thread until the returned [`Running`] is dropped.
    pub fn spawn(self) -> io::Result<Running<FrameEvent>> {
        let addr = self.local_addr()?;
        let journal = self.journal();
        let shared = Arc::new(Shared::new(&self.options)?);
        let thread = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("framed-server {addr}"))
                .spawn(move || {
                    if let Err(e) = self.serve_until(shared) {
                        trace::info(format_args!("framed-server: stopped serving: {e}"));
                    }
                })?
        };
        Ok(Running::new(addr, journal, move || shared.stop(), thread))
    }

    /// Serves on this thread until the process ends.
    pub fn serve(self) -> io::Result<()> {
        let shared = Arc::new(Shared::new(&self.options)?);
        self.serve_until(shared)
    }

    fn serve_until(self, shared: Arc<Shared>) -> io::Result<()> {
        let options = Arc::new(self.options);
        let mut workers: Vec<JoinHandle<()>> = Vec::new();
        let mut next_conn = 1;
        // Non-blocking: accept only after poll says a connection waits, next to the stop switch.
        self.listener.set_nonblocking(true)?;
        let outcome = loop {
            match shared.stop.wait_readable(&self.listener) {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    trace::info(format_args!("framed-server: accept failed: {e}"));
                    // Out of descriptors, say: do not spin on the same error.
                    shared.stop.sleep(Duration::from_millis(100));
                    continue;
                }
            };
            let conn = next_conn;
            next_conn += 1;
            workers.retain(|w| !w.is_finished());
            self.journal.record(FrameEvent::Accepted { conn, peer });
            let registered = stream
                .set_nonblocking(false)
                .and_then(|()| stream.set_nodelay(true))
                .and_then(|()| shared.register(conn, &stream));
            if !matches!(registered, Ok(true)) {
                self.journal.record(FrameEvent::Closed { conn });
                continue;
            }
            let connection = Connection {
                conn,
                peer,
                stream,
                options: Arc::clone(&options),
                journal: self.journal.clone(),
                shared: Arc::clone(&shared),
                received: 0,
            };
            match thread::Builder::new()
                .name(format!("framed conn {conn}"))
                .spawn(move || connection.run())
            {
                Ok(worker) => workers.push(worker),
                Err(e) => {
                    shared.forget(conn);
                    self.journal.record(FrameEvent::Closed { conn });
                    trace::info(format_args!("conn {conn}: cannot serve: {e}"));
                }
            }
        };
        for worker in workers {
            let _ = worker.join();
        }
        outcome
    }
}

/// The stop switch, a second handle on each open connection (to wake its thread when stopping),
/// and the gates to open when stopping.
struct Shared {
    stop: Stop,
    open: Mutex<HashMap<u64, TcpStream>>,
    gates: Vec<Gate>,
}

impl Shared {
    fn new(options: &FramedOptions) -> io::Result<Shared> {
        let gates = options
            .faults
            .iter()
            .filter_map(|f| match f {
                FrameFault::Hold { gate, .. } => Some(gate.clone()),
                _ => None,
            })
            .collect();
        Ok(Shared {
            stop: Stop::new()?,
            open: Mutex::new(HashMap::new()),
            gates,
        })
    }

    fn stop(&self) {
        self.stop.request();
        for gate in &self.gates {
            gate.open();
        }
        for stream in self.lock().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// `false` once stopping has begun (checked under the lock `stop` takes after flipping it).
    fn register(&self, conn: u64, stream: &TcpStream) -> io::Result<bool> {
        let mut open = self.lock();
        if self.stop.is_requested() {
            return Ok(false);
        }
        open.insert(conn, stream.try_clone()?);
        Ok(true)
    }

    fn forget(&self, conn: u64) {
        self.lock().remove(&conn);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a conversation ended before its farewell.
enum Cut {
    Stopping,
    Reset,
    /// The server broke the stream on purpose, or the client did.
    Done,
}

struct Connection {
    conn: u64,
    peer: SocketAddr,
    stream: TcpStream,
    options: Arc<FramedOptions>,
    journal: Journal<FrameEvent>,
    shared: Arc<Shared>,
    received: u64,
}

impl Connection {
    fn run(mut self) {
        let _ = self.converse();
        let conn = self.conn;
        self.shared.forget(conn);
        let Connection {
            stream, journal, ..
        } = self;
        // The second handle is gone, so dropping this one really closes the socket (FIN).
        drop(stream);
        journal.record(FrameEvent::Closed { conn });
    }

    fn converse(&mut self) -> Result<(), Cut> {
        loop {
            let frame = framed::read_frame(&mut self.stream, MAX_FRAME);
            match frame {
                Ok(_) if self.stopping() => return Err(Cut::Stopping),
                Ok(Frame::Whole(payload)) => self.on_frame(payload)?,
                Ok(Frame::End) => break,
                Ok(Frame::Cut(_) | Frame::TooLong(_)) => {
                    self.record(FrameEvent::PeerBrokeFrame { conn: self.conn });
                    return Err(Cut::Done);
                }
                Err(e) => return Err(self.failed("read", &e)),
            }
        }
        self.record(FrameEvent::PeerHalfClosed { conn: self.conn });
        let farewell = (self.options.farewell)(self.received);
        if self.has(&FrameFault::Coalesce) {
            let mut all = Vec::new();
            for payload in farewell {
                all.extend(framed::encode(&payload));
                self.record(FrameEvent::Sent {
                    conn: self.conn,
                    payload,
                });
            }
            return self.write(&all);
        }
        for payload in farewell {
            self.send(payload)?;
        }
        Ok(())
    }

    fn on_frame(&mut self, payload: Vec<u8>) -> Result<(), Cut> {
        self.received += 1;
        let seq = self.received;
        if self.options.trace {
            trace::trace(format_args!("conn {} <- {}", self.conn, quoted(&payload)));
        }
        self.record(FrameEvent::Received {
            conn: self.conn,
            payload: payload.clone(),
        });
        let hold = self.options.faults.iter().find_map(|f| match f {
            FrameFault::Hold { seq: at, gate } if *at == seq => Some(gate.clone()),
            _ => None,
        });
        if let Some(gate) = hold {
            self.record(FrameEvent::Holding {
                conn: self.conn,
                seq,
            });
            gate.wait(Instant::now() + HOLD_AT_MOST);
            if self.stopping() {
                return Err(Cut::Stopping);
            }
        }
        let mut reply = (self.options.replies)(&FrameRequest {
            conn: self.conn,
            payload: &payload,
            seq,
        });
        if seq == 1 {
            if self.has(&FrameFault::CloseMidFrame) {
                let announced = reply.len().max(2) as u32;
                reply.resize(announced as usize, b'.');
                let sent = reply.len() / 2;
                return self.break_frame(announced, &reply[..sent], true);
            }
            if self.has(&FrameFault::OverLimit) {
                return self.break_frame(OVER_LIMIT, &reply, false);
            }
            if let Some(bytes) = self.options.faults.iter().find_map(|f| match f {
                FrameFault::Large { bytes } => Some(*bytes),
                _ => None,
            }) {
                pad(&mut reply, bytes, self.conn);
            }
        }
        self.send(reply)
    }

    /// Sends a header announcing `announced` bytes and then only `part`; then closes (an orderly
    /// close, `close`) or leaves it to the client. Either way it reads until the client's end of
    /// stream, because closing with unread bytes would send a reset instead of a FIN.
    fn break_frame(&mut self, announced: u32, part: &[u8], close: bool) -> Result<(), Cut> {
        self.record(FrameEvent::SentBroken {
            conn: self.conn,
            announced,
            sent: part.len(),
        });
        let mut bytes = announced.to_be_bytes().to_vec();
        bytes.extend_from_slice(part);
        self.write(&bytes)?;
        if close && self.stream.shutdown(Shutdown::Write).is_err() {
            return Err(Cut::Done);
        }
        let mut sink = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut sink) {
                Ok(0) => return Err(Cut::Done),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.failed("read", &e)),
            }
        }
    }

    /// Journals a whole frame, then writes it (paced, if a fault says so).
    fn send(&mut self, payload: Vec<u8>) -> Result<(), Cut> {
        if self.options.trace {
            trace::trace(format_args!("conn {} -> {}", self.conn, quoted(&payload)));
        }
        let bytes = framed::encode(&payload);
        self.record(FrameEvent::Sent {
            conn: self.conn,
            payload,
        });
        self.write(&bytes)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Cut> {
        let mut slicer = self.options.faults.iter().find_map(|f| match f {
            FrameFault::Trickle => Some(None),
            FrameFault::Slice { seed } => Some(Some(Rng::new(*seed ^ self.conn))),
            _ => None,
        });
        let Some(slicer) = slicer.as_mut() else {
            return self
                .stream
                .write_all(bytes)
                .map_err(|e| self.failed("write", &e));
        };
        let diag = SockDiag::new().ok();
        let mut rest = bytes;
        while !rest.is_empty() {
            let len = match slicer {
                None => 1,
                Some(rng) => rng.between_1_and(7),
            }
            .min(rest.len());
            if let Err(e) = self.stream.write_all(&rest[..len]) {
                return Err(self.failed("write", &e));
            }
            rest = &rest[len..];
            if self.wait_until_drained(diag.as_ref()) {
                return Err(Cut::Stopping);
            }
        }
        Ok(())
    }

    /// Waits until the client's socket has no unread bytes (so its next read gets only the next
    /// piece), at most [`DRAIN_AT_MOST`]. On loopback a written byte is in the peer's queue when
    /// `write` returns. Returns `true` when the server is stopping.
    fn wait_until_drained(&self, diag: Option<&SockDiag>) -> bool {
        let (Some(diag), Ok(ours)) = (diag, self.stream.local_addr()) else {
            return self.stopping();
        };
        let deadline = Instant::now() + DRAIN_AT_MOST;
        loop {
            match diag.lookup(self.peer, ours) {
                Ok(Some(queues)) if queues.rx_queue > 0 => {}
                // Drained, or the client's socket is not visible from here: go on.
                _ => return self.stopping(),
            }
            if Instant::now() >= deadline {
                return self.stopping();
            }
            if self.shared.stop.sleep(DRAIN_POLL) {
                return true;
            }
        }
    }

    fn has(&self, fault: &FrameFault) -> bool {
        self.options.faults.contains(fault)
    }

    fn record(&self, event: FrameEvent) {
        self.journal.record(event);
    }

    fn failed(&self, what: &str, e: &io::Error) -> Cut {
        if self.stopping() {
            return Cut::Stopping;
        }
        trace::info(format_args!("conn {}: {what} failed: {e}", self.conn));
        self.record(FrameEvent::PeerReset { conn: self.conn });
        Cut::Reset
    }

    fn stopping(&self) -> bool {
        self.shared.stop.is_requested()
    }
}

/// Pads `reply` to `bytes` with printable text that varies with the connection, so a client
/// cannot print a large reply without having received it.
fn pad(reply: &mut Vec<u8>, bytes: usize, conn: u64) {
    let mut rng = Rng::new(0x5eed ^ conn ^ reply.len() as u64);
    reply.push(b' ');
    while reply.len() < bytes {
        reply.push(b'a' + (rng.next_u64() % 26) as u8);
    }
}
