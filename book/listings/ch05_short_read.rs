//! `ch05_short_read`: the "end of send" contract, where every message ends with a NUL byte, read
//! two ways over a real loopback connection. The sender writes `hello\0` in two pieces, then
//! `one\0two\0` in one write. The wrong reader thinks a read shorter than its buffer is a whole
//! message; the right one reads until the NUL.
//!
//! For the wrong reader the sender waits until each piece has been read before writing the next,
//! so that the pieces arrive as separate reads every time: on a real network they often do.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

const PIECES: [&[u8]; 3] = [b"hel", b"lo\0", b"one\0two\0"];

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;

    // The wrong reader: one read into a 64-byte buffer; fewer than 64 bytes means "done".
    let (read_one, piece_read) = mpsc::channel::<()>();
    let sender = thread::spawn(move || send(addr, Some(piece_read)));
    let (mut stream, _) = listener.accept()?;
    println!("wrong reader (a short read ends the message):");
    // ANCHOR: wrong
    let mut buf = [0u8; 64];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        // BUG: n < buf.len() says only that no more bytes had arrived yet.
        if n < buf.len() {
            let message = buf[..n].strip_suffix(b"\0").unwrap_or(&buf[..n]);
            println!("  message {:?}", String::from_utf8_lossy(message));
        }
        let _ = read_one.send(());
    }
    // ANCHOR_END: wrong
    sender.join().expect("the sender ends")?;

    // The right reader: bytes up to and including the NUL, however many reads that takes.
    let sender = thread::spawn(move || send(addr, None));
    let (stream, _) = listener.accept()?;
    println!("right reader (up to the NUL byte):");
    // ANCHOR: right
    let mut reader = BufReader::new(stream);
    let mut message = Vec::new();
    loop {
        message.clear();
        if reader.read_until(b'\0', &mut message)? == 0 {
            break; // end of stream, between two messages
        }
        if message.pop() != Some(b'\0') {
            return Err(io::Error::other("the stream ended inside a message"));
        }
        println!("  message {:?}", String::from_utf8_lossy(&message));
    }
    // ANCHOR_END: right
    sender.join().expect("the sender ends")
}

/// Connects, writes the pieces (each one once the reader has read the previous one, when
/// `piece_read` is given), and closes.
fn send(addr: std::net::SocketAddr, piece_read: Option<mpsc::Receiver<()>>) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    // Each small write leaves at once instead of waiting to be glued to the next (Nagle).
    stream.set_nodelay(true)?;
    for piece in PIECES {
        stream.write_all(piece)?;
        if let Some(read) = &piece_read {
            // The reader has taken this piece: the next one cannot be glued to it.
            let _ = read.recv();
        }
    }
    Ok(())
}
