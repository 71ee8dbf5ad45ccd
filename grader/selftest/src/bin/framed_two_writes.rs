//! # `framed_two_writes`: known-bad, sends the header and the payload in two writes
//!
//! Known-bad: the grader must reject it. It sends each frame's 4-byte header with one `write_all`
//! and the payload with another.
//!
//! The mistake: the reader does not care how the bytes are cut, but TCP does. The payload waits
//! until the server acknowledges the header (Nagle's algorithm), and the server, with no whole
//! frame to answer, delays its acknowledgement by up to 40 ms: every frame takes about 40 ms.
//!
//! Everything else is as the contract says. Symptom: every conversation is right, but slow: a
//! thousand lines take about 40 s.
//!
//! Contract: `framed_client HOST PORT`, as in `exercises/framed_client.rs` (chapter 5).
//!
//! selftest: framed_client rejects with SplitWrites

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

/// Sends one frame: the payload's length as 4 bytes, big-endian, then the payload.
fn send_frame(stream: &mut TcpStream, payload: &[u8]) -> Result<()> {
    let len = u32::try_from(payload.len()).context("a line too long for one frame")?;
    stream
        .write_all(&len.to_be_bytes())
        .and_then(|()| stream.write_all(payload))
        .context("cannot send to the server")
}

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
