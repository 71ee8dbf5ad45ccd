//! The framed server: one reply frame per request frame (4-byte big-endian length, then the
//! payload, see [`crate::framed`]); after the client half-closes, a few farewell frames, then it
//! closes.
//!
//! [`FrameFault`]s break the stream on purpose, each to catch one mistake of a client: bytes one
//! at a time, writes sliced at random, frames glued into one write, a frame of megabytes, a
//! connection closed inside a frame, a length over the limit. Each connection has a thread.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::conn::{self, Conn, ConnEvent, Cut, Service};
use crate::framed::{self, Frame, MAX_FRAME, Rng};
use crate::gate::Gate;
use crate::journal::Journal;
use crate::running::Running;
use crate::sock_diag::SockDiag;
use crate::trace::{self, quoted};

/// How long a paced write waits at most for the client to read what it got, before going on.
const DRAIN_AT_MOST: Duration = Duration::from_millis(50);
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

impl ConnEvent for FrameEvent {
    fn accepted(conn: u64, peer: SocketAddr) -> Self {
        FrameEvent::Accepted { conn, peer }
    }

    fn peer_half_closed(conn: u64) -> Self {
        FrameEvent::PeerHalfClosed { conn }
    }

    fn peer_reset(conn: u64) -> Self {
        FrameEvent::PeerReset { conn }
    }

    fn closed(conn: u64) -> Self {
        FrameEvent::Closed { conn }
    }
}

pub struct FramedServer {
    listener: TcpListener,
    options: FramedOptions,
    journal: Journal<FrameEvent>,
}

impl FramedServer {
    pub fn bind(addr: SocketAddr, options: FramedOptions) -> io::Result<FramedServer> {
        Ok(FramedServer {
            listener: conn::listen(addr)?,
            options,
            journal: Journal::new(),
        })
    }

    /// Listens on one socket for both families (`--dual-stack`): `[::]:port` with
    /// `IPV6_V6ONLY` off. IPv4 clients show up as IPv4-mapped addresses (`::ffff:127.0.0.1`).
    pub fn bind_dual_stack(port: u16, options: FramedOptions) -> io::Result<FramedServer> {
        Ok(FramedServer {
            listener: conn::listen_dual_stack(port)?,
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
        conn::spawn(self.listener, self.journal, FrameService(self.options))
    }

    /// Serves on this thread until the process ends.
    pub fn serve(self) -> io::Result<()> {
        conn::serve(self.listener, self.journal, FrameService(self.options))
    }
}

/// The framed protocol and its faults, for [`crate::conn`] to serve.
struct FrameService(FramedOptions);

impl Service for FrameService {
    type Event = FrameEvent;
    const NAME: &'static str = "framed-server";

    fn gates(&self) -> Vec<Gate> {
        self.0
            .faults
            .iter()
            .filter_map(|f| match f {
                FrameFault::Hold { gate, .. } => Some(gate.clone()),
                _ => None,
            })
            .collect()
    }

    fn prepare(&self, stream: &TcpStream) -> io::Result<()> {
        // Every write is meant to leave as it was written: a frame, a slice, one byte.
        stream.set_nodelay(true)
    }

    fn converse(&self, conn: &mut Conn<FrameEvent>) {
        // However it ended, the connection is closed next; each way of ending is journaled.
        let _ = Conversation {
            conn,
            options: &self.0,
            received: 0,
        }
        .converse();
    }
}

/// One connection's conversation: frames in, replies out, farewell.
struct Conversation<'a> {
    conn: &'a mut Conn<FrameEvent>,
    options: &'a FramedOptions,
    received: u64,
}

impl Conversation<'_> {
    fn converse(&mut self) -> Result<(), Cut> {
        loop {
            let frame = framed::read_frame(&mut self.conn.stream, MAX_FRAME);
            match frame {
                Ok(_) if self.conn.stopping() => return Err(Cut::Stopping),
                Ok(Frame::Whole(payload)) => self.on_frame(payload)?,
                Ok(Frame::End) => break,
                Ok(Frame::Cut(_) | Frame::TooLong(_)) => {
                    self.record(FrameEvent::PeerBrokeFrame { conn: self.conn.id });
                    return Err(Cut::Done);
                }
                Err(e) => return Err(self.conn.failed("read", &e)),
            }
        }
        self.conn.peer_half_closed();
        let farewell = (self.options.farewell)(self.received);
        if self.has(&FrameFault::Coalesce) {
            let mut all = Vec::new();
            for payload in farewell {
                all.extend(framed::encode(&payload));
                self.record(FrameEvent::Sent {
                    conn: self.conn.id,
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
        let conn = self.conn.id;
        if self.options.trace {
            trace::trace(format_args!("conn {conn} <- {}", quoted(&payload)));
        }
        self.record(FrameEvent::Received {
            conn,
            payload: payload.clone(),
        });
        let hold = self.options.faults.iter().find_map(|f| match f {
            FrameFault::Hold { seq: at, gate } if *at == seq => Some(gate.clone()),
            _ => None,
        });
        if let Some(gate) = hold {
            self.conn
                .hold(&gate, seq, FrameEvent::Holding { conn, seq })?;
        }
        let mut reply = (self.options.replies)(&FrameRequest {
            conn,
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
                pad(&mut reply, bytes, conn);
            }
        }
        self.send(reply)
    }

    /// Sends a header announcing `announced` bytes and then only `part`; then closes (an orderly
    /// close, `close`) or leaves it to the client. Either way it reads until the client's end of
    /// stream, because closing with unread bytes would send a reset instead of a FIN.
    fn break_frame(&mut self, announced: u32, part: &[u8], close: bool) -> Result<(), Cut> {
        self.record(FrameEvent::SentBroken {
            conn: self.conn.id,
            announced,
            sent: part.len(),
        });
        let mut bytes = announced.to_be_bytes().to_vec();
        bytes.extend_from_slice(part);
        self.write(&bytes)?;
        if close && self.conn.stream.shutdown(Shutdown::Write).is_err() {
            return Err(Cut::Done);
        }
        // The stream was broken on purpose: the client's end of it is no news to journal.
        self.conn.discard_until_end()?;
        Err(Cut::Done)
    }

    /// Journals a whole frame, then writes it (paced, if a fault says so).
    fn send(&mut self, payload: Vec<u8>) -> Result<(), Cut> {
        if self.options.trace {
            trace::trace(format_args!(
                "conn {} -> {}",
                self.conn.id,
                quoted(&payload)
            ));
        }
        let bytes = framed::encode(&payload);
        self.record(FrameEvent::Sent {
            conn: self.conn.id,
            payload,
        });
        self.write(&bytes)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Cut> {
        let mut slicer = self.options.faults.iter().find_map(|f| match f {
            FrameFault::Trickle => Some(None),
            FrameFault::Slice { seed } => Some(Some(Rng::new(*seed ^ self.conn.id))),
            _ => None,
        });
        let Some(slicer) = slicer.as_mut() else {
            return self
                .conn
                .stream
                .write_all(bytes)
                .map_err(|e| self.conn.failed("write", &e));
        };
        let diag = SockDiag::new().ok();
        let mut rest = bytes;
        while !rest.is_empty() {
            let len = match slicer {
                None => 1,
                Some(rng) => rng.between_1_and(7),
            }
            .min(rest.len());
            if let Err(e) = self.conn.stream.write_all(&rest[..len]) {
                return Err(self.conn.failed("write", &e));
            }
            rest = &rest[len..];
            // So that the client's next read gets only the next piece.
            if self.conn.wait_until_drained(diag.as_ref(), DRAIN_AT_MOST) {
                return Err(Cut::Stopping);
            }
        }
        Ok(())
    }

    fn has(&self, fault: &FrameFault) -> bool {
        self.options.faults.contains(fault)
    }

    fn record(&self, event: FrameEvent) {
        self.conn.record(event);
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
