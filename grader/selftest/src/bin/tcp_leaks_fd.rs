//! # `tcp_leaks_fd`: known-bad, opens a file per line and never closes it
//!
//! Known-bad: the grader must reject it. For every line it opens its log (`/dev/null` here, so
//! that the grader's runs leave no file behind) to note the line in, and keeps the handle in a
//! list "to flush at the end".
//!
//! The mistake: every `File` holds a descriptor until it is dropped. A program that keeps one per
//! line runs out of descriptors ("Too many open files") on a long enough input.
//!
//! Everything else is as the contract says. Symptom: it passes every short conversation; over a
//! thousand lines its descriptor count grows by one per line.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with DescriptorLeak

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

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
    // `TcpStream::connect` tries each address of HOST in turn.
    let mut stream = TcpStream::connect((host, port))
        .with_context(|| format!("cannot connect to {host} port {port}"))?;
    let mut replies = BufReader::new(stream.try_clone().context("cannot clone the socket")?);
    let mut output = io::stdout().lock();
    let mut logs: Vec<File> = Vec::new();
    let mut number = 0;
    for request in io::stdin().lock().split(b'\n') {
        let mut request = request.context("cannot read standard input")?;
        number += 1;
        // MISTAKE: a new handle on the log for every line, kept until the end.
        let mut log = OpenOptions::new()
            .append(true)
            .open("/dev/null")
            .context("cannot open the log")?;
        log.write_all(&request).context("cannot write the log")?;
        logs.push(log);
        request.push(b'\n');
        stream
            .write_all(&request)
            .context("cannot send to the server")?;
        match read_line(&mut replies)? {
            Some(reply) => print_line(&mut output, &reply)?,
            None => bail!("the server closed the connection before replying to line {number}"),
        }
    }
    stream
        .shutdown(Shutdown::Write)
        .context("cannot shut down the sending side")?;
    while let Some(line) = read_line(&mut replies)? {
        print_line(&mut output, &line)?;
    }
    for log in &mut logs {
        log.flush().context("cannot flush the log")?;
    }
    Ok(())
}

/// One line from the server, without its newline; `None` at the end of the stream.
fn read_line(replies: &mut impl BufRead) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    if replies
        .read_until(b'\n', &mut line)
        .context("cannot read from the server")?
        == 0
    {
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
