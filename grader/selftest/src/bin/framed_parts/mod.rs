//! A `framed_client` with one mistake to choose: each known-bad `framed_*` program built on it
//! makes exactly one ([`Mistake`]) and keeps the rest of the contract. With the mistake left out it
//! is `solutions/framed_client.rs`, function for function; each mistake is written where it
//! happens, marked `MISTAKE`. Not a program itself (a folder without `main.rs`); the programs
//! include it with `mod framed_parts;`.

// Each program makes one mistake: the other variants are never built in it.
#![allow(dead_code)]

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use socket2::SockRef;

const USAGE: &str = "usage: framed_client HOST PORT";
/// The longest payload we accept. A peer can announce up to 4 GiB in 4 bytes; we do not let it
/// decide how much memory we take.
const MAX_FRAME: usize = 16 * 1024 * 1024;

/// The mistakes, one per known-bad program.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mistake {
    /// Holds a UDP socket it never uses (`framed_stray_socket`).
    StraySocket,
    /// Clones the socket for every line and keeps the clone (`framed_leaks_fd`).
    LeaksFd,
    /// Sends each line with its newline in the payload (`framed_sends_newline`).
    SendsNewline,
    /// Sends the header and the payload in two writes (`framed_two_writes`).
    TwoWrites,
    /// Writes and reads the length little-endian (`framed_little_endian`).
    LittleEndian,
    /// Takes one `read` as one frame (`framed_one_read`).
    OneRead,
    /// Believes any length, allocates it, and waits for that many bytes (`framed_no_limit`).
    NoLimit,
    /// Prints what it has of a frame the connection cuts short (`framed_prints_partial`).
    PrintsPartial,
    /// Never half-closes, and reads on (`framed_no_half_close`).
    NoHalfClose,
    /// Ends with SO_LINGER 0 and a close: a reset (`framed_reset_at_end`).
    ResetAtEnd,
}

pub fn main(mistake: Mistake) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((host, port)) = parse_args(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(host, port, mistake) {
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

fn run(host: &str, port: u16, mistake: Mistake) -> Result<()> {
    // MISTAKE (StraySocket): a UDP socket meant for statistics that were never written, held to
    // the end. Every socket is a descriptor and a port; this client needs one, its connection.
    let _stats = match mistake {
        Mistake::StraySocket => Some(UdpSocket::bind("127.0.0.1:0").context("cannot bind")?),
        _ => None,
    };
    let mut stream = connect(host, port)?;
    let server: SocketAddr = stream
        .peer_addr()
        .context("cannot tell whom we are connected to")?;
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut request = Vec::new();
    let mut number = 0;
    // The clones of `LeaksFd`.
    let mut kept: Vec<TcpStream> = Vec::new();
    while read_input_line(&mut input, &mut request, mistake)? {
        number += 1;
        if mistake == Mistake::LeaksFd {
            // MISTAKE: every clone is a descriptor, held until it is dropped: one more per line.
            kept.push(stream.try_clone().context("cannot clone the socket")?);
        }
        send_frame(&mut stream, &request, mistake)?;
        match read_frame(&mut stream, mistake)? {
            Some(reply) => print_payload(&mut output, &reply)?,
            None => bail!("{server} closed the connection before replying to frame {number}"),
        }
    }
    finish(&mut stream, &mut output, mistake)
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

/// Sends one frame: the payload's length as 4 bytes, big-endian, then the payload.
fn send_frame(stream: &mut TcpStream, payload: &[u8], mistake: Mistake) -> Result<()> {
    let len = u32::try_from(payload.len()).context("a line too long for one frame")?;
    let header = if mistake == Mistake::LittleEndian {
        // MISTAKE: the length in this machine's byte order, not in network byte order
        // (big-endian), which the protocol says.
        len.to_le_bytes()
    } else {
        len.to_be_bytes()
    };
    if mistake == Mistake::TwoWrites {
        // MISTAKE: header, then payload: two writes. The payload waits until the server
        // acknowledges the header (Nagle's algorithm), and the server, with no whole frame to
        // answer, delays its acknowledgement by up to 40 ms: every frame takes about 40 ms.
        return stream
            .write_all(&header)
            .and_then(|()| stream.write_all(payload))
            .context("cannot send to the server");
    }
    // Header and payload in one buffer, one `write_all`.
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&header);
    frame.extend_from_slice(payload);
    stream
        .write_all(&frame)
        .context("cannot send to the server")
}

/// Reads one frame and returns its payload; `None` when the server closed between two frames.
fn read_frame(stream: &mut TcpStream, mistake: Mistake) -> Result<Option<Vec<u8>>> {
    if mistake == Mistake::OneRead {
        return one_read(stream);
    }
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
    let len = if mistake == Mistake::LittleEndian {
        // MISTAKE: the same wrong byte order as in `send_frame`.
        u32::from_le_bytes(header)
    } else {
        u32::from_be_bytes(header)
    } as usize;
    if mistake == Mistake::NoLimit {
        // MISTAKE: the peer decides how much memory we take. A lying or broken header (up to
        // 4 GiB) is allocated at once, and waited for.
        let mut payload = vec![0u8; len];
        stream
            .read_exact(&mut payload)
            .context("cannot read from the server")?;
        return Ok(Some(payload));
    }
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
        if mistake == Mistake::PrintsPartial {
            // MISTAKE: a frame cut short is no message at all; printing what came of it passes
            // a fragment off as the server's reply.
            print_payload(&mut io::stdout().lock(), &payload)?;
        }
        bail!(
            "the server closed the connection inside a frame ({} of {len} bytes)",
            payload.len()
        );
    }
    Ok(Some(payload))
}

/// MISTAKE (OneRead): one `read` taken as one frame, the payload being whatever came after the
/// header. TCP keeps no message boundaries: a read may return part of a frame, or a frame and the
/// start of the next; only the length says where a frame ends.
fn one_read(stream: &mut TcpStream) -> Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 65536];
    let n = stream
        .read(&mut buf)
        .context("cannot read from the server")?;
    if n == 0 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let end = n.min(4 + len).max(4);
    Ok(Some(buf[4..end].to_vec()))
}

/// At the end of input: half-close, then print every frame the server still sends until it closes.
fn finish(stream: &mut TcpStream, output: &mut impl Write, mistake: Mistake) -> Result<()> {
    match mistake {
        // MISTAKE: SO_LINGER 0, then the close when `run` returns and drops the stream. That is
        // an abort: a reset (RST) instead of an end of stream (FIN), and the frames the server
        // sends after the end of input never arrive.
        Mistake::ResetAtEnd => {
            SockRef::from(&*stream)
                .set_linger(Some(Duration::ZERO))
                .context("cannot set SO_LINGER")?;
            return Ok(());
        }
        // MISTAKE: no `shutdown(Shutdown::Write)`. The server waits for our end of stream, and
        // we wait for its last frames.
        Mistake::NoHalfClose => {}
        _ => stream
            .shutdown(Shutdown::Write)
            .context("cannot shut down the sending side")?,
    }
    while let Some(payload) = read_frame(stream, mistake)? {
        print_payload(output, &payload)?;
    }
    Ok(())
}

/// Reads one line of standard input into `line`, without its newline. `false` at the end of input.
fn read_input_line(input: &mut impl BufRead, line: &mut Vec<u8>, mistake: Mistake) -> Result<bool> {
    line.clear();
    let len = input
        .read_until(b'\n', line)
        .context("cannot read standard input")?;
    if len == 0 {
        return Ok(false);
    }
    // MISTAKE (SendsNewline): the newline ended the line on standard input; in a framed protocol
    // the length says where a message ends, and the payload is the line alone.
    if mistake != Mistake::SendsNewline && line.last() == Some(&b'\n') {
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
