//! Known bad (echo_server): binds 0.0.0.0 (every address of the machine) instead of 127.0.0.1,
//! and prints `listening on 127.0.0.1:PORT` all the same. Clients on loopback are served; so is
//! anyone on the network.
//!
//! selftest: echo_server rejects with EchoListensBeyondLoopback

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
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("echo_server: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(addr) = listener.local_addr() else {
        return ExitCode::FAILURE;
    };
    // The mistake: the line says loopback, the socket is not.
    println!("listening on 127.0.0.1:{}", addr.port());
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
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = &stream;
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        writer.write_all(&line)?;
        line.clear();
    }
    stream.shutdown(Shutdown::Write)
}

fn usage() -> ExitCode {
    eprintln!("usage: echo_server [--port P]");
    ExitCode::from(2)
}
