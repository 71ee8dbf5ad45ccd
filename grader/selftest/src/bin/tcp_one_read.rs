//! # `tcp_one_read`: known-bad, takes one `read` for one reply
//!
//! Known-bad: the grader must reject it. After sending each line it makes one `read` call into a
//! 4096-byte buffer and prints what that call returned as the server's reply.
//!
//! The mistake: TCP carries a stream of bytes, not messages. One `read` returns whatever has
//! arrived: part of a line, or a line and a half. A reply line is complete only at its newline.
//!
//! Everything else is as the contract says (after the half-close it prints the rest of the stream
//! line by line). Symptom: when the server sends a reply in pieces (one byte per write), it prints
//! a fragment (e.g. the first byte) as the reply to each line, and the rest of the replies come out
//! later as if they were the server's last lines; exit 0.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpOneReadOneMessage

use std::io::{self, BufRead, BufReader, Read, Write};
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
    let mut number = 0;
    for request in io::stdin().lock().split(b'\n') {
        let mut request = request.context("cannot read standard input")?;
        number += 1;
        request.push(b'\n');
        stream
            .write_all(&request)
            .context("cannot send to the server")?;
        // MISTAKE: one `read` is taken for one whole reply line.
        let mut buffer = [0; 4096];
        let len = stream
            .read(&mut buffer)
            .context("cannot read from the server")?;
        if len == 0 {
            bail!("the server closed the connection before replying to line {number}");
        }
        let reply = &buffer[..len];
        print_line(&mut output, reply.strip_suffix(b"\n").unwrap_or(reply))?;
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
