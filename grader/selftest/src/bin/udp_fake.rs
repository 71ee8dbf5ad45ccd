//! # `udp_fake`: known-bad, makes its replies up
//!
//! Known-bad: the grader must reject it. It never touches the network: it prints each input line in
//! capitals, as if that were the server's reply.
//!
//! The mistake: output that looks right without the exchange behind it. The grader's servers put a
//! secret in every reply that a program cannot guess, and the grader compares what was printed with
//! what the server really sent.
//!
//! Symptom: it prints each line in capitals and exits 0; the server receives nothing.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with MadeUpReplies

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
        eprintln!("usage: udp_client HOST PORT");
        return ExitCode::from(2);
    };
    match run(&args[0], port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("udp_client: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(host: &str, port: u16) -> Result<()> {
    // MISTAKE: no socket at all; the "reply" is made up from the request.
    let _ = (host, port);
    let mut output = io::stdout().lock();
    for request in io::stdin().lock().split(b'\n') {
        let request = request.context("cannot read standard input")?;
        output.write_all(&request.to_ascii_uppercase())?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}
