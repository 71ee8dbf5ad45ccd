//! A process that holds one socket of every kind chapter 4 looks at, and keeps them still.
//!
//! [`Zoo::open`] opens, all on loopback and on ports the system picks:
//!
//! - TCP listeners on `127.0.0.1` and on `[::1]` (`LISTEN`), and a second descriptor for the
//!   IPv4 one (`dup`: one socket, two descriptors, two lines in `sockstat`);
//! - connections to its own listeners, so that it holds both ends (`ESTAB`): the end it connected
//!   and the end it accepted, over IPv4, over IPv6, and from an IPv6 socket to the IPv4 listener
//!   (an IPv4-mapped address, `[::ffff:127.0.0.1]`);
//! - a half-closed connection: the connecting end has shut down its sending side, so it sits in
//!   `FIN-WAIT-2` and the accepting end in `CLOSE-WAIT`;
//! - a connection that cannot complete (`SYN-SENT`): its listener has a backlog of 0 and already
//!   holds one connection nobody accepted, so the kernel drops every further `SYN`;
//! - UDP sockets on both families, bound only (`UNCONN`) and connected to another of ours
//!   (`ESTAB`);
//! - descriptors that are not TCP or UDP sockets: a Unix socket pair, which `sockstat` skips.
//!
//! Every state is reached before `open` returns (it waits for each with a deadline), and nothing
//! moves afterwards: nobody reads, writes or closes until the zoo is dropped. The grader compares
//! a learner's `sockstat` of this process with its own reading of `/proc`.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// How long a state may take to appear. Loopback takes microseconds; only a very loaded machine
/// gets anywhere near this.
const DEADLINE: Duration = Duration::from_secs(10);

/// The kernel's TCP state numbers (`include/net/tcp_states.h`) that `open` waits for.
const ESTABLISHED: u8 = 1;
const SYN_SENT: u8 = 2;
const FIN_WAIT2: u8 = 5;
const CLOSE_WAIT: u8 = 8;

/// One socket (or other descriptor) of the zoo, described for a person.
#[derive(Clone, Debug)]
pub struct Animal {
    pub fd: RawFd,
    /// What it is, e.g. `TCP, connected to our IPv4 listener, half-closed`.
    pub what: String,
}

/// The sockets; they stay open, and still, until the zoo is dropped.
pub struct Zoo {
    animals: Vec<Animal>,
    /// Everything open, kept only so that it stays open.
    _held: Vec<OwnedFd>,
}

impl Zoo {
    /// Opens every socket and waits until each is in its state.
    pub fn open() -> io::Result<Zoo> {
        let mut zoo = Builder::default();

        let listen4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        zoo.add(&listen4, "TCP listener on IPv4");
        let listen6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0))?;
        zoo.add(&listen6, "TCP listener on IPv6");
        let port4 = listen4.local_addr()?.port();

        // Both ends of a connection over each family; the accepted end's descriptor comes after.
        for (listener, family) in [(&listen4, "IPv4"), (&listen6, "IPv6")] {
            let out = TcpStream::connect(listener.local_addr()?)?;
            zoo.add(&out, &format!("TCP, connected to our {family} listener"));
            let (accepted, _) = listener.accept()?;
            zoo.add(
                &accepted,
                &format!("TCP, accepted by our {family} listener"),
            );
            zoo.keep(out);
            zoo.keep(accepted);
        }

        // An IPv6 socket talking to an IPv4 listener: the kernel shows it with an IPv4-mapped
        // address, in the IPv6 table.
        let mapped = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
        mapped.set_only_v6(false)?;
        mapped.connect(&SockAddr::from(SocketAddr::from((
            Ipv4Addr::LOCALHOST.to_ipv6_mapped(),
            port4,
        ))))?;
        zoo.add(&mapped, "TCP over IPv6, connected to our IPv4 listener");
        let (accepted, _) = listen4.accept()?;
        zoo.add(
            &accepted,
            "TCP, accepted by our IPv4 listener from the IPv6 socket",
        );
        zoo.keep(mapped);
        zoo.keep(accepted);

        // The half-closed connection. The FIN reaches the other end at once; the connecting end
        // is in FIN-WAIT-2 when the FIN's acknowledgement has come back. With its descriptor
        // open it stays there (the FIN-WAIT-2 timeout applies only to closed sockets).
        let half = TcpStream::connect((Ipv4Addr::LOCALHOST, port4))?;
        let (half_accepted, _) = listen4.accept()?;
        half.shutdown(Shutdown::Write)?;
        wait_for(&half, "the half-closed end to reach FIN-WAIT-2", |i| {
            i.state == FIN_WAIT2
        })?;
        wait_for(&half_accepted, "the other end to reach CLOSE-WAIT", |i| {
            i.state == CLOSE_WAIT
        })?;
        zoo.add(&half, "TCP, connected to our IPv4 listener, half-closed");
        zoo.add(&half_accepted, "TCP, accepted, its peer half-closed");
        zoo.keep(half);
        zoo.keep(half_accepted);

        // A listener whose queue is full. With a backlog of 0 the queue holds one connection;
        // once it does, the kernel drops every SYN, and a further connect stays in SYN-SENT
        // (resending its SYN until it gives up, after about two minutes).
        let full = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        full.bind(&SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
        full.listen(0)?;
        let full_addr: SocketAddr = full
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("the listener has no IP address"))?;
        zoo.add(&full, "TCP listener on IPv4, backlog 0, never accepts");
        let queued = TcpStream::connect(full_addr)?;
        wait_for(
            &full,
            "the full listener's queue to hold 1 connection",
            |i| i.queued == 1,
        )?;
        zoo.add(&queued, "TCP, connected, waiting in that listener's queue");
        let stuck = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        stuck.set_nonblocking(true)?;
        match stuck.connect(&full_addr.into()) {
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Ok(()) => return Err(io::Error::other("a connect to a full queue succeeded")),
            Err(e) => return Err(e),
        }
        wait_for(
            &stuck,
            "a connect to the full listener to be in SYN-SENT",
            |i| i.state == SYN_SENT,
        )?;
        // The queued connection was established before; check it still is.
        wait_for(&queued, "the queued connection to be established", |i| {
            i.state == ESTABLISHED
        })?;
        zoo.add(&stuck, "TCP, connecting to that listener: no answer");
        zoo.keep(full);
        zoo.keep(queued);
        zoo.keep(stuck);

        // UDP: a bound socket and one connected to it, on each family.
        for (ip, family) in [
            (SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), "IPv4"),
            (SocketAddr::from((Ipv6Addr::LOCALHOST, 0)), "IPv6"),
        ] {
            let bound = UdpSocket::bind(ip)?;
            zoo.add(&bound, &format!("UDP on {family}, bound, not connected"));
            let connected = UdpSocket::bind(ip)?;
            connected.connect(bound.local_addr()?)?;
            zoo.add(
                &connected,
                &format!("UDP on {family}, connected to the one above"),
            );
            zoo.keep(bound);
            zoo.keep(connected);
        }

        // A second descriptor for the IPv4 listener: one socket, one more line.
        let dup = listen4.try_clone()?;
        zoo.add(&dup, "the IPv4 listener again (a dup of its descriptor)");
        zoo.keep(dup);

        // Sockets that are neither TCP nor UDP: their links say `socket:[INODE]` too, but they
        // are in no table of /proc/net/{tcp,udp}{,6}.
        let (a, b) = UnixStream::pair()?;
        zoo.add(&a, "a Unix socket (not TCP or UDP)");
        zoo.add(&b, "its other end");
        zoo.keep(a);
        zoo.keep(b);

        zoo.keep(listen4);
        zoo.keep(listen6);
        let mut animals = zoo.animals;
        animals.sort_by_key(|a| a.fd);
        Ok(Zoo {
            animals,
            _held: zoo.held,
        })
    }

    /// Every descriptor the zoo opened, by descriptor number.
    pub fn animals(&self) -> &[Animal] {
        &self.animals
    }
}

#[derive(Default)]
struct Builder {
    animals: Vec<Animal>,
    held: Vec<OwnedFd>,
}

impl Builder {
    fn add(&mut self, fd: &impl AsRawFd, what: &str) {
        self.animals.push(Animal {
            fd: fd.as_raw_fd(),
            what: what.to_string(),
        });
    }

    fn keep(&mut self, fd: impl Into<OwnedFd>) {
        self.held.push(fd.into());
    }
}

/// What `getsockopt(TCP_INFO)` says about a TCP socket.
#[derive(Clone, Copy, Debug)]
pub struct TcpInfo {
    /// The kernel's state number: 1 ESTABLISHED ... 10 LISTEN.
    pub state: u8,
    /// For a listener, the connections in its queue that nobody has accepted yet (what `ss`
    /// shows as its Recv-Q).
    pub queued: u32,
}

/// Asks the kernel for a TCP socket's state.
pub fn tcp_info(fd: &impl AsRawFd) -> io::Result<TcpInfo> {
    // SAFETY: tcp_info is plain old data; the kernel fills at most `len` bytes of it.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the pointer and length describe `info`, which outlives the call.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(TcpInfo {
        state: info.tcpi_state,
        queued: info.tcpi_unacked,
    })
}

/// Waits until the socket's state satisfies `reached`. The kernel offers no event for a state
/// change seen from the outside, so this asks again, yielding in between, until the deadline.
fn wait_for(fd: &impl AsRawFd, what: &str, reached: impl Fn(&TcpInfo) -> bool) -> io::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let info = tcp_info(fd)?;
        if reached(&info) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out waiting for {what} (state {})", info.state),
            ));
        }
        std::thread::yield_now();
    }
}
