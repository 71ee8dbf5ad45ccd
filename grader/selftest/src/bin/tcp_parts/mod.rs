//! A `tcp_client` with one mistake to choose: each known-bad `tcp_*` program built on it makes
//! exactly one ([`Mistake`]) and keeps the rest of the contract. With the mistake left out it is
//! `solutions/tcp_client.rs`, function for function; each mistake is written where it happens,
//! marked `MISTAKE`. Not a program itself (a folder without `main.rs`); the programs include it
//! with `mod tcp_parts;`.
//!
//! `tcp_fake` (never connects) and `tcp_send_all_first` (no `BufReader`: a hand-split read loop,
//! and no reply before the input ends) are programs of another shape and stay standalone.

// Each program makes one mistake: the other variants are never built in it.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use socket2::SockRef;

const USAGE: &str = "usage: tcp_client HOST PORT";

/// The mistakes, one per known-bad program.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mistake {
    /// Wrong usage exits 1, like any other error (`tcp_usage_exit_1`).
    UsageExitsOne,
    /// Errors are swallowed: nothing on standard error, exit 0 (`tcp_silent_error`).
    SilentError,
    /// `unwrap` and `expect` on the connection and the reads (`tcp_panics`).
    Panics,
    /// Tries only the first IPv4 address of HOST (`tcp_ipv4_only`).
    Ipv4Only,
    /// Holds a listening socket it never uses (`tcp_stray_socket`).
    StraySocket,
    /// Gives up on a reply after one second (`tcp_read_timeout`).
    ReadTimeout,
    /// Opens a log file for every line and keeps it open (`tcp_leaks_fd`).
    LeaksFd,
    /// A new connection for every line (`tcp_connect_per_line`).
    ConnectionPerLine,
    /// Sends each line without its newline (`tcp_no_newline`).
    NoNewline,
    /// Sends each line and its newline in two writes (`tcp_two_writes`).
    TwoWrites,
    /// Takes one `read` for one reply (`tcp_one_read`).
    OneRead,
    /// Leaves the newline in the reply, and prints another (`tcp_double_newline`).
    DoubleNewline,
    /// Reads each reply with `read_to_end` (`tcp_reads_to_end`).
    ReadsToEnd,
    /// Exits at the end of input, without a half-close or reading on (`tcp_exit_at_eof`).
    ExitAtEof,
    /// Never half-closes, and reads on (`tcp_no_half_close`).
    NoHalfClose,
    /// Ends with SO_LINGER 0 and a close: a reset (`tcp_reset_at_end`).
    ResetAtEnd,
}

pub fn main(mistake: Mistake) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((host, port)) = parse_args(&args) else {
        eprintln!("{USAGE}");
        return if mistake == Mistake::UsageExitsOne {
            // MISTAKE: by convention a wrong command line exits 2, so that a script can tell
            // "you called me wrong" from "I ran and failed".
            ExitCode::FAILURE
        } else {
            ExitCode::from(2)
        };
    };
    match run(host, port, mistake) {
        Ok(()) => ExitCode::SUCCESS,
        // MISTAKE: a failure that looks like success; nobody can tell it from one.
        Err(_) if mistake == Mistake::SilentError => ExitCode::SUCCESS,
        Err(error) => {
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

fn run(host: &str, port: u16, mistake: Mistake) -> Result<()> {
    if mistake == Mistake::ConnectionPerLine {
        return connection_per_line(host, port, mistake);
    }
    // MISTAKE (StraySocket): a listening socket nobody connects to, held for the whole run. Every
    // socket is a descriptor and a port that others see; a client needs one, its connection.
    let _stray = match mistake {
        Mistake::StraySocket => Some(TcpListener::bind("127.0.0.1:0").context("cannot listen")?),
        _ => None,
    };
    let mut stream = connect(host, port, mistake)?;
    if mistake == Mistake::ReadTimeout {
        // MISTAKE: the contract has no time limit, and a reply may come seconds after its line.
        // An expired timeout fails the read with `WouldBlock`, which says nothing of a timeout.
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .context("cannot set a read timeout")?;
    }
    let server: SocketAddr = stream
        .peer_addr()
        .context("cannot tell whom we are connected to")?;
    let mut replies = BufReader::new(stream.try_clone().context("cannot clone the socket")?);
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut request = Vec::new();
    let mut number = 0;
    // The log files of `LeaksFd`.
    let mut logs: Vec<File> = Vec::new();
    while read_input_line(&mut input, &mut request)? {
        number += 1;
        if mistake == Mistake::LeaksFd {
            // MISTAKE: a new handle on the log for every line, kept until the end: a descriptor
            // per line, until "Too many open files".
            let mut log = OpenOptions::new()
                .append(true)
                .open("/dev/null")
                .context("cannot open the log")?;
            log.write_all(&request).context("cannot write the log")?;
            logs.push(log);
        }
        send_line(&mut stream, &request, mistake)?;
        let reply = if mistake == Mistake::OneRead {
            one_read(&mut stream)?
        } else {
            read_line(&mut replies, mistake)?
        };
        match reply {
            Some(reply) => print_line(&mut output, &reply)?,
            // MISTAKE (Panics): a server that closes before replying is not a bug; `expect`
            // makes it a panic (a Rust message and exit status 101).
            None if mistake == Mistake::Panics => panic!("the server's reply"),
            None => bail!("{server} closed the connection before replying to line {number}"),
        }
    }
    finish(&stream, &mut replies, &mut output, mistake)
}

/// Connects to the server, trying each of HOST's addresses in turn.
fn connect(host: &str, port: u16, mistake: Mistake) -> Result<TcpStream> {
    let mut addresses: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .collect();
    if mistake == Mistake::Ipv4Only {
        // MISTAKE: assuming IPv4. Only the first IPv4 address is tried, so an IPv6 literal such
        // as ::1 (or a name with only IPv6 addresses) fails.
        let first = addresses
            .into_iter()
            .find(SocketAddr::is_ipv4)
            .with_context(|| format!("{host} has no IPv4 address"))?;
        addresses = vec![first];
    }
    let mut last_error = anyhow!("{host} has no address");
    for address in addresses {
        let connected = TcpStream::connect(address);
        if mistake == Mistake::Panics {
            // MISTAKE: a refused connection is part of networking, not a bug; `unwrap` makes it
            // a panic.
            return Ok(connected.unwrap());
        }
        match connected {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                last_error = anyhow::Error::new(e).context(format!("cannot connect to {address}"))
            }
        }
    }
    Err(last_error)
}

/// Sends `line` and a newline.
fn send_line(stream: &mut TcpStream, line: &[u8], mistake: Mistake) -> Result<()> {
    match mistake {
        // MISTAKE: on a byte stream the newline is what ends a line. Without it the server has
        // one line that never ends, and answers nothing.
        Mistake::NoNewline => stream.write_all(line),
        // MISTAKE: the line, then its newline: two writes. Nagle's algorithm holds the newline
        // back until the line is acknowledged, and the server, with no whole line to answer,
        // delays its acknowledgement (up to 40 ms on Linux): every line takes about 40 ms.
        Mistake::TwoWrites => stream
            .write_all(line)
            .and_then(|()| stream.write_all(b"\n")),
        _ => {
            // One buffer, one write: the line and its newline leave together.
            let mut message = Vec::with_capacity(line.len() + 1);
            message.extend_from_slice(line);
            message.push(b'\n');
            stream.write_all(&message)
        }
    }
    .context("cannot send to the server")
}

/// Reads one line from the server, without its newline. `None` when the server has closed.
fn read_line(replies: &mut BufReader<TcpStream>, mistake: Mistake) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let read = match mistake {
        // MISTAKE: `read_to_end` returns only when the server closes, and the server closes only
        // after our end of stream, which we send only once we have the reply: both wait.
        Mistake::ReadsToEnd => replies.read_to_end(&mut line),
        _ => replies.read_until(b'\n', &mut line),
    };
    let len = if mistake == Mistake::Panics {
        // MISTAKE: a failed read (a reset) panics.
        read.unwrap()
    } else {
        read.context("cannot read from the server")?
    };
    if len == 0 {
        // Zero bytes is the end of the stream: the server closed its side.
        return Ok(None);
    }
    // MISTAKE (DoubleNewline): the newline that `read_until` keeps stays in the line, and
    // `print_line` adds its own: every reply is followed by an empty line.
    if mistake != Mistake::DoubleNewline && line.last() == Some(&b'\n') {
        // A last line cut short by the close has no newline; it is still a line.
        line.pop();
    }
    Ok(Some(line))
}

/// MISTAKE (OneRead): one `read` taken for one whole reply line. TCP carries a stream of bytes,
/// not messages: one `read` returns whatever has arrived, part of a line or a line and a half.
fn one_read(stream: &mut TcpStream) -> Result<Option<Vec<u8>>> {
    let mut buffer = [0; 4096];
    let len = stream
        .read(&mut buffer)
        .context("cannot read from the server")?;
    if len == 0 {
        return Ok(None);
    }
    let reply = &buffer[..len];
    Ok(Some(reply.strip_suffix(b"\n").unwrap_or(reply).to_vec()))
}

/// At the end of input: half-close, then print every line the server still sends until it closes.
fn finish(
    stream: &TcpStream,
    replies: &mut BufReader<TcpStream>,
    output: &mut impl Write,
    mistake: Mistake,
) -> Result<()> {
    match mistake {
        // MISTAKE: the end of the input is not the end of the conversation. Returning closes the
        // socket without a half-close, and the server's last lines are lost.
        Mistake::ExitAtEof => return Ok(()),
        // MISTAKE: SO_LINGER 0, then the close when `run` returns and drops both handles (the
        // kernel acts on the last one). That is an abort: a reset (RST) instead of an end of
        // stream (FIN), and whatever is still on its way is thrown away.
        Mistake::ResetAtEnd => {
            SockRef::from(stream)
                .set_linger(Some(Duration::ZERO))
                .context("cannot set SO_LINGER")?;
            return Ok(());
        }
        // MISTAKE: no `shutdown(Shutdown::Write)`. The server waits for our end of stream, and
        // we wait for its.
        Mistake::NoHalfClose => {}
        _ => stream
            .shutdown(Shutdown::Write)
            .context("cannot shut down the sending side")?,
    }
    while let Some(line) = read_line(replies, mistake)? {
        print_line(output, &line)?;
    }
    Ok(())
}

/// MISTAKE (ConnectionPerLine): a TCP connection is a conversation, not one message. This opens
/// one per line (connect, send, half-close, print all the server sends until it closes), so the
/// server sees as many clients as lines, and its state (the count of lines) never spans the input.
fn connection_per_line(host: &str, port: u16, mistake: Mistake) -> Result<()> {
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut request = Vec::new();
    while read_input_line(&mut input, &mut request)? {
        let mut stream = connect(host, port, mistake)?;
        send_line(&mut stream, &request, mistake)?;
        stream
            .shutdown(Shutdown::Write)
            .context("cannot shut down the sending side")?;
        let mut replies = BufReader::new(stream);
        let mut got_a_reply = false;
        while let Some(line) = read_line(&mut replies, mistake)? {
            print_line(&mut output, &line)?;
            got_a_reply = true;
        }
        if !got_a_reply {
            bail!("the server closed the connection before replying");
        }
    }
    Ok(())
}

/// Reads one line of standard input into `line`, without its newline. `false` at the end of input.
fn read_input_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Result<bool> {
    line.clear();
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
