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
fn connect(host: &str, port: u16) -> Result<TcpStream> {
    // `to_socket_addrs` parses a literal, or asks the resolver (`getaddrinfo`) about a name. A
    // name may have several addresses (`localhost` is often both ::1 and 127.0.0.1) and the
    // server may listen on only one of them, so we try them all, as `TcpStream::connect` does.
    let addresses: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .collect();
    let mut last_error = anyhow!("{host} has no address");
    for address in addresses {
        match TcpStream::connect(address) {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                last_error = anyhow::Error::new(e).context(format!("cannot connect to {address}"))
            }
        }
    }
    Err(last_error)
}
// ANCHOR_END: connect

// ANCHOR: send_line
/// Sends `line` and a newline.
fn send_line(stream: &mut TcpStream, line: &[u8]) -> Result<()> {
    // One buffer, one write: the line and its newline leave together. `write` may take only part
    // of what it is given when the socket's send buffer is full; `write_all` writes until it has
    // taken everything.
    let mut message = Vec::with_capacity(line.len() + 1);
    message.extend_from_slice(line);
    message.push(b'\n');
    stream
        .write_all(&message)
        .context("cannot send to the server")
}
// ANCHOR_END: send_line

// ANCHOR: read_line
/// Reads one line from the server, without its newline. `None` when the server has closed.
fn read_line(replies: &mut BufReader<TcpStream>) -> Result<Option<Vec<u8>>> {
    // A stream has no message boundaries: one `read` may return half a line, or a line and a
    // half. `read_until` reads until the newline, and keeps what came after it in the buffer for
    // the next call.
    let mut line = Vec::new();
    let len = replies
        .read_until(b'\n', &mut line)
        .context("cannot read from the server")?;
    if len == 0 {
        // Zero bytes is the end of the stream: the server closed its side.
        return Ok(None);
    }
    // A last line cut short by the close has no newline; it is still a line.
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(Some(line))
}
// ANCHOR_END: read_line

// ANCHOR: finish
/// At the end of input: half-close, then print every line the server still sends until it closes.
fn finish(
    stream: &TcpStream,
    replies: &mut BufReader<TcpStream>,
    output: &mut impl Write,
) -> Result<()> {
    // `shutdown(Write)` sends a FIN: the server reads the end of the stream, and knows we are
    // done, while our side stays open for reading. Closing the socket instead would throw away
    // whatever the server still sends.
    stream
        .shutdown(Shutdown::Write)
        .context("cannot shut down the sending side")?;
    while let Some(line) = read_line(replies)? {
        print_line(output, &line)?;
    }
    Ok(())
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
