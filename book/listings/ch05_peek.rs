//! `ch05_peek ADDR PAYLOAD...`: sends each PAYLOAD as one frame (a 4-byte big-endian length, then
//! the bytes), half-closes, then shows every read exactly as it came: how many bytes, in hex and
//! as text. It does not look for frames at all: it shows what a stream really delivers.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((addr, payloads)) = args.split_first() else {
        eprintln!("usage: ch05_peek ADDR PAYLOAD...");
        return ExitCode::from(2);
    };
    match run(addr, payloads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ch05_peek: {e}");
            ExitCode::FAILURE
        }
    }
}

// ANCHOR: encode
/// One frame: the payload's length as 4 bytes, most significant first, then the payload.
fn encode(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("a payload under 4 GiB");
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_be_bytes()); // 5 -> [0, 0, 0, 5]
    frame.extend_from_slice(payload);
    frame
}
// ANCHOR_END: encode

fn run(addr: &str, payloads: &[String]) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    for payload in payloads {
        stream.write_all(&encode(payload.as_bytes()))?;
    }
    stream.shutdown(Shutdown::Write)?;
    // ANCHOR: peek
    let mut buf = [0u8; 16];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            println!("end of stream");
            return Ok(());
        }
        let hex: Vec<String> = buf[..n].iter().map(|b| format!("{b:02x}")).collect();
        let text: String = buf[..n]
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect();
        println!("recv {n:2} bytes: {:47}  |{text}|", hex.join(" "));
    }
    // ANCHOR_END: peek
}
