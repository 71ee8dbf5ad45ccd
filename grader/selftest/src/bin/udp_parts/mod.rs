//! A `udp_client` with one mistake to choose: each known-bad `udp_*` program built on it makes
//! exactly one ([`Mistake`]) and keeps the rest of the contract. Not a program itself (a folder
//! without `main.rs`); the programs include it with `mod udp_parts;`.

// Each program makes one mistake: the other variants are never built in it.
#![allow(dead_code)]

use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const TRY_WAIT: Duration = Duration::from_secs(1);
const TRIES: u32 = 3;
const BUFFER: usize = 65536;

/// The mistakes, one per known-bad program.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mistake {
    /// Wrong usage exits 1, like any other error.
    UsageExitsOne,
    /// Reads the whole of standard input before it sends the first line.
    ReadsAllFirst,
    /// Never gives up: sends again every second, for ever.
    RetriesForever,
    /// A new socket (a new port) for every line.
    SocketPerLine,
    /// Makes itself not dumpable at start, so its /proc/PID/fd is root's.
    NotDumpable,
    /// Calls `abort()` when no reply comes after 3 tries, instead of reporting it.
    AbortsWhenGivingUp,
    /// Waits 0.5 s for the reply after each try, not 1 s.
    ShortWait,
    /// Sends, sleeps the whole second, then takes what has come.
    SleepsThenReads,
    /// Sets the 1 s read timeout once and waits again in full after each stranger's datagram.
    RestartsWaitOnStranger,
    /// Binds `[::]` whatever the server's family, and compares the sender with the server's
    /// address as it was resolved (127.0.0.1), which an IPv4-mapped `::ffff:127.0.0.1` never
    /// equals.
    DualStackSocket,
    /// Takes an expired read timeout for an error and stops there.
    TimeoutIsFatal,
    /// Sends each line with its newline.
    SendsNewline,
    /// Compares only the sender's IP address with the server's.
    ComparesIpOnly,
    /// Compares only the sender's port with the server's.
    ComparesPortOnly,
}

pub fn main(mistake: Mistake) -> ExitCode {
    if mistake == Mistake::NotDumpable {
        // SAFETY: PR_SET_DUMPABLE only changes a flag of this process.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0);
        }
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match args.as_slice() {
        [_, port] => port.parse::<u16>().ok().filter(|&p| p != 0),
        _ => None,
    };
    let Some(port) = port else {
        eprintln!("usage: udp_client HOST PORT");
        return ExitCode::from(if mistake == Mistake::UsageExitsOne {
            1
        } else {
            2
        });
    };
    match run(&args[0], port, mistake) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if mistake == Mistake::AbortsWhenGivingUp {
                std::process::abort();
            }
            eprintln!("udp_client: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_socket(server: SocketAddr, mistake: Mistake) -> Result<UdpSocket> {
    let local: SocketAddr = match server {
        _ if mistake == Mistake::DualStackSocket => (Ipv6Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).with_context(|| format!("cannot bind to {local}"))?;
    if mistake == Mistake::RestartsWaitOnStranger {
        socket.set_read_timeout(Some(TRY_WAIT))?;
    }
    Ok(socket)
}

fn run(host: &str, port: u16, mistake: Mistake) -> Result<()> {
    let server = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{host} has no address"))?;
    let mut socket = open_socket(server, mistake)?;
    let mut reply = vec![0; BUFFER];
    let mut output = io::stdout().lock();
    let mut lines: Box<dyn Iterator<Item = io::Result<Vec<u8>>>> =
        Box::new(io::stdin().lock().split(b'\n'));
    if mistake == Mistake::ReadsAllFirst {
        let all: Vec<io::Result<Vec<u8>>> = lines.collect();
        lines = Box::new(all.into_iter());
    }
    for request in lines {
        let mut request = request.context("cannot read standard input")?;
        if mistake == Mistake::SendsNewline {
            request.push(b'\n');
        }
        if mistake == Mistake::SocketPerLine {
            socket = open_socket(server, mistake)?;
        }
        let len = exchange(&socket, server, &request, &mut reply, mistake)?;
        output.write_all(&reply[..len])?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    request: &[u8],
    reply: &mut [u8],
    mistake: Mistake,
) -> Result<usize> {
    let tries = if mistake == Mistake::RetriesForever {
        u32::MAX
    } else {
        TRIES
    };
    let wait = if mistake == Mistake::ShortWait {
        TRY_WAIT / 2
    } else {
        TRY_WAIT
    };
    for _try in 1..=tries {
        socket
            .send_to(request, server)
            .with_context(|| format!("cannot send to {server}"))?;
        let found = match mistake {
            Mistake::SleepsThenReads => sleep_then_read(socket, server, reply, wait)?,
            Mistake::RestartsWaitOnStranger => wait_restarting(socket, server, reply)?,
            _ => wait_for_reply(socket, server, reply, wait, mistake)?,
        };
        if let Some(len) = found {
            return Ok(len);
        }
    }
    bail!("no reply from {server} after {TRIES} tries")
}

/// Whether a datagram from `from` is the server's, as the mistake compares them.
fn from_server(from: SocketAddr, server: SocketAddr, mistake: Mistake) -> bool {
    match mistake {
        Mistake::ComparesIpOnly => from.ip() == server.ip(),
        Mistake::ComparesPortOnly => from.port() == server.port(),
        _ => from == server,
    }
}

fn wait_for_reply(
    socket: &UdpSocket,
    server: SocketAddr,
    reply: &mut [u8],
    wait: Duration,
    mistake: Mistake,
) -> Result<Option<usize>> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left))?;
        match socket.recv_from(reply) {
            Ok((len, from)) if from_server(from, server, mistake) => return Ok(Some(len)),
            Ok(_stranger) => continue,
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    if mistake != Mistake::TimeoutIsFatal =>
                {
                    return Ok(None);
                }
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e).with_context(|| format!("cannot receive from {server}")),
            },
        }
    }
}

/// The whole wait as a sleep, then whatever has come, without waiting.
fn sleep_then_read(
    socket: &UdpSocket,
    server: SocketAddr,
    reply: &mut [u8],
    wait: Duration,
) -> Result<Option<usize>> {
    std::thread::sleep(wait);
    socket.set_nonblocking(true)?;
    let found = loop {
        match socket.recv_from(reply) {
            Ok((len, from)) if from == server => break Some(len),
            Ok(_stranger) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
            Err(e) => return Err(e).with_context(|| format!("cannot receive from {server}")),
        }
    };
    socket.set_nonblocking(false)?;
    Ok(found)
}

/// The read timeout set once, in `open_socket`: every `recv_from` waits a whole second again.
fn wait_restarting(
    socket: &UdpSocket,
    server: SocketAddr,
    reply: &mut [u8],
) -> Result<Option<usize>> {
    loop {
        match socket.recv_from(reply) {
            Ok((len, from)) if from == server => return Ok(Some(len)),
            Ok(_stranger) => continue,
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => return Ok(None),
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e).with_context(|| format!("cannot receive from {server}")),
            },
        }
    }
}
