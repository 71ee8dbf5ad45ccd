//! # `tcp_read_exact_style`: correct, in another style (a byte at a time)
//!
//! Correct: the grader must accept it. It has no `BufReader`: it reads the server's lines one byte
//! at a time with `read_exact` on a clone of the socket, until each newline.
//!
//! One system call per byte is slow for big transfers, but it is correct: it never reads past the
//! end of the line, so nothing is left in a buffer between replies, whatever pieces the bytes
//! arrive in. An end of stream in the middle of a line ends that line (printed with a newline
//! added); at the start of a line it is the end of the conversation.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client accepts

use std::io::{self, BufRead, Read, Write};
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
    // A second handle on the same socket, for reading.
    let mut replies = stream.try_clone().context("cannot clone the socket")?;
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
fn read_line(replies: &mut impl Read) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut byte = [0; 1];
    loop {
        // `read_exact` waits until it has the one byte (and retries when a signal interrupts).
        match replies.read_exact(&mut byte) {
            Ok(()) if byte[0] == b'\n' => return Ok(Some(line)),
            Ok(()) => line.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Ok(if line.is_empty() { None } else { Some(line) });
            }
            Err(e) => return Err(e).context("cannot read from the server"),
        }
    }
}

fn print_line(output: &mut impl Write, line: &[u8]) -> Result<()> {
    output.write_all(line)?;
    output.write_all(b"\n")?;
    output.flush()?;
    Ok(())
}
