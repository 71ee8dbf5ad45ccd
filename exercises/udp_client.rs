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
#[allow(unused_imports)]
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
#[allow(unused_variables)]
fn resolve_server(host: &str, port: u16) -> Result<SocketAddr> {
    // TODO: Turn `host` and `port` into the server's socket address with `ToSocketAddrs`, which
    // parses an IPv4 or IPv6 literal and resolves a name. Chapter 2, section "Addresses and names".
    todo!("resolve HOST PORT into the server's address")
}
// ANCHOR_END: resolve

// ANCHOR: open_socket
/// One socket for the whole conversation, on a port the kernel picks.
#[allow(unused_variables)]
fn open_socket(server: SocketAddr) -> Result<UdpSocket> {
    // TODO: Bind one UDP socket to the unspecified address of the server's family (0.0.0.0 or ::)
    // and port 0, so the kernel picks a free port. Chapter 2, section "bind: the client's own
    // address".
    todo!("bind a UDP socket on an ephemeral port")
}
// ANCHOR_END: open_socket

// ANCHOR: exchange
/// Sends `request` to `server` and waits for the reply, sending again when none comes. Returns
/// the reply's length in `reply`.
#[allow(unused_variables)]
fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    request: &[u8],
    reply: &mut [u8],
) -> Result<usize> {
    // TODO: Send `request` to `server` as one datagram, then wait for the reply with
    // `wait_for_reply`. When it gives up, send again: `TRIES` tries in all, then fail with
    // "no reply from SERVER after 3 tries". Chapter 2, sections "sendto and recvfrom" and "Lost
    // datagrams".
    todo!("send the request and wait for the reply, {TRIES} tries")
}
// ANCHOR_END: exchange

// ANCHOR: wait_for_reply
/// Waits up to `TRY_WAIT` for a datagram from `server`. `None` when the time is up.
#[allow(unused_variables, dead_code)]
fn wait_for_reply(
    socket: &UdpSocket,
    server: SocketAddr,
    reply: &mut [u8],
) -> Result<Option<usize>> {
    // TODO: Wait `TRY_WAIT` in all, strangers' datagrams included (a deadline, and a read timeout
    // of what is left of it), for a datagram from `server`: `recv_from` says who sent each
    // datagram, and the others are ignored. Return `Ok(None)` when the time is up. Chapter 2,
    // sections "Who sent this?" and "Lost datagrams".
    todo!("receive the reply, ignore strangers, give up after {TRY_WAIT:?}")
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
