//! # `tcp_fake`: known-bad, makes its replies up
//!
//! Known-bad: the grader must reject it. It never connects: it prints each input line in capitals,
//! as if that were the server's reply.
//!
//! The mistake: output that looks right without the exchange behind it. The grader's servers put a
//! secret in every reply that a program cannot guess, and the grader compares what was printed with
//! what the server really sent.
//!
//! Symptom: it prints each line in capitals and exits 0, even when nothing listens; the server sees
//! no connection.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with MadeUpReplies

use std::io::{self, BufRead, Write};
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
    // MISTAKE: no connection at all; the "reply" is made up from the request.
    let _ = (host, port);
    let mut output = io::stdout().lock();
    for request in io::stdin().lock().split(b'\n') {
        let request = request.context("cannot read standard input")?;
        print_line(&mut output, &request.to_ascii_uppercase())?;
    }
    Ok(())
}

fn print_line(output: &mut impl Write, line: &[u8]) -> Result<()> {
    output.write_all(line)?;
    output.write_all(b"\n")?;
    output.flush()?;
    Ok(())
}
