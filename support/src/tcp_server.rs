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

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::conn::{self, Conn, ConnEvent, Cut, Service};
use crate::gate::Gate;
use crate::journal::Journal;
use crate::running::Running;
use crate::sock_diag::SockDiag;
use crate::trace::{self, quoted};

/// How much one `read` asks for. Any size works: lines are cut at `'\n'`, not at reads.
const READ_BUFFER: usize = 16 * 1024;

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
    /// until the gate is open (at most 20 s). The client is then known to be waiting
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

impl ConnEvent for TcpEvent {
    fn accepted(conn: u64, peer: SocketAddr) -> Self {
        TcpEvent::Accepted { conn, peer }
    }

    fn peer_half_closed(conn: u64) -> Self {
        TcpEvent::PeerHalfClosed { conn }
    }

    fn peer_reset(conn: u64) -> Self {
        TcpEvent::PeerReset { conn }
    }

    fn closed(conn: u64) -> Self {
        TcpEvent::Closed { conn }
    }
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
        Ok(TcpLineServer {
            listener: conn::listen(addr)?,
            options,
            journal: Journal::new(),
        })
    }

    /// Listens on one socket for both families (`--dual-stack`): `[::]:port` with
    /// `IPV6_V6ONLY` off. IPv4 clients show up as IPv4-mapped addresses (`::ffff:127.0.0.1`).
    pub fn bind_dual_stack(port: u16, options: TcpOptions) -> io::Result<TcpLineServer> {
        Ok(TcpLineServer {
            listener: conn::listen_dual_stack(port)?,
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
        conn::spawn(self.listener, self.journal, LineService(self.options))
    }

    /// Serves on this thread for as long as the process runs (the programs end it with a
    /// signal, see [`crate::signals`]).
    pub fn serve(self) -> io::Result<()> {
        conn::serve(self.listener, self.journal, LineService(self.options))
    }
}

/// The line protocol and its faults, for [`crate::conn`] to serve.
struct LineService(TcpOptions);

impl Service for LineService {
    type Event = TcpEvent;
    const NAME: &'static str = "tcp-server";

    fn gates(&self) -> Vec<Gate> {
        self.0
            .faults
            .iter()
            .filter_map(|f| match f {
                TcpFault::Hold { gate, .. } => Some(gate.clone()),
                _ => None,
            })
            .collect()
    }

    fn prepare(&self, stream: &TcpStream) -> io::Result<()> {
        if pace(&self.0).is_some() {
            // Without TCP_NODELAY, Nagle's algorithm would hold back each small write until the
            // previous one is acknowledged, and glue bytes back together.
            stream.set_nodelay(true)?;
        }
        Ok(())
    }

    fn converse(&self, conn: &mut Conn<TcpEvent>) {
        // However it ended, the connection is closed next; each way of ending is journaled.
        let _ = Conversation {
            conn,
            options: &self.0,
            lines_received: 0,
        }
        .converse();
    }
}

/// The pace of [`TcpFault::Trickle`], if that fault is on.
fn pace(options: &TcpOptions) -> Option<Pace> {
    options.faults.iter().find_map(|f| match f {
        TcpFault::Trickle(pace) => Some(pace.clone()),
        TcpFault::CloseBeforeReply | TcpFault::Hold { .. } => None,
    })
}

/// One connection's conversation: lines in, replies out, farewell.
struct Conversation<'a> {
    conn: &'a mut Conn<TcpEvent>,
    options: &'a TcpOptions,
    lines_received: u64,
}

impl Conversation<'_> {
    /// Reads lines and answers them until the client's end of stream, then says farewell.
    fn converse(&mut self) -> Result<(), Cut> {
        let max_line = self.options.max_line;
        let mut buf = vec![0u8; READ_BUFFER];
        // Bytes received after the last '\n': the start of a line still arriving.
        let mut pending: Vec<u8> = Vec::new();
        // True after an oversized line, until its '\n' comes by.
        let mut discarding = false;
        loop {
            let n = match self.conn.stream.read(&mut buf) {
                // 0 means the peer closed its sending side: no more lines will come.
                Ok(0) if self.conn.stopping() => return Err(Cut::Stopping),
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.conn.failed("read", &e)),
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
        self.conn.peer_half_closed();
        // A last line without '\n' before the end of stream is still a line.
        if !pending.is_empty() && !discarding {
            self.on_line(&pending)?;
        }
        let farewell = (self.options.farewell)(&Farewell {
            conn: self.conn.id,
            peer: self.conn.peer,
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
        let conn = self.conn.id;
        if self.options.trace {
            trace::trace(format_args!("conn {conn} <- {}", quoted(line)));
        }
        self.conn.record(TcpEvent::Received {
            conn,
            line: line.to_vec(),
        });
        if self.lines_received == 1 && self.options.faults.contains(&TcpFault::CloseBeforeReply) {
            self.close_early();
            return Err(Cut::Done);
        }
        self.hold(self.lines_received)?;
        let reply = (self.options.replies)(&LineRequest {
            conn,
            peer: self.conn.peer,
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
        let conn = self.conn.id;
        self.conn.hold(&gate, seq, TcpEvent::Holding { conn, seq })
    }

    fn oversized(&mut self) -> Result<(), Cut> {
        self.conn.record(TcpEvent::Oversized { conn: self.conn.id });
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
            trace::trace(format_args!("conn {} -> {}", self.conn.id, quoted(&line)));
        }
        self.conn.record(TcpEvent::Sent {
            conn: self.conn.id,
            bytes: line.clone(),
        });
        let written = match pace(self.options) {
            None => self.conn.stream.write_all(&line),
            Some(pace) => self.trickle(&line, &pace)?,
        };
        if let Err(e) = written {
            return Err(self.conn.failed("write", &e));
        }
        Ok(())
    }

    /// One `write` per byte, each followed by the pause of `pace`.
    fn trickle(&mut self, bytes: &[u8], pace: &Pace) -> Result<io::Result<()>, Cut> {
        // One netlink socket for the whole line; without one, the wait reads /proc instead.
        let diag = match pace {
            Pace::PeerDrained { .. } => SockDiag::new().ok(),
            Pace::Every(_) => None,
        };
        for byte in bytes {
            if let Err(e) = self.conn.stream.write_all(std::slice::from_ref(byte)) {
                return Ok(Err(e));
            }
            let stopped = match pace {
                Pace::Every(pause) => self.conn.sleep(*pause),
                Pace::PeerDrained { at_most } => {
                    self.conn.wait_until_drained(diag.as_ref(), *at_most)
                }
            };
            if stopped {
                return Err(Cut::Stopping);
            }
        }
        Ok(Ok(()))
    }

    /// [`TcpFault::CloseBeforeReply`]: an orderly close. `shutdown(Write)` sends FIN at once;
    /// then the server reads and discards until the client closes too.
    fn close_early(&mut self) {
        trace::info(format_args!(
            "conn {}: closing before replying (fault)",
            self.conn.id
        ));
        if self.conn.stream.shutdown(Shutdown::Write).is_err() {
            return;
        }
        if self.conn.discard_until_end().is_ok() {
            self.conn
                .record(TcpEvent::PeerHalfClosed { conn: self.conn.id });
        }
    }
}
