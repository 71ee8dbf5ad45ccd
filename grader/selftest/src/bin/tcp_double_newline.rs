//! # `tcp_double_newline`: known-bad, prints an empty line after every reply
//!
//! Known-bad: the grader must reject it. `read_until` keeps the newline it stops at; this program
//! leaves it in the reply and then prints the reply with a newline of its own, so every reply is
//! followed by an empty line.
//!
//! The mistake: not knowing which end of a line is whose. The reply is the bytes before the
//! newline; a line read with `read_until` (or `read_line`) still ends in it, and `println!` adds
//! another.
//!
//! Everything else is as the contract says. Symptom: every reply is printed, each followed by an
//! empty line the server never sent.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with WrongOutput

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
    // The mistake: the newline that `read_until` keeps stays in the line, and `print_line`
    // adds its own.
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
