//! Known bad (echo_server): a thread per client that reads with `lines()` and answers with
//! `writeln!`: the newline is taken off and put back, so a last piece without a newline comes back
//! with one.
//!
//! selftest: echo_server rejects with EchoAltersLines

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
    let reader = BufReader::new(stream.try_clone()?);
    let mut writer = &stream;
    // The mistake: lines() and writeln! do not give back the bytes that came.
    for line in reader.lines() {
        writeln!(writer, "{}", line?)?;
    }
    stream.shutdown(Shutdown::Write)
}

fn usage() -> ExitCode {
    eprintln!("usage: echo_server [--port P]");
    ExitCode::from(2)
}
