//! # `framed_stray_socket`: known-bad, holds a UDP socket it never uses
//!
//! Known-bad: the grader must reject it. Before it connects, it binds a UDP socket (meant for
//! statistics that were never written) and keeps it until it exits.
//!
//! The mistake: every socket a program holds is a descriptor and a port, held until it is
//! dropped. This client needs one socket, its connection.
//!
//! Everything else is as the contract says. Symptom: its conversations are all right; while it
//! waits for a reply, the grader sees a UDP socket beside the connection.
//!
//! Contract: `framed_client HOST PORT`, as in `exercises/framed_client.rs` (chapter 5).
//!
//! selftest: framed_client rejects with SocketsHeld

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::process::ExitCode;

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

fn run(host: &str, port: u16) -> io::Result<()> {
    // MISTAKE: a UDP socket meant for sending statistics somewhere, never used, held to the end.
    let _stats = UdpSocket::bind("127.0.0.1:0")?;
    let mut stream = TcpStream::connect((host, port))?;
    let mut out = io::stdout().lock();
    for line in io::stdin().lock().lines() {
        let line = line?;
        send_frame(&mut stream, line.as_bytes())?;
        match read_frame(&mut stream, &mut out)? {
            Some(payload) => writeln!(out, "{}", String::from_utf8_lossy(&payload))?,
            None => return Err(io::Error::other("closed before replying")),
        }
        out.flush()?;
    }
    stream.shutdown(Shutdown::Write)?;
    while let Some(payload) = read_frame(&mut stream, &mut out)? {
        writeln!(out, "{}", String::from_utf8_lossy(&payload))?;
        out.flush()?;
    }
    Ok(())
}

fn send_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

fn read_frame(stream: &mut TcpStream, _out: &mut impl Write) -> io::Result<Option<Vec<u8>>> {
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
