//! Known bad (echo_server): a thread per client that shuts the connection down properly (the
//! client sees the end) but never closes one descriptor of it: the clone its reader was made
//! from is forgotten. One descriptor lost per client.
//!
//! selftest: echo_server rejects with EchoLeaksDescriptors

// One preamble for all the echo_* programs; not every one uses every import.
#![allow(unused_imports)]

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = match args.as_slice() {
        [] => 0,
        [flag, port] if flag == "--port" => match port.parse() {
            Ok(port) => port,
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("echo_server: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(addr) = listener.local_addr() else {
        return ExitCode::FAILURE;
    };
    println!("listening on {addr}");
    let _ = io::stdout().flush();
    serve(listener)
}

fn serve(listener: TcpListener) -> ExitCode {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || echo(stream));
    }
    ExitCode::SUCCESS
}

fn echo(stream: TcpStream) -> io::Result<()> {
    let clone = stream.try_clone()?;
    let mut reader = BufReader::new(clone);
    let mut writer = &stream;
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        writer.write_all(&line)?;
        line.clear();
    }
    stream.shutdown(Shutdown::Both)?;
    // The mistake: this descriptor is never closed.
    std::mem::forget(reader);
    Ok(())
}

fn usage() -> ExitCode {
    eprintln!("usage: echo_server [--port P]");
    ExitCode::from(2)
}
