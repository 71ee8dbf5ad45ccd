//! Strangers: datagrams that look exactly like the server's replies but come from elsewhere.
//!
//! A UDP client must take as a reply only a datagram from the server's address *and* port. The
//! grader sends look-alikes from the two places a half-done comparison lets through: the
//! server's IP on another port (caught: a client that compares only the IP) and another loopback
//! address, 127.0.0.2, on the server's own port (caught: a client that compares only the port).
//! A look-alike says what the server would have said, with another secret, so no program can tell
//! the two apart by their content; and it comes before some replies and after others, so no
//! program can tell them apart by their order either.
//!
//! What the strangers sent is journaled ([`UdpEvent::StrangerSent`]) in a journal of their own,
//! which a check merges with the server's ([`crate::datagrams::merged`]).

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use support::journal::{Journal, Stamped};
use support::running::Running;
use support::udp_server::{UdpEvent, UdpFault, UdpOptions, UdpReplyFn, UdpRequest, UdpServer};

/// The other loopback address the second stranger sends from.
const OTHER_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// Tries at a server port that 127.0.0.2 can share: another program may hold it there.
const PORT_TRIES: usize = 20;

/// When the strangers speak.
#[derive(Clone, Copy, Debug)]
pub enum Decoys {
    /// Around every reply: one look-alike just before it, from one stranger, and one just after
    /// it, from the other; which comes first changes from one reply to the next.
    AroundEachReply,
    /// Every `period`, from the first datagram the server receives until `for_as_long` later, to
    /// every address the server has heard from, the two strangers in turn.
    Every {
        period: Duration,
        for_as_long: Duration,
    },
}

/// The two strangers' sockets and the journal of what they sent.
struct Impostors {
    other_port: UdpSocket,
    other_address: UdpSocket,
    journal: Journal<UdpEvent>,
    /// Look-alikes to send once the server's reply to that address has gone, in order.
    after_reply: Mutex<VecDeque<(SocketAddr, Vec<u8>)>>,
}

impl Impostors {
    /// Sends `payload` to `to` from the stranger `who`.
    fn send(&self, who: Stranger, to: SocketAddr, payload: &[u8]) {
        let socket = match who {
            Stranger::OtherPort => &self.other_port,
            Stranger::OtherAddress => &self.other_address,
        };
        let Ok(from) = socket.local_addr() else {
            return;
        };
        // Journaled before it is sent, like the server's replies.
        self.journal.record(UdpEvent::StrangerSent {
            from,
            to,
            payload: payload.to_vec(),
        });
        let _ = socket.send_to(payload, to);
    }
}

/// One of the two strangers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stranger {
    /// The server's IP, another port.
    OtherPort,
    /// The server's port, another IP.
    OtherAddress,
}

impl Stranger {
    /// The stranger who speaks first around the reply numbered `seq`, and then the other.
    fn in_turn(seq: u64) -> (Stranger, Stranger) {
        if seq % 2 == 1 {
            (Stranger::OtherPort, Stranger::OtherAddress)
        } else {
            (Stranger::OtherAddress, Stranger::OtherPort)
        }
    }
}

/// A server on 127.0.0.1 with its two strangers; both stop when this is dropped.
pub struct WithStrangers {
    /// Declared first: the server stops before the thread that follows its journal.
    pub server: Running<UdpEvent>,
    impostors: Arc<Impostors>,
    stop: Arc<AtomicBool>,
    follower: Option<JoinHandle<()>>,
}

impl WithStrangers {
    /// Starts a server on 127.0.0.1 that replies with `replies` (after its `faults`), and the
    /// strangers, who say what `look_alike` says to the same request, when `decoys` says.
    pub fn start(
        replies: UdpReplyFn,
        look_alike: UdpReplyFn,
        faults: Vec<UdpFault>,
        decoys: Decoys,
    ) -> io::Result<WithStrangers> {
        let slot: Arc<OnceLock<Arc<Impostors>>> = Arc::new(OnceLock::new());
        let options = UdpOptions {
            replies: match decoys {
                Decoys::AroundEachReply => around_each_reply(replies, &look_alike, &slot),
                Decoys::Every { .. } => replies,
            },
            faults,
            trace: false,
        };
        let mut last_error = io::Error::other("no port tried");
        for _ in 0..PORT_TRIES {
            let server = UdpServer::bind((Ipv4Addr::LOCALHOST, 0).into(), options.clone())?;
            let addr = server.local_addr()?;
            let other_address = match UdpSocket::bind((OTHER_ADDRESS, addr.port())) {
                Ok(socket) => socket,
                Err(e) => {
                    last_error = io::Error::new(
                        e.kind(),
                        format!("cannot bind {OTHER_ADDRESS}:{}: {e}", addr.port()),
                    );
                    continue;
                }
            };
            let impostors = Arc::new(Impostors {
                other_port: UdpSocket::bind((addr.ip(), 0))?,
                other_address,
                journal: Journal::new(),
                after_reply: Mutex::new(VecDeque::new()),
            });
            let _ = slot.set(Arc::clone(&impostors));
            let server = server.spawn()?;
            let stop = Arc::new(AtomicBool::new(false));
            let follower = follow(
                server.journal().clone(),
                Arc::clone(&impostors),
                look_alike,
                decoys,
                Arc::clone(&stop),
            );
            return Ok(WithStrangers {
                server,
                impostors,
                stop,
                follower: Some(follower),
            });
        }
        Err(last_error)
    }

    /// What the strangers sent.
    pub fn journal(&self) -> &Journal<UdpEvent> {
        &self.impostors.journal
    }
}

impl Drop for WithStrangers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(follower) = self.follower.take() {
            let _ = follower.join();
        }
    }
}

/// The server's replies, each with a look-alike from one stranger just before it, and one from
/// the other queued for just after it.
fn around_each_reply(
    replies: UdpReplyFn,
    look_alike: &UdpReplyFn,
    slot: &Arc<OnceLock<Arc<Impostors>>>,
) -> UdpReplyFn {
    let look_alike = Arc::clone(look_alike);
    let slot = Arc::clone(slot);
    Arc::new(move |request: &UdpRequest<'_>| {
        if let Some(impostors) = slot.get() {
            let decoy = look_alike(request);
            impostors.send(Stranger::in_turn(request.seq).0, request.from, &decoy);
            let mut queue = impostors
                .after_reply
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            queue.push_back((request.from, decoy));
        }
        replies(request)
    })
}

/// The thread that follows the server's journal: the queued look-alike after each reply, or the
/// strangers in turn every period.
fn follow(
    server: Journal<UdpEvent>,
    impostors: Arc<Impostors>,
    look_alike: UdpReplyFn,
    decoys: Decoys,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    // The journal cannot wake this thread when it is told to stop: it waits in slices.
    const SLICE: Duration = Duration::from_millis(20);
    thread::spawn(move || {
        let mut seen = 0;
        let mut replies_to: Vec<SocketAddr> = Vec::new();
        let mut ticks = 0u32;
        while !stop.load(Ordering::Relaxed) {
            server.wait_until(Instant::now() + SLICE, |events| events.len() > seen);
            let events = server.snapshot();
            for event in &events[seen..] {
                if let UdpEvent::Replied { to, .. } = event.event {
                    replies_to.push(to);
                    let seq = replies_to.iter().filter(|a| **a == to).count() as u64;
                    let mut queue = impostors
                        .after_reply
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if let Some(at) = queue.iter().position(|(a, _)| *a == to) {
                        let (to, decoy) = queue.remove(at).expect("found");
                        drop(queue);
                        impostors.send(Stranger::in_turn(seq).1, to, &decoy);
                    }
                }
            }
            seen = events.len();
            let Decoys::Every {
                period,
                for_as_long,
            } = decoys
            else {
                continue;
            };
            let Some(start) = events.first().map(|e| e.at) else {
                continue;
            };
            let due = start + period * (ticks + 1);
            if Instant::now() < due || due > start + for_as_long {
                continue;
            }
            ticks += 1;
            for (to, payload) in last_requests(&events) {
                let request = UdpRequest {
                    from: to,
                    payload: &payload,
                    seq: 1,
                };
                impostors.send(
                    Stranger::in_turn(u64::from(ticks)).0,
                    to,
                    &look_alike(&request),
                );
            }
        }
    })
}

/// Each address the server heard from, with the last datagram it sent.
fn last_requests(events: &[Stamped<UdpEvent>]) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut last: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
    for e in events {
        if let UdpEvent::Received { from, payload } = &e.event {
            match last.iter_mut().find(|(a, _)| a == from) {
                Some(entry) => entry.1 = payload.clone(),
                None => last.push((*from, payload.clone())),
            }
        }
    }
    last
}
