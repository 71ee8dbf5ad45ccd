//! `ch05_frames ADDR PAYLOAD...`: sends each PAYLOAD as one frame, half-closes, then reads the
//! server's frames, however the bytes arrive, and prints each payload. A stream that ends inside a
//! frame, or a length over the limit, is one line on standard error and exit status 1.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

/// The longest payload we accept. 4 bytes can announce up to 4 GiB: the peer does not decide how
/// much memory we take.
const MAX_FRAME: u32 = 16 * 1024 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((addr, payloads)) = args.split_first() else {
        eprintln!("usage: ch05_frames ADDR PAYLOAD...");
        return ExitCode::from(2);
    };
    match run(addr, payloads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ch05_frames: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(addr: &str, payloads: &[String]) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    for payload in payloads {
        let len = u32::try_from(payload.len()).map_err(io::Error::other)?;
        stream.write_all(&len.to_be_bytes())?;
        stream.write_all(payload.as_bytes())?;
    }
    stream.shutdown(Shutdown::Write)?;
    // ANCHOR: loop
    while let Some(payload) = read_frame(&mut stream)? {
        let shown: String = String::from_utf8_lossy(&payload).chars().take(60).collect();
        println!("frame of {} bytes: {shown}", payload.len());
    }
    println!("end of stream, between two frames");
    Ok(())
    // ANCHOR_END: loop
}

// ANCHOR: read_frame
/// One frame's payload; `None` when the stream ended cleanly before a new frame.
fn read_frame(stream: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; 4];
    // The first byte on its own: zero bytes here is the end of the conversation, not an error.
    if stream.read(&mut header[..1])? == 0 {
        return Ok(None);
    }
    // The other three: `read_exact` reads until it has them all, and fails with UnexpectedEof
    // when the stream ends first.
    stream.read_exact(&mut header[1..]).map_err(cut)?;
    let len = u32::from_be_bytes(header);
    // ANCHOR: limit
    if len > MAX_FRAME {
        return Err(io::Error::other(format!(
            "the peer announced a frame of {len} bytes, over the limit of {MAX_FRAME}"
        )));
    }
    // ANCHOR_END: limit
    read_payload(stream, len as usize).map(Some)
}
// ANCHOR_END: read_frame

// ANCHOR: read_payload
/// Exactly `len` bytes, read through a small buffer: memory grows only with what really came.
fn read_payload(stream: &mut impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut payload = Vec::new();
    let mut buf = [0u8; 4096];
    while payload.len() < len {
        let want = buf.len().min(len - payload.len());
        match stream.read(&mut buf[..want]) {
            Ok(0) => return Err(cut(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => payload.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(payload)
}
// ANCHOR_END: read_payload

/// An end of stream inside a frame, said plainly.
fn cut(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        io::Error::other("the connection closed inside a frame")
    } else {
        e
    }
}
