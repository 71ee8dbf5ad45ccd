//! # `tcp_connect_per_line`: known-bad, one connection per line
//!
//! Known-bad: the grader must reject it. It opens a new connection for every input line: connects,
//! sends the line, half-closes, prints everything the server sends until it closes, and starts
//! again with the next line.
//!
//! The mistake: a TCP connection is a conversation, not one message. The contract asks for one
//! connection for the whole input, so that the server sees one client and its state (here, the
//! count of lines) spans the conversation.
//!
//! Everything else is as the contract says. Symptom: the server accepts as many connections as
//! there are lines; after each reply the program also prints that connection's closing lines (which
//! say "you sent 1 lines"); exit 0.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpConnectionPerLine

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
    let mut output = io::stdout().lock();
    for request in io::stdin().lock().split(b'\n') {
        let mut request = request.context("cannot read standard input")?;
        request.push(b'\n');
        // MISTAKE: a new connection for every line.
        let mut stream = TcpStream::connect((host, port))
            .with_context(|| format!("cannot connect to {host} port {port}"))?;
        stream
            .write_all(&request)
            .context("cannot send to the server")?;
        stream
            .shutdown(Shutdown::Write)
            .context("cannot shut down the sending side")?;
        let mut replies = BufReader::new(stream);
        let mut got_a_reply = false;
        while let Some(line) = read_line(&mut replies)? {
            print_line(&mut output, &line)?;
            got_a_reply = true;
        }
        if !got_a_reply {
            bail!("the server closed the connection before replying");
        }
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
