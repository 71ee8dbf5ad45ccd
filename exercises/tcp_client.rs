//! # `tcp_client`: a conversation over one TCP connection
//!
//! This program connects to a TCP line server once, sends each line you type and prints the
//! server's one-line reply. When your input ends it says so with a half-close (it stops sending
//! but keeps listening) and prints whatever the server still has to say, until the server closes.
//! TCP delivers a stream of bytes, not messages: a reply may arrive a byte at a time, or two at
//! once. This program reads whole lines whatever the pieces.
//!
//! Read chapter 3, "TCP", before you start; each `TODO` names the section that helps.
//!
//! Grade it with `cargo test -p grader -- tcp_client`; try it by hand with
//! `cargo run -p exercises --bin tcp_client -- 127.0.0.1 PORT` against the chapter's TCP server.
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
// `tcp_client HOST PORT`: connect once; for each line of standard input, send it with its
// newline, read the server's one reply line and print it on standard output before waiting for
// the next line of input. At the end of input, half-close (shut down the sending side), then
// print every further line the server sends until it closes the connection, and exit 0. When the
// connection cannot be made, or the server closes before replying, say so in one line on
// standard error and exit 1. HOST may be a name (`localhost`: try each of its addresses in turn
// until one accepts), an IPv4 or an IPv6 literal.
//
// Send each line and its newline in one write, so that the line reaches the server at once (in
// two writes every line waits about 40 ms: chapter 3, "One write per message"). A reply may come
// seconds after its line: wait for it, and print nothing in its place. Wrong usage (a missing or
// extra argument, a PORT that is not a number from 1 to 65535) prints a usage line on standard
// error and exits 2. Errors are one readable line on standard error (`tcp_client: cannot connect
// to 127.0.0.1:5000: Connection refused (os error 111)`), never a panic. Replies are printed as
// they arrive.
// ANCHOR_END: contract

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

// The tools for the TODOs.
#[allow(unused_imports)]
use {
    anyhow::anyhow,
    std::net::{Shutdown, ToSocketAddrs},
};

const USAGE: &str = "usage: tcp_client HOST PORT";

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
            // "cannot connect to 127.0.0.1:5000: Connection refused (os error 111)".
            eprintln!("tcp_client: {error:#}");
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
    let mut stream = connect(host, port)?;
    let server: SocketAddr = stream
        .peer_addr()
        .context("cannot tell whom we are connected to")?;
    // A TCP socket is one connection that carries bytes both ways. `try_clone` gives a second
    // handle on the same socket, so that one can read the replies through a buffer while the
    // other sends.
    let mut replies = BufReader::new(stream.try_clone().context("cannot clone the socket")?);
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut request = Vec::new();
    let mut number = 0;
    while read_input_line(&mut input, &mut request)? {
        number += 1;
        send_line(&mut stream, &request)?;
        match read_line(&mut replies)? {
            Some(reply) => print_line(&mut output, &reply)?,
            None => bail!("{server} closed the connection before replying to line {number}"),
        }
    }
    finish(&stream, &mut replies, &mut output)
}

// ANCHOR: connect
/// Connects to the server, trying each of HOST's addresses in turn.
#[allow(unused_variables)]
fn connect(host: &str, port: u16) -> Result<TcpStream> {
    // TODO: Resolve `host` and `port` with `ToSocketAddrs` and connect to each address in turn
    // until one accepts; when none does, fail with the last error ("cannot connect to ADDRESS").
    // Chapter 3, section "connect".
    todo!("connect to HOST PORT")
}
// ANCHOR_END: connect

// ANCHOR: send_line
/// Sends `line` and a newline.
#[allow(unused_variables)]
fn send_line(stream: &mut TcpStream, line: &[u8]) -> Result<()> {
    // TODO: Send `line` followed by a newline, all of it, in one write. Chapter 3, sections "send:
    // a stream of bytes" and "One write per message".
    todo!("send the line and its newline")
}
// ANCHOR_END: send_line

// ANCHOR: read_line
/// Reads one line from the server, without its newline. `None` when the server has closed.
#[allow(unused_variables)]
fn read_line(replies: &mut BufReader<TcpStream>) -> Result<Option<Vec<u8>>> {
    // TODO: Read bytes up to and including the next newline, however many reads that takes, and
    // return the line without its newline; `Ok(None)` when the server has closed (zero bytes).
    // Chapter 3, section "recv: no message boundaries".
    todo!("read one whole line from the server")
}
// ANCHOR_END: read_line

// ANCHOR: finish
/// At the end of input: half-close, then print every line the server still sends until it closes.
#[allow(unused_variables)]
fn finish(
    stream: &TcpStream,
    replies: &mut BufReader<TcpStream>,
    output: &mut impl Write,
) -> Result<()> {
    // TODO: Shut down the sending side of `stream` (a half-close), then print every line the
    // server still sends until it closes. Chapter 3, section "shutdown and close".
    todo!("half-close, then print the server's last lines")
}
// ANCHOR_END: finish

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
