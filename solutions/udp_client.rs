//! # `udp_client`: ask a UDP server, one datagram per line
//!
//! The first program of the course that talks over a network. It sends each line you type to a
//! UDP server as one datagram and prints the server's reply. UDP promises nothing: a datagram may
//! be lost, and anyone may send one to your socket. This program copes with both.
//!
//! Read chapter 2, "UDP", before you start; each `TODO` names the section that helps.
//!
//! Grade it with `cargo test -p grader -- udp_client`; try it by hand with
//! `cargo run -p exercises --bin udp_client -- 127.0.0.1 PORT` against the chapter's UDP server.
//!
//! An `#[allow(...)]` line in front of a stub or an import only keeps the compiler quiet about
//! what the unfinished program does not use yet: delete it when you are done.
//!
//! ## The contract
//!
//! The grader checks exactly this, and nothing else: you may rewrite the whole file as long as
//! the program keeps it.
//!
// ANCHOR: contract
// `udp_client HOST PORT`: for each line of standard input, send the line (without its newline)
// as one datagram to HOST:PORT from one socket on an ephemeral port, and print the reply datagram
// on its own line on standard output as soon as it arrives, before reading the next line. Only a
// datagram from the server's address and port is a reply: ignore all others. After each try,
// wait 1 s for the reply (others' datagrams do not make that second longer); if none comes, send
// the line again, 3 tries in all, then say so on standard error and exit 1. Exit 0 at the end of
// input. HOST may be a name (`localhost`; any of its addresses will do), an IPv4 or an IPv6
// literal.
//
// Wrong usage (not exactly two arguments, or a PORT that is not a number from 1 to 65535) prints
// one usage line on standard error, nothing on standard output, and exits 2. Errors are one
// readable line on standard error (`udp_client: no reply from 127.0.0.1:5000 after 3 tries`) and
// exit status 1, never a panic.
// ANCHOR_END: contract

use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

// The tools for the TODOs.
use {
    anyhow::bail,
    std::net::{Ipv4Addr, Ipv6Addr, ToSocketAddrs},
    std::time::Instant,
};

/// How long one try waits for the reply.
const TRY_WAIT: Duration = Duration::from_secs(1);
/// How many datagrams we send for one line before we give up.
const TRIES: u32 = 3;
/// The largest datagram UDP can carry (65,507 bytes of payload over IPv4) fits in this buffer. A
/// datagram longer than the buffer is cut, and the rest is lost for good.
const MAX_DATAGRAM: usize = 65536;

const USAGE: &str = "usage: udp_client HOST PORT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((host, port)) = parse_args(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the error and its causes on one line:
            // "cannot send to 127.0.0.1:5000: Network is unreachable (os error 101)".
            eprintln!("udp_client: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `HOST PORT` -> `(host, port)`, or `None` for anything else.
fn parse_args(args: &[String]) -> Option<(&str, u16)> {
    match args {
        [host, port] => match port.parse::<u16>() {
            Ok(port) if port != 0 => Some((host.as_str(), port)),
            _ => None,
        },
        _ => None,
    }
}

fn run(host: &str, port: u16) -> Result<()> {
    let server = resolve_server(host, port)?;
    let socket = open_socket(server)?;
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut request = Vec::new();
    let mut reply = vec![0; MAX_DATAGRAM];
    while read_input_line(&mut input, &mut request)? {
        let len = exchange(&socket, server, &request, &mut reply)?;
        print_line(&mut output, &reply[..len])?;
    }
    Ok(())
}

// ANCHOR: resolve
/// The server's address: HOST may be a name, an IPv4 literal or an IPv6 literal.
fn resolve_server(host: &str, port: u16) -> Result<SocketAddr> {
    // `to_socket_addrs` parses a literal, or asks the resolver (`getaddrinfo`) about a name. A
    // name may have several addresses; a datagram goes to one of them, so we take the first.
    (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{host} has no address"))
}
// ANCHOR_END: resolve

// ANCHOR: open_socket
/// One socket for the whole conversation, on a port the kernel picks.
fn open_socket(server: SocketAddr) -> Result<UdpSocket> {
    // The socket's family must be the server's: an IPv4 socket cannot send to an IPv6 address.
    // The unspecified address (0.0.0.0 or ::) lets the kernel choose the source address for each
    // datagram, and port 0 asks it for a free ("ephemeral") port, so any number of copies of this
    // program can run at once.
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    UdpSocket::bind(local).with_context(|| format!("cannot bind a UDP socket to {local}"))
}
// ANCHOR_END: open_socket

// ANCHOR: exchange
/// Sends `request` to `server` and waits for the reply, sending again when none comes. Returns
/// the reply's length in `reply`.
fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    request: &[u8],
    reply: &mut [u8],
) -> Result<usize> {
    for _try in 1..=TRIES {
        // `send_to` hands the whole datagram to the kernel at once, or fails: a datagram is never
        // sent in part. Its arrival is another matter, so it goes out again when no reply comes.
        socket
            .send_to(request, server)
            .with_context(|| format!("cannot send to {server}"))?;
        if let Some(len) = wait_for_reply(socket, server, reply)? {
            return Ok(len);
        }
    }
    bail!("no reply from {server} after {TRIES} tries")
}
// ANCHOR_END: exchange

// ANCHOR: wait_for_reply
/// Waits up to `TRY_WAIT` for a datagram from `server`. `None` when the time is up.
fn wait_for_reply(
    socket: &UdpSocket,
    server: SocketAddr,
    reply: &mut [u8],
) -> Result<Option<usize>> {
    let deadline = Instant::now() + TRY_WAIT;
    loop {
        // A stranger's datagram wakes us up too: what is left of the second is for the next
        // `recv_from`, so the whole try never lasts longer than `TRY_WAIT`.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket
            .set_read_timeout(Some(left))
            .context("cannot set the socket's read timeout")?;
        match socket.recv_from(reply) {
            // `recv_from` tells us who sent the datagram: anyone can send to our port, and only
            // the server's datagrams are replies.
            Ok((len, from)) if from == server => return Ok(Some(len)),
            Ok(_stranger) => continue,
            Err(e) => match e.kind() {
                // The time is up. (A timeout shows as `WouldBlock` on Unix, `TimedOut` on Windows.)
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => return Ok(None),
                // A signal interrupted the wait: wait again for what is left.
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e).with_context(|| format!("cannot receive from {server}")),
            },
        }
    }
}
// ANCHOR_END: wait_for_reply

/// Reads one line of standard input into `line`, without its newline. `false` at the end of input.
fn read_input_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Result<bool> {
    line.clear();
    // Bytes, not `String`: a line need not be UTF-8 to be sent.
    let len = input
        .read_until(b'\n', line)
        .context("cannot read standard input")?;
    if len == 0 {
        return Ok(false);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(true)
}

/// Prints `bytes` and a newline, at once: whoever reads our output sees each reply as it arrives.
fn print_line(output: &mut impl Write, bytes: &[u8]) -> Result<()> {
    output
        .write_all(bytes)
        .and_then(|()| output.write_all(b"\n"))
        .and_then(|()| output.flush())
        .context("cannot write to standard output")
}
