//! Other style (echo_server): a process per client (`fork`), with `SIGCHLD` set to `SIG_IGN`: the
//! kernel reaps every child as it exits, and no zombie is ever left.
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

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

fn serve(listener: TcpListener) -> ExitCode {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_IGN installs no handler, so nothing runs in signal context.
    if let Err(e) = unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) } {
        eprintln!("echo_server: {e}");
        return ExitCode::FAILURE;
    }
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("echo_server: accept: {e}");
                continue;
            }
        };
        // SAFETY: this program starts no thread, so the child starts with every lock free.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(listener);
                let served = echo(stream);
                std::process::exit(if served.is_ok() { 0 } else { 1 });
            }
            // The parent closes its copy of the connection at once.
            Ok(ForkResult::Parent { .. }) => drop(stream),
            Err(e) => eprintln!("echo_server: fork: {e}"),
        }
    }
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
