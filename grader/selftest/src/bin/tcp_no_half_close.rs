//! # `tcp_no_half_close`: known-bad, never half-closes
//!
//! Known-bad: the grader must reject it. At the end of its input it never shuts down its sending
//! side: it just goes on reading, waiting for the server to close the connection.
//!
//! The mistake: the server cannot tell that the client has finished until it reads the end of the
//! stream, which only a shutdown (or a close) sends. Both sides wait for each other for ever.
//!
//! Everything else is as the contract says. Symptom: it prints every reply, then hangs in a read
//! (the server never sees the end of the stream, so never sends its last lines nor closes) until it
//! is killed.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpNoHalfClose

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
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
    let mut number = 0;
    for request in io::stdin().lock().split(b'\n') {
        let mut request = request.context("cannot read standard input")?;
        number += 1;
        request.push(b'\n');
        stream
            .write_all(&request)
            .context("cannot send to the server")?;
        match read_line(&mut replies)? {
            Some(reply) => print_line(&mut output, &reply)?,
            None => bail!("the server closed the connection before replying to line {number}"),
        }
    }
    // MISTAKE: no `shutdown(Shutdown::Write)`; the server waits for our end of stream, and we
    // wait for its.
    while let Some(line) = read_line(&mut replies)? {
        print_line(&mut output, &line)?;
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
