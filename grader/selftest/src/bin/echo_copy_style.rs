//! Other style (echo_server): a thread per client that echoes with `io::copy` from one handle of
//! the socket to the other, bytes as they come, not line by line. Correct: every line comes back
//! as soon as its bytes do.
//!
//! selftest: echo_server accepts

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
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = thread::Builder::new().spawn(move || echo(stream));
            }
            Err(e) => eprintln!("echo_server: accept: {e}"),
        }
    }
}

fn echo(stream: TcpStream) -> io::Result<()> {
    let mut from = stream.try_clone()?;
    let mut to = &stream;
    io::copy(&mut from, &mut to)?;
    stream.shutdown(Shutdown::Write)
}

fn usage() -> ExitCode {
    eprintln!("usage: echo_server [--port P]");
    ExitCode::from(2)
}
