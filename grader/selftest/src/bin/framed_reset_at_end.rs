//! # `framed_reset_at_end`: known-bad, ends the connection with a reset
//!
//! Known-bad: the grader must reject it. At the end of its input it sets SO_LINGER to 0 and
//! closes the connection, instead of half-closing.
//!
//! The mistake: a close with SO_LINGER 0 is an abort. The kernel sends a reset (RST) instead of an
//! end of stream (FIN), so the server's read fails with "connection reset" instead of returning
//! 0, and the frames it sends after the end of input never arrive.
//!
//! Everything else is as the contract says (it is `framed_read_exact_style` up to its last
//! lines). Symptom: it prints every reply and exits 0, but none of the frames the server sends
//! after the end of input; the server read a reset.
//!
//! Contract: `framed_client HOST PORT`, as in `exercises/framed_client.rs` (chapter 5).
//!
//! selftest: framed_client rejects with TcpReset

use std::io::{self, BufRead, Read, Write};
#[allow(unused_imports)]
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use socket2::SockRef;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port] = args.as_slice() else {
        eprintln!("usage: framed_client HOST PORT");
        return ExitCode::from(2);
    };
    let Some(port) = port.parse::<u16>().ok().filter(|&p| p != 0) else {
        eprintln!("usage: framed_client HOST PORT");
        return ExitCode::from(2);
    };
    match run(host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("framed_client: {e}");
            ExitCode::FAILURE
        }
    }
}

#[allow(unused_mut, unused_variables)]
fn run(host: &str, port: u16) -> io::Result<()> {
    let mut stream = TcpStream::connect((host, port))?;
    let mut out = io::stdout().lock();
    let mut kept: Vec<TcpStream> = Vec::new();
    for line in io::stdin().lock().lines() {
        let line = line?;

        send_frame(&mut stream, line.as_bytes())?;
        match read_frame(&mut stream, &mut out)? {
            Some(payload) => writeln!(out, "{}", String::from_utf8_lossy(&payload))?,
            None => return Err(io::Error::other("closed before replying")),
        }
        out.flush()?;
    }
    // The mistake: an abort where a half-close belongs.
    SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

fn send_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

#[allow(unused_variables)]
fn read_frame(stream: &mut TcpStream, out: &mut impl Write) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; 4];
    match stream.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(header) as usize;
    if len > 16 << 20 {
        return Err(io::Error::other("frame over the limit"));
    }
    let mut payload = Vec::new();
    stream.take(len as u64).read_to_end(&mut payload)?;
    if payload.len() < len {
        return Err(io::Error::other("closed inside a frame"));
    }
    Ok(Some(payload))
}
