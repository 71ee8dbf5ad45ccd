//! # `framed_client`: messages over a byte stream, with a length in front of each
//!
//! This program talks to a framed server: every message, both ways, is a 4-byte big-endian
//! length and then that many bytes. It sends each line you type as one frame and prints the
//! server's reply frame; when your input ends it half-closes and prints every frame the server
//! still sends. TCP keeps no message boundaries, so a frame may arrive a byte at a time, in odd
//! pieces, or glued to the next one: the length is what tells where a message ends.
//!
//! Read chapter 5, "Byte streams and message framing", before you start; each `TODO` names the
//! section that helps.
//!
//! Grade it with `cargo test -p grader -- framed_client`; try it by hand with
//! `cargo run -p exercises --bin framed_client -- 127.0.0.1 PORT` against
//! `cargo run -p support --bin framed-server`.
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
// `framed_client HOST PORT`: connect once; for each line of standard input, send one frame (a
// 4-byte big-endian length, then the line's bytes without its newline), read one reply frame and
// write its payload to standard output followed by a newline, before waiting for the next line of
// input. At the end of input, half-close, then write every further frame the server sends the
// same way until it closes, and exit 0. A connection that closes inside a frame, or a length over
// 16 MiB (16777216 bytes): one line on standard error, exit 1, nothing of the broken frame
// printed, and no attempt to allocate the announced size. When the connection cannot be made, or
// the server closes before replying: one line on standard error, exit 1. HOST may be a name
// (`localhost`: try each of its addresses in turn until one accepts), an IPv4 or an IPv6 literal.
//
// Send each frame, header and payload, in one write, so that it reaches the server at once (in
// two writes every frame waits about 40 ms: chapter 3, "One write per message"). A reply may come
// seconds after its frame: wait for it, and print nothing in its place. Wrong usage (a missing or
// extra argument, a PORT that is not a number from 1 to 65535) prints a usage line on standard
// error and exits 2. Errors are one readable line on standard error, never a panic.
// ANCHOR_END: contract

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};

const USAGE: &str = "usage: framed_client HOST PORT";
/// The longest payload we accept. A peer can announce up to 4 GiB in 4 bytes; we do not let it
/// decide how much memory we take.
const MAX_FRAME: usize = 16 * 1024 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((host, port)) = parse_args(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("framed_client: {error:#}");
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
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut request = Vec::new();
    let mut number = 0;
    while read_input_line(&mut input, &mut request)? {
        number += 1;
        send_frame(&mut stream, &request)?;
        match read_frame(&mut stream)? {
            Some(reply) => print_payload(&mut output, &reply)?,
            None => bail!("{server} closed the connection before replying to frame {number}"),
        }
    }
    finish(&mut stream, &mut output)
}

/// Connects to the server, trying each of HOST's addresses in turn (as in chapter 3).
fn connect(host: &str, port: u16) -> Result<TcpStream> {
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

// ANCHOR: send_frame
/// Sends one frame: the payload's length as 4 bytes, big-endian, then the payload.
fn send_frame(stream: &mut TcpStream, payload: &[u8]) -> Result<()> {
    let len = u32::try_from(payload.len()).context("a line too long for one frame")?;
    // Header and payload in one buffer, one `write_all`: two small writes could leave as two
    // packets, and the second would wait for the first's acknowledgement (Nagle's algorithm).
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream
        .write_all(&frame)
        .context("cannot send to the server")
}
// ANCHOR_END: send_frame

// ANCHOR: read_frame
/// Reads one frame and returns its payload; `None` when the server closed between two frames.
fn read_frame(stream: &mut TcpStream) -> Result<Option<Vec<u8>>> {
    // The header: exactly 4 bytes, however many reads they take. Zero bytes at all is a clean
    // end; one to three is a frame cut short.
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < header.len() {
        match stream.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => bail!("the server closed the connection inside a frame's length"),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(anyhow::Error::new(e).context("cannot read from the server")),
        }
    }
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        bail!("the server announced a frame of {len} bytes, over the limit of {MAX_FRAME}");
    }
    // Now the payload. `take` stops at `len` bytes, and the buffer grows with what really
    // arrives, so a lying header costs nothing.
    let mut payload = Vec::new();
    stream
        .take(len as u64)
        .read_to_end(&mut payload)
        .context("cannot read from the server")?;
    if payload.len() < len {
        bail!(
            "the server closed the connection inside a frame ({} of {len} bytes)",
            payload.len()
        );
    }
    Ok(Some(payload))
}
// ANCHOR_END: read_frame

// ANCHOR: finish
/// At the end of input: half-close, then print every frame the server still sends until it closes.
fn finish(stream: &mut TcpStream, output: &mut impl Write) -> Result<()> {
    stream
        .shutdown(Shutdown::Write)
        .context("cannot shut down the sending side")?;
    while let Some(payload) = read_frame(stream)? {
        print_payload(output, &payload)?;
    }
    Ok(())
}
// ANCHOR_END: finish

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

/// Prints a payload and a newline, at once.
fn print_payload(output: &mut impl Write, bytes: &[u8]) -> Result<()> {
    output
        .write_all(bytes)
        .and_then(|()| output.write_all(b"\n"))
        .and_then(|()| output.flush())
        .context("cannot write to standard output")
}
