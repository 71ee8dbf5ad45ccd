//! Chapter 3: a small TCP client. It sends each of its arguments as a line, prints each reply
//! line, then half-closes and prints what the server still sends.
//!
//! Run it with `cargo run -q -p book --example ch03_tcp_hello_client -- 127.0.0.1:7000 hello world`.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

fn main() -> std::io::Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((server, messages)) = args.split_first() else {
        eprintln!("usage: ch03_tcp_hello_client SERVER_ADDR:PORT MESSAGE...");
        return Ok(ExitCode::from(2));
    };

    // ANCHOR: connect
    // socket() and connect() in one call. The kernel picks our own address and an ephemeral
    // port, then does the three-way handshake with the server.
    let stream = match TcpStream::connect(server.as_str()) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("cannot connect to {server}: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!(
        "connected {} -> {}",
        stream.local_addr()?,
        stream.peer_addr()?
    );
    // ANCHOR_END: connect

    // ANCHOR: talk
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = &stream;
    let mut reply = String::new();
    for message in messages {
        // write_all() calls send() until every byte is in the kernel's hands.
        writer.write_all(format!("{message}\n").as_bytes())?;
        // read_line() calls recv() until it has a whole line, however the bytes arrive.
        reply.clear();
        if reader.read_line(&mut reply)? == 0 {
            eprintln!("the server closed the connection before replying");
            return Ok(ExitCode::FAILURE);
        }
        print!("reply: {reply}");
    }
    // ANCHOR_END: talk

    // ANCHOR: half_close
    // shutdown(Write): "I will send nothing more". The server reads the end of the stream, but
    // our receiving side stays open, so we can still read what it sends.
    stream.shutdown(Shutdown::Write)?;
    println!("sent FIN (half-close)");
    loop {
        reply.clear();
        // 0 bytes: the server has closed its side too. The conversation is over.
        if reader.read_line(&mut reply)? == 0 {
            println!("server closed");
            break;
        }
        print!("after half-close: {reply}");
    }
    Ok(ExitCode::SUCCESS)
    // ANCHOR_END: half_close
}
