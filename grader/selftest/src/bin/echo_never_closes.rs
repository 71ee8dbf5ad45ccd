//! Known bad (echo_server): a thread per client, but a finished connection is never closed: the
//! thread keeps the socket in a list "for later", so the client never sees the end, and the
//! server's socket stays in CLOSE-WAIT.
//!
//! selftest: echo_server rejects with EchoNeverCloses

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

use std::sync::Mutex;

static FINISHED: Mutex<Vec<TcpStream>> = Mutex::new(Vec::new());

fn serve(listener: TcpListener) -> ExitCode {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            if let Ok(stream) = echo(stream) {
                FINISHED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(stream);
            }
        });
    }
    ExitCode::SUCCESS
}

fn echo(stream: TcpStream) -> io::Result<TcpStream> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = &stream;
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        writer.write_all(&line)?;
        line.clear();
    }
    // The mistake: no shutdown, no close.
    Ok(stream)
}

fn usage() -> ExitCode {
    eprintln!("usage: echo_server [--port P]");
    ExitCode::from(2)
}
