//! # `tcp_panics`: known-bad, panics on errors
//!
//! Known-bad: the grader must reject it. It uses `.unwrap()` and `.expect()` on the connection and
//! on the reads, so a refused connection, a reset or a server that closes before replying ends in a
//! panic: a Rust message and backtrace hint on standard error and exit status 101.
//!
//! The mistake: errors are part of networking, not bugs. The contract asks for one readable line on
//! standard error and exit status 1.
//!
//! Everything else is as the contract says. Symptom: when nothing listens, it panics with "called
//! `Result::unwrap()` on an `Err` value: Os { code: 111, kind: ConnectionRefused, .. }"; when the
//! server closes before replying, it panics with "the server's reply"; exit 101 both times.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with Panicked

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

use anyhow::{Context, Result};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match args.as_slice() {
        [_, port] => port.parse::<u16>().ok().filter(|&p| p != 0),
        _ => None,
    };
    let Some(port) = port else {
        eprintln!("usage: tcp_client HOST PORT");
        return ExitCode::from(2);
    };
    match run(&args[0], port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tcp_client: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(host: &str, port: u16) -> Result<()> {
    // MISTAKE: a refused connection panics.
    let mut stream = TcpStream::connect((host, port)).unwrap();
    let mut replies = BufReader::new(stream.try_clone().context("cannot clone the socket")?);
    let mut output = io::stdout().lock();
    for request in io::stdin().lock().split(b'\n') {
        let mut request = request.context("cannot read standard input")?;
        request.push(b'\n');
        stream
            .write_all(&request)
            .context("cannot send to the server")?;
        // MISTAKE: a server that closes before replying makes this panic.
        let reply = read_line(&mut replies)?.expect("the server's reply");
        print_line(&mut output, &reply)?;
    }
    stream
        .shutdown(Shutdown::Write)
        .context("cannot shut down the sending side")?;
    while let Some(line) = read_line(&mut replies)? {
        print_line(&mut output, &line)?;
    }
    Ok(())
}

/// One line from the server, without its newline; `None` at the end of the stream.
fn read_line(replies: &mut impl BufRead) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    // MISTAKE: a failed read (a reset) panics.
    if replies.read_until(b'\n', &mut line).unwrap() == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(Some(line))
}

fn print_line(output: &mut impl Write, line: &[u8]) -> Result<()> {
    output.write_all(line)?;
    output.write_all(b"\n")?;
    output.flush()?;
    Ok(())
}
