//! The UDP reply server: one reply datagram for each datagram received.
//!
//! UDP has no connections. The server owns one socket; every `recvfrom(2)` hands it one whole
//! datagram and the address it came from, and the reply goes back with `sendto(2)` to that
//! address. Nothing tells the server that a client exists until a datagram arrives, and nothing
//! tells it that a client went away.
//!
//! [`UdpFault`]s make the server misbehave on purpose, each to catch one mistake a client makes.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::gate::Gate;
use crate::journal::Journal;
use crate::running::Running;
use crate::stop::Stop;
use crate::trace::{self, quoted};

/// The largest UDP payload there is (65,535 minus headers), rounded up: any datagram fits, so
/// none is ever cut short. `recvfrom` silently truncates a datagram longer than the buffer.
const RECV_BUFFER: usize = 65536;
/// A held reply is sent after this at the latest, so that a forgotten gate never hangs a server.
const HOLD_AT_MOST: Duration = Duration::from_secs(20);

/// One datagram to answer.
pub struct UdpRequest<'a> {
    pub from: SocketAddr,
    pub payload: &'a [u8],
    /// 1-based count of datagrams answered for this peer address, this one included.
    pub seq: u64,
}

/// Computes the reply to one datagram.
pub type UdpReplyFn = Arc<dyn Fn(&UdpRequest<'_>) -> Vec<u8> + Send + Sync>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UdpFault {
    /// Ignore the first datagram of each distinct (peer, payload); answer later copies.
    /// `only: Some(p)` restricts this to payload p. Catches a client that never resends.
    DropFirstCopy { only: Option<Vec<u8>> },
    /// Before each reply, send a decoy datagram to the client from a second socket bound to the
    /// same IP on another port. Catches a client that accepts datagrams from anyone.
    Stranger,
    /// Receive and journal, never reply.
    Silent,
    /// Before the `seq`-th reply to a peer, journal [`UdpEvent::Holding`] and wait until the gate
    /// is open (at most [`HOLD_AT_MOST`]): the client is then known to be waiting for that reply,
    /// for as long as the grader needs to look at it from outside. The whole server waits (it
    /// has one thread). Copies of the held datagram that come after it (a client that resent it
    /// while it waited) are ignored: the held reply answers them all.
    Hold { seq: u64, gate: Gate },
}

#[derive(Clone)]
pub struct UdpOptions {
    pub replies: UdpReplyFn,
    pub faults: Vec<UdpFault>,
    /// Log every datagram received and sent on standard error.
    pub trace: bool,
}

impl UdpOptions {
    /// The program's default behaviour: the reply is the payload with ASCII letters in capitals,
    /// after `TAG ` when a tag is given. Any bytes work, UTF-8 or not.
    pub fn uppercase(tag: Option<String>) -> Self {
        let prefix = tag
            .map(|t| format!("{t} ").into_bytes())
            .unwrap_or_default();
        UdpOptions {
            replies: Arc::new(move |request| {
                let mut reply = prefix.clone();
                reply.extend(request.payload.to_ascii_uppercase());
                reply
            }),
            faults: Vec::new(),
            trace: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UdpEvent {
    Received {
        from: SocketAddr,
        payload: Vec<u8>,
    },
    /// Recorded after `Received`, when a fault drops the datagram (or it is a resent copy of a
    /// held one).
    Dropped {
        from: SocketAddr,
        payload: Vec<u8>,
    },
    /// Journaled just before the reply is sent, so that whatever a client prints is already here.
    Replied {
        to: SocketAddr,
        payload: Vec<u8>,
    },
    /// The reply numbered `seq` to `to` is held at a gate ([`UdpFault::Hold`]).
    Holding {
        to: SocketAddr,
        seq: u64,
    },
    /// A decoy from the stranger's socket ([`UdpFault::Stranger`]), journaled before it is sent.
    StrangerSent {
        from: SocketAddr,
        to: SocketAddr,
        payload: Vec<u8>,
    },
}

/// A bound UDP server, ready to serve on this thread ([`UdpServer::serve`]) or another
/// ([`UdpServer::spawn`]).
pub struct UdpServer {
    socket: UdpSocket,
    /// The second socket the [`UdpFault::Stranger`] decoys come from.
    stranger: Option<UdpSocket>,
    options: UdpOptions,
    journal: Journal<UdpEvent>,
}

impl UdpServer {
    /// Binds the server's socket (IPv6 addresses v6-only, so `::1` means IPv6 alone).
    pub fn bind(addr: SocketAddr, options: UdpOptions) -> io::Result<UdpServer> {
        UdpServer::bind_v6only(addr, true, options)
    }

    /// Binds one socket for both families (`--dual-stack`): `[::]:port` with `IPV6_V6ONLY` off.
    /// IPv4 clients then show up as IPv4-mapped addresses (`[::ffff:127.0.0.1]:PORT`), and the
    /// replies go back to them through the same socket.
    pub fn bind_dual_stack(port: u16, options: UdpOptions) -> io::Result<UdpServer> {
        UdpServer::bind_v6only(crate::dual_stack::any(port), false, options)
    }

    fn bind_v6only(addr: SocketAddr, only_v6: bool, options: UdpOptions) -> io::Result<UdpServer> {
        let socket = bind_udp_v6only(addr, only_v6)?;
        let stranger = if options.faults.contains(&UdpFault::Stranger) {
            // Same IP, port 0: the system picks another port, so the decoy's source address
            // differs from the server's by its port alone. (A dual-stack server's decoys come
            // from a dual-stack socket too, so that they reach clients of either family.)
            let ip = socket.local_addr()?.ip();
            Some(bind_udp_v6only(SocketAddr::new(ip, 0), only_v6)?)
        } else {
            None
        };
        Ok(UdpServer {
            socket,
            stranger,
            options,
            journal: Journal::new(),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    pub fn journal(&self) -> Journal<UdpEvent> {
        self.journal.clone()
    }

    /// Serves on a new thread until the returned [`Running`] is stopped or dropped.
    pub fn spawn(self) -> io::Result<Running<UdpEvent>> {
        let addr = self.local_addr()?;
        let journal = self.journal();
        let stop = Stop::new()?;
        let gates: Vec<Gate> = self
            .options
            .faults
            .iter()
            .filter_map(|f| match f {
                UdpFault::Hold { gate, .. } => Some(gate.clone()),
                _ => None,
            })
            .collect();
        let thread = {
            let stop = stop.clone();
            thread::Builder::new()
                .name(format!("udp-server {addr}"))
                .spawn(move || {
                    if let Err(e) = self.serve_until(&stop) {
                        trace::info(format_args!("udp-server: stopped serving: {e}"));
                    }
                })?
        };
        // Stopping opens the gates too, so that a held reply does not keep the thread waiting.
        let request_stop = move || {
            stop.request();
            for gate in &gates {
                gate.open();
            }
        };
        Ok(Running::new(addr, journal, request_stop, thread))
    }

    /// Serves on this thread for as long as the process runs (the programs end it with a
    /// signal, see [`crate::signals`]).
    pub fn serve(self) -> io::Result<()> {
        let never = Stop::new()?;
        self.serve_until(&never)
    }

    /// The receive loop. Returns `Ok` once a stop is requested, `Err` if waiting itself fails.
    fn serve_until(self, stop: &Stop) -> io::Result<()> {
        let mut buf = vec![0u8; RECV_BUFFER];
        let mut state = State::default();
        // Non-blocking, because the socket is only read once poll(2) says it is readable; a
        // blocking read could still hang if the datagram vanished in between.
        self.socket.set_nonblocking(true)?;
        loop {
            if !stop.wait_readable(&self.socket)? {
                return Ok(());
            }
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.answer(&mut state, from, &buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Typically ECONNREFUSED: an earlier reply hit a port where nobody listens, the
                // peer's system answered with an ICMP "port unreachable", and Linux reports it
                // on the next call on this socket. It concerns that one old peer; go on serving.
                Err(e) => trace::info(format_args!("udp-server: receive error (ignored): {e}")),
            }
        }
    }

    fn answer(&self, state: &mut State, from: SocketAddr, payload: &[u8]) {
        if self.options.trace {
            trace::trace(format_args!("from {from}: {}", quoted(payload)));
        }
        self.journal.record(UdpEvent::Received {
            from,
            payload: payload.to_vec(),
        });
        if self.drops(state, from, payload) {
            if self.options.trace {
                trace::trace(format_args!("dropped it on purpose (fault)"));
            }
            self.journal.record(UdpEvent::Dropped {
                from,
                payload: payload.to_vec(),
            });
            return;
        }
        let seq = state.answered.entry(from).or_insert(0);
        *seq += 1;
        let seq = *seq;
        self.hold(state, from, payload, seq);
        let request = UdpRequest { from, payload, seq };
        let reply = (self.options.replies)(&request);
        if let Some(stranger) = &self.stranger {
            self.send_decoy(stranger, from, &reply);
        }
        // Journaled before it is sent: a client can print a reply, and the grader read the
        // journal, before send_to has even returned here.
        if self.options.trace {
            trace::trace(format_args!("to {from}: {}", quoted(&reply)));
        }
        self.journal.record(UdpEvent::Replied {
            to: from,
            payload: reply.clone(),
        });
        if let Err(e) = self.socket.send_to(&reply, from) {
            trace::info(format_args!("udp-server: cannot reply to {from}: {e}"));
        }
    }

    /// [`UdpFault::Hold`]: waits at the gate of reply `seq`, if it has one.
    fn hold(&self, state: &mut State, from: SocketAddr, payload: &[u8], seq: u64) {
        let gate = self.options.faults.iter().find_map(|f| match f {
            UdpFault::Hold { seq: at, gate } if *at == seq => Some(gate.clone()),
            _ => None,
        });
        let Some(gate) = gate else {
            return;
        };
        if self.options.trace {
            trace::trace(format_args!("holding the reply to {from} (fault)"));
        }
        self.journal.record(UdpEvent::Holding { to: from, seq });
        gate.wait(Instant::now() + HOLD_AT_MOST);
        state.held.insert(from, payload.to_vec());
    }

    /// Whether a fault says to ignore this datagram.
    fn drops(&self, state: &mut State, from: SocketAddr, payload: &[u8]) -> bool {
        // A resent copy of a held datagram: its reply has gone already. Anything else from that
        // peer means it has moved on.
        if let Some(held) = state.held.get(&from) {
            if held.as_slice() == payload {
                return true;
            }
            state.held.remove(&from);
        }
        self.options.faults.iter().any(|fault| match fault {
            UdpFault::Silent => true,
            UdpFault::DropFirstCopy { only } => {
                only.as_deref().is_none_or(|p| p == payload)
                    && state.seen.insert((from, payload.to_vec()))
            }
            UdpFault::Stranger | UdpFault::Hold { .. } => false,
        })
    }

    /// A datagram that looks like a reply but comes from another port than the server's.
    fn send_decoy(&self, stranger: &UdpSocket, to: SocketAddr, reply: &[u8]) {
        let mut decoy = b"STRANGER ".to_vec();
        decoy.extend_from_slice(reply);
        let from = match stranger.local_addr() {
            Ok(from) => from,
            Err(e) => return trace::info(format_args!("udp-server: decoy socket: {e}")),
        };
        if self.options.trace {
            trace::trace(format_args!(
                "decoy from {from} to {to}: {}",
                quoted(&decoy)
            ));
        }
        // Journaled before it is sent, like a reply.
        self.journal.record(UdpEvent::StrangerSent {
            from,
            to,
            payload: decoy.clone(),
        });
        if let Err(e) = stranger.send_to(&decoy, to) {
            trace::info(format_args!("udp-server: cannot send decoy to {to}: {e}"));
        }
    }
}

/// What the server remembers about its peers.
#[derive(Default)]
struct State {
    /// Datagrams answered, per peer address: the `seq` of the next request.
    answered: HashMap<SocketAddr, u64>,
    /// (peer, payload) pairs seen once already, for [`UdpFault::DropFirstCopy`].
    seen: HashSet<(SocketAddr, Vec<u8>)>,
    /// Per peer, the payload of the last reply held at a gate ([`UdpFault::Hold`]).
    held: HashMap<SocketAddr, Vec<u8>>,
}

/// A UDP socket bound to `addr`; an IPv6 one accepts IPv6 only (no IPv4-mapped addresses), so the
/// address family a learner asked for is the one they get.
/// `only_v6` matters for an IPv6 address only: off, `[::]` takes IPv4 datagrams too.
fn bind_udp_v6only(addr: SocketAddr, only_v6: bool) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(only_v6)?;
    }
    socket.bind(&addr.into())?;
    Ok(socket.into())
}
