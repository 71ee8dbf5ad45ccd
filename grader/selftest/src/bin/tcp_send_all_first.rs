//! # `tcp_send_all_first`: known-bad, sends everything before it reads a reply
//!
//! Known-bad: the grader must reject it. It sends every input line first, half-closes, and only
//! then reads: it prints everything the server sent, line by line, until the server closes. It has
//! no `BufReader`: a `read` loop into a 64-byte buffer, split on newlines by hand.
//!
//! The mistake: the contract asks for each reply to be printed before the program waits for the
//! next line of input. With its input all given at once this program looks right; a person who
//! types a line and waits for its reply waits for ever, since the program reads the next line
//! first.
//!
//! Everything else is as the contract says. Symptom: with standard input open and written line by
//! line, it prints nothing after the first line, and waits to read the second.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with NotInteractive

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
    // Send everything first. Meanwhile the server's replies wait in our socket's receive buffer
    // (this relies on the replies to the whole input fitting in the socket buffers, as they do
    // for a few lines; a long input would need reading and writing at the same time).
    let mut sent = 0;
    for request in io::stdin().lock().split(b'\n') {
        let mut request = request.context("cannot read standard input")?;
        request.push(b'\n');
        stream
            .write_all(&request)
            .context("cannot send to the server")?;
        sent += 1;
    }
    stream
        .shutdown(Shutdown::Write)
        .context("cannot shut down the sending side")?;

    // Then print the stream line by line, whatever pieces `read` returns it in.
    let mut output = io::stdout().lock();
    let mut received = 0;
    let mut pending = Vec::new();
    let mut buffer = [0; 64];
    loop {
        let len = match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("cannot read from the server"),
        };
        pending.extend_from_slice(&buffer[..len]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            output.write_all(&line)?;
            output.flush()?;
            received += 1;
        }
    }
    if !pending.is_empty() {
        // A last line cut short by the close is still a line.
        pending.push(b'\n');
        output.write_all(&pending)?;
        output.flush()?;
        received += 1;
    }
    if received < sent {
        bail!(
            "the server closed the connection before replying to line {}",
            received + 1
        );
    }
    Ok(())
}
