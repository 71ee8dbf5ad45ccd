//! # `tcp_stray_socket`: known-bad, holds a listening socket it never uses
//!
//! Known-bad: the grader must reject it. Before it connects, it makes a listening socket on
//! 127.0.0.1 (a leftover of server code copied into the client) and keeps it until it exits.
//!
//! The mistake: every socket a program holds is a descriptor, and a port that others see: `ss
//! -tlnp` shows this client listening. A client needs one socket, its connection.
//!
//! Everything else is as the contract says. Symptom: its conversations are all right; while it
//! waits for a reply, the grader sees two sockets, one of them in LISTEN.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with SocketsHeld

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
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
    // MISTAKE: a listening socket nobody connects to, held for the whole run.
    let _stray = TcpListener::bind("127.0.0.1:0").context("cannot listen")?;
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
