//! The load generator of chapter 6: many concurrent connections to an echo server, every reply
//! checked, and what it cost measured.
//!
//! It is itself an event loop (non-blocking sockets and `poll`), so that ten thousand
//! connections cost it ten thousand descriptors and a few hundred bytes each, not ten thousand
//! threads. The run has three phases:
//!
//! 1. **connect** all N connections (at most [`Load::connect_batch`] in progress at once) and
//!    hold them open: connections per second is N over this phase's length;
//! 2. **talk**: on each connection, M messages, one at a time, each sent once the echo of the
//!    one before has come back and the think time has passed. Every echo is compared with what
//!    was sent; the time from send to complete echo is one latency sample;
//! 3. **close**: each connection half-closes after its last echo and waits for the server's end
//!    of stream.
//!
//! With the server's pid, it reads the server's resident memory (`VmRSS`, and `Pss` from
//! `smaps_rollup`, summed over the server and all its descendants, as a fork server's children
//! are) before the run, and again once every connection has had its first echo (so the server
//! has surely accepted each one and made whatever it makes per client), before any closes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::line_protocol;

/// What to run.
#[derive(Clone, Debug)]
pub struct Load {
    pub server: SocketAddr,
    pub connections: usize,
    pub messages: usize,
    pub think: Duration,
    /// Bytes per message, newline included.
    pub size: usize,
    /// The whole run ends at this deadline; what is unfinished counts as errors.
    pub timeout: Duration,
    /// Connections being set up at once.
    pub connect_batch: usize,
    /// The server's pid, to read its memory.
    pub pid: Option<i32>,
}

/// Errors by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Errors {
    pub by_kind: BTreeMap<&'static str, usize>,
}

impl Errors {
    fn add(&mut self, kind: &'static str) {
        *self.by_kind.entry(kind).or_default() += 1;
    }

    pub fn total(&self) -> usize {
        self.by_kind.values().sum()
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub load: Load,
    /// Connections that were open at the same time, at the end of the connect phase.
    pub held: usize,
    pub connect_time: Duration,
    pub talk_time: Duration,
    pub replies: usize,
    /// Send-to-echo latencies, sorted.
    pub latencies: Vec<Duration>,
    pub errors: Errors,
    /// A system limit the run ran into, said plainly.
    pub limit: Option<String>,
    /// The server's memory in KiB (RSS, PSS) before the run, and with every connection served
    /// once and still open.
    pub memory_before: Option<(u64, u64)>,
    pub memory_held: Option<(u64, u64)>,
}

impl Report {
    pub fn connections_per_second(&self) -> f64 {
        self.held as f64 / self.connect_time.as_secs_f64().max(1e-9)
    }

    pub fn messages_per_second(&self) -> f64 {
        self.replies as f64 / self.talk_time.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0.5 for the median).
    pub fn percentile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[i - 1]
    }

    pub fn max_latency(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }

    /// Memory per held connection in KiB: (RSS, PSS) growth over the run's connections.
    pub fn memory_per_connection(&self) -> Option<(f64, f64)> {
        let ((rss0, pss0), (rss1, pss1)) = (self.memory_before?, self.memory_held?);
        let n = self.held.max(1) as f64;
        Some((
            rss1.saturating_sub(rss0) as f64 / n,
            pss1.saturating_sub(pss0) as f64 / n,
        ))
    }

    /// The report a person reads.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let l = &self.load;
        let _ = writeln!(
            t,
            "load: {} connections to {}, {} messages of {} bytes each, think {} ms",
            l.connections,
            l.server,
            l.messages,
            l.size,
            l.think.as_millis()
        );
        let _ = writeln!(
            t,
            "connections held at once: {} of {} ({:.0} connections/s)",
            self.held,
            l.connections,
            self.connections_per_second()
        );
        let _ = writeln!(
            t,
            "replies: {} of {}, every one checked ({:.0} messages/s)",
            self.replies,
            l.connections * l.messages,
            self.messages_per_second()
        );
        let _ = writeln!(
            t,
            "latency: p50 {} us, p99 {} us, max {} us",
            self.percentile(0.5).as_micros(),
            self.percentile(0.99).as_micros(),
            self.max_latency().as_micros()
        );
        if let (Some((rss0, pss0)), Some((rss1, pss1))) = (self.memory_before, self.memory_held) {
            let (per_rss, per_pss) = self.memory_per_connection().unwrap_or_default();
            let _ = writeln!(
                t,
                "server memory: RSS {rss0} -> {rss1} KiB, PSS {pss0} -> {pss1} KiB; per \
                 connection: RSS {per_rss:.1} KiB, PSS {per_pss:.1} KiB"
            );
        }
        if self.errors.total() == 0 {
            let _ = writeln!(t, "errors: 0");
        } else {
            let kinds: Vec<String> = self
                .errors
                .by_kind
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            let _ = writeln!(t, "errors: {} ({})", self.errors.total(), kinds.join(", "));
        }
        if let Some(limit) = &self.limit {
            let _ = writeln!(t, "system limit: {limit}");
        }
        t
    }

    pub const CSV_HEADER: &'static str = "label,connections,messages,think_ms,held,conn_per_s,\
        msg_per_s,p50_us,p99_us,max_us,errors,rss_kib,pss_kib,rss_per_conn_kib,pss_per_conn_kib,replies";

    /// One CSV row, for `plot`.
    pub fn csv(&self, label: &str) -> String {
        let (rss, pss) = self.memory_held.unwrap_or_default();
        let (per_rss, per_pss) = self.memory_per_connection().unwrap_or_default();
        format!(
            "{label},{},{},{},{},{:.0},{:.0},{},{},{},{},{rss},{pss},{per_rss:.2},{per_pss:.2},{}",
            self.load.connections,
            self.load.messages,
            self.load.think.as_millis(),
            self.held,
            self.connections_per_second(),
            self.messages_per_second(),
            self.percentile(0.5).as_micros(),
            self.percentile(0.99).as_micros(),
            self.max_latency().as_micros(),
            self.errors.total(),
            self.replies,
        )
    }
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Connecting,
    /// Connected, waiting for the talk phase or the think time.
    Idle,
    /// Message sent (maybe partly), waiting for its echo.
    Awaiting,
    /// Half-closed after the last echo, waiting for the server's end of stream.
    Closing,
    Done,
}

struct Conn {
    id: usize,
    socket: Option<TcpStream>,
    state: State,
    /// Messages whose echo came back right.
    done: usize,
    /// The message in flight, and how much of it was written.
    sent: Vec<u8>,
    written: usize,
    received: Vec<u8>,
    sent_at: Instant,
    next_send: Instant,
}

impl Conn {
    fn message(&self, size: usize) -> Vec<u8> {
        // Unique per connection and message, so that an echo to the wrong connection, or a
        // stale one, is caught.
        let mut m = format!("c{} m{} ", self.id, self.done).into_bytes();
        while m.len() + 1 < size {
            m.push(b'a' + (m.len() % 26) as u8);
        }
        m.push(b'\n');
        m
    }
}

/// Runs the load and reports. Fails only when the run could not start at all.
pub fn run(load: &Load) -> io::Result<Report> {
    let limit = line_protocol::raise_fd_limit()?;
    // Each connection is one descriptor here; a few more for standard streams and /proc.
    let needed = load.connections as u64 + 16;
    if needed > limit {
        return Err(io::Error::other(format!(
            "{} connections need about {needed} descriptors, and this system allows {limit} per \
             process (ulimit -n; the hard limit is the most it can be raised to)",
            load.connections
        )));
    }
    let started = Instant::now();
    let deadline = started + load.timeout;
    let mut report = Report {
        load: load.clone(),
        held: 0,
        connect_time: Duration::ZERO,
        talk_time: Duration::ZERO,
        replies: 0,
        latencies: Vec::with_capacity(load.connections * load.messages),
        errors: Errors::default(),
        limit: None,
        memory_before: load.pid.and_then(memory_of_tree),
        memory_held: None,
    };
    let mut conns: Vec<Conn> = (0..load.connections)
        .map(|id| Conn {
            id,
            socket: None,
            state: State::Connecting,
            done: 0,
            sent: Vec::new(),
            written: 0,
            received: Vec::new(),
            sent_at: started,
            next_send: started,
        })
        .collect();

    // Phase 1: connect, at most `connect_batch` at a time.
    let mut next = 0;
    let mut in_progress = 0;
    let mut finished = 0;
    while finished < conns.len() && Instant::now() < deadline {
        while in_progress < load.connect_batch && next < conns.len() {
            match start_connect(load.server) {
                Ok(socket) => {
                    conns[next].socket = Some(socket);
                    in_progress += 1;
                }
                Err(e) => {
                    note_limit(&mut report, &e);
                    report.errors.add("connect failed");
                    conns[next].state = State::Done;
                    finished += 1;
                }
            }
            next += 1;
        }
        let pending: Vec<usize> = (0..next)
            .filter(|&i| conns[i].state == State::Connecting && conns[i].socket.is_some())
            .collect();
        let ready = wait(&conns, &pending, |_| PollFlags::POLLOUT, deadline)?;
        for (i, events) in ready {
            if events.is_empty() {
                continue;
            }
            in_progress -= 1;
            finished += 1;
            let socket = conns[i].socket.as_ref().expect("connecting");
            match socket.take_error() {
                Ok(None) if socket.peer_addr().is_ok() => conns[i].state = State::Idle,
                Ok(Some(e)) | Err(e) => {
                    note_limit(&mut report, &e);
                    report.errors.add("connect failed");
                    conns[i].state = State::Done;
                    conns[i].socket = None;
                }
                Ok(None) => {
                    report.errors.add("connect failed");
                    conns[i].state = State::Done;
                    conns[i].socket = None;
                }
            }
        }
    }
    report.connect_time = started.elapsed();
    report.held = conns.iter().filter(|c| c.state == State::Idle).count();
    for c in conns.iter_mut().filter(|c| c.state == State::Connecting) {
        report.errors.add("connect timed out");
        c.state = State::Done;
        c.socket = None;
    }

    // Phase 2 and 3: talk, then close. The first messages are spread over one think time, so
    // that the connections do not all speak in the same instant.
    let talk_start = Instant::now();
    let n = conns.len().max(1) as u32;
    for (i, c) in conns.iter_mut().enumerate() {
        c.next_send = talk_start + load.think * (i as u32) / n;
    }
    let mut buf = vec![0u8; 64 * 1024];
    // A connection is surely accepted and being served (its thread, process or entry in the
    // server exists) once its first echo is back; so the second messages wait until every
    // connection has its first echo, and the server's memory is read at that moment.
    let mut first_round_done = load.pid.is_none() || report.held == 0;
    loop {
        let now = Instant::now();
        if !first_round_done
            && conns
                .iter()
                .all(|c| c.done >= 1 || !matches!(c.state, State::Idle | State::Awaiting))
        {
            first_round_done = true;
            report.memory_held = load.pid.and_then(memory_of_tree);
        }
        let waits = |c: &Conn| c.done >= 1 && !first_round_done;
        // Send whatever is due.
        for c in conns.iter_mut() {
            if c.state == State::Idle && c.next_send <= now && !waits(c) {
                if c.done == load.messages {
                    let _ = c
                        .socket
                        .as_ref()
                        .map(|s| s.shutdown(std::net::Shutdown::Write));
                    c.state = State::Closing;
                    continue;
                }
                c.sent = c.message(load.size);
                c.written = 0;
                c.received.clear();
                c.sent_at = now;
                c.state = State::Awaiting;
                if let Err(kind) = flush(c) {
                    report.errors.add(kind);
                    finish(c);
                }
            }
        }
        let active: Vec<usize> = (0..conns.len())
            .filter(|&i| matches!(conns[i].state, State::Awaiting | State::Closing))
            .collect();
        if active.is_empty() && conns.iter().all(|c| c.state != State::Idle) {
            break;
        }
        if Instant::now() >= deadline {
            for c in conns.iter_mut().filter(|c| c.state != State::Done) {
                report.errors.add("timed out");
                finish(c);
            }
            break;
        }
        // Sleep in poll until a socket is ready or the next send is due.
        let next_due = conns
            .iter()
            .filter(|c| c.state == State::Idle && !waits(c))
            .map(|c| c.next_send)
            .min()
            .unwrap_or(deadline)
            .min(deadline);
        let interest = |c: &Conn| {
            let mut f = PollFlags::POLLIN;
            if c.written < c.sent.len() {
                f |= PollFlags::POLLOUT;
            }
            f
        };
        let ready = wait(&conns, &active, interest, next_due)?;
        for (i, events) in ready {
            if events.is_empty() {
                continue;
            }
            let c = &mut conns[i];
            if c.written < c.sent.len()
                && let Err(kind) = flush(c)
            {
                report.errors.add(kind);
                finish(c);
                continue;
            }
            match receive(c, &mut buf, load) {
                Ok(Some(latency)) => {
                    report.replies += 1;
                    report.latencies.push(latency);
                }
                Ok(None) => {}
                Err(kind) => {
                    report.errors.add(kind);
                    finish(c);
                }
            }
        }
    }
    report.talk_time = talk_start.elapsed();
    report.latencies.sort_unstable();
    Ok(report)
}

fn finish(c: &mut Conn) {
    c.state = State::Done;
    c.socket = None;
}

/// Reads what arrived. `Some(latency)` when an echo completed and was right.
fn receive(c: &mut Conn, buf: &mut [u8], load: &Load) -> Result<Option<Duration>, &'static str> {
    let socket = c.socket.as_mut().ok_or("no socket")?;
    let n = match socket.read(buf) {
        Ok(n) => n,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            return Ok(None);
        }
        Err(_) => return Err("connection reset"),
    };
    match c.state {
        State::Closing if n == 0 => {
            finish(c);
            Ok(None)
        }
        State::Closing => Err("unexpected bytes after the last echo"),
        _ if n == 0 => Err("closed by the server before the echo"),
        _ => {
            c.received.extend_from_slice(&buf[..n]);
            if c.received.len() < c.sent.len() {
                return Ok(None);
            }
            if c.received != c.sent {
                return Err("wrong echo");
            }
            let latency = c.sent_at.elapsed();
            c.done += 1;
            c.state = State::Idle;
            c.next_send = Instant::now() + load.think;
            Ok(Some(latency))
        }
    }
}

fn flush(c: &mut Conn) -> Result<(), &'static str> {
    let socket = c.socket.as_mut().ok_or("no socket")?;
    while c.written < c.sent.len() {
        match socket.write(&c.sent[c.written..]) {
            Ok(n) => c.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err("connection reset"),
        }
    }
    Ok(())
}

/// A non-blocking `connect`: it returns at once (EINPROGRESS), and the socket becomes writable
/// when the handshake is done.
fn start_connect(server: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(server),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&SockAddr::from(server)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// Polls the connections `which` until one is ready or `until`; their events, in order.
fn wait(
    conns: &[Conn],
    which: &[usize],
    interest: impl Fn(&Conn) -> PollFlags,
    until: Instant,
) -> io::Result<Vec<(usize, PollFlags)>> {
    let mut fds: Vec<PollFd<'_>> = which
        .iter()
        .map(|&i| {
            let socket = conns[i].socket.as_ref().expect("an open connection");
            PollFd::new(socket.as_fd(), interest(&conns[i]))
        })
        .collect();
    let left = until.saturating_duration_since(Instant::now());
    // Rounded up, so that a wait for a due time never returns just before it, again and again.
    let ms = left.as_micros().div_ceil(1000).min(60_000) as u16;
    match poll(&mut fds, PollTimeout::from(ms)) {
        Ok(_) | Err(Errno::EINTR) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(which
        .iter()
        .zip(fds.iter())
        .map(|(&i, f)| (i, f.revents().unwrap_or(PollFlags::empty())))
        .collect())
}

/// Says plainly when an error is a system limit rather than the server's doing.
fn note_limit(report: &mut Report, e: &io::Error) {
    let limit = match e.raw_os_error() {
        Some(libc::EMFILE) => "too many open files in this process (ulimit -n)",
        Some(libc::ENFILE) => "too many open files in the whole system (fs.file-max)",
        Some(libc::EADDRNOTAVAIL) => {
            "no free local port left for a new connection (net.ipv4.ip_local_port_range)"
        }
        Some(libc::ENOBUFS) | Some(libc::ENOMEM) => "the kernel is out of memory for sockets",
        _ => return,
    };
    report.limit.get_or_insert_with(|| limit.to_string());
}

/// RSS and PSS in KiB of `pid` and all its descendants; `None` when `pid` is gone.
pub fn memory_of_tree(pid: i32) -> Option<(u64, u64)> {
    let mut tree = vec![pid];
    let mut parents: Vec<(i32, i32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Some(ppid) = parent_of(p) {
            parents.push((p, ppid));
        }
    }
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    let (mut rss, mut pss) = (0, 0);
    let mut seen = false;
    for p in tree {
        // A process that ends while we read simply adds nothing.
        if let Some(kib) = field_kib(&format!("/proc/{p}/status"), "VmRSS:") {
            rss += kib;
            seen = true;
        }
        pss += field_kib(&format!("/proc/{p}/smaps_rollup"), "Pss:").unwrap_or(0);
    }
    seen.then_some((rss, pss))
}

fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE PPID": COMM may hold spaces, so split after its last ')'.
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split(' ').nth(1)?.parse().ok()
}

fn field_kib(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_taken_from_sorted_samples() {
        let report = Report {
            load: Load {
                server: "127.0.0.1:1".parse().unwrap(),
                connections: 1,
                messages: 100,
                think: Duration::ZERO,
                size: 16,
                timeout: Duration::from_secs(1),
                connect_batch: 1,
                pid: None,
            },
            held: 1,
            connect_time: Duration::from_secs(1),
            talk_time: Duration::from_secs(1),
            replies: 100,
            latencies: (1..=100).map(Duration::from_micros).collect(),
            errors: Errors::default(),
            limit: None,
            memory_before: None,
            memory_held: None,
        };
        assert_eq!(report.percentile(0.5), Duration::from_micros(50));
        assert_eq!(report.percentile(0.99), Duration::from_micros(99));
        assert_eq!(report.max_latency(), Duration::from_micros(100));
    }

    #[test]
    fn reads_its_own_memory() {
        let (rss, _) = memory_of_tree(std::process::id() as i32).unwrap();
        assert!(rss > 0);
    }
}
