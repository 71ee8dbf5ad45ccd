//! # `tcp_reset_at_end`: known-bad, ends the connection with a reset
//!
//! Known-bad: the grader must reject it. At the end of its input it sets SO_LINGER to 0 ("so that
//! the port is not left in TIME-WAIT") and closes the connection, instead of half-closing.
//!
//! The mistake: a close with SO_LINGER 0 is an abort. The kernel sends a reset (RST) instead of an
//! end of stream (FIN) and throws away whatever is still on its way: the server's read fails with
//! "connection reset" instead of returning 0, and its last lines never arrive.
//!
//! Everything else is as the contract says: one connection, replies read whole, errors reported.
//! Symptom: it prints every reply and exits 0, but none of the lines the server sends after the end
//! of input; the server read a reset.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with TcpReset

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use socket2::SockRef;

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
    // MISTAKE: SO_LINGER 0, then close (both handles: the kernel acts on the last one), instead
    // of `shutdown(Shutdown::Write)` and reading to the end.
    SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .context("cannot set SO_LINGER")?;
    drop(replies);
    drop(stream);
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
