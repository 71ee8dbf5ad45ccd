//! # `echo_server`: serving many clients at once
//!
//! This program is a TCP echo server: every line a client sends comes back to that client. Many
//! clients may be connected at the same time, and a slow one (one that sends half a line and
//! then nothing for minutes) must not keep the others waiting. That is the whole difficulty: a
//! server that handles one client at a time is easy to write, and useless as soon as two people
//! use it.
//!
//! Read chapter 6, "Serving many clients", before you start; each `TODO` names the section that
//! helps. The suggested start is a thread per client; any model (fork, threads, `poll`) passes.
//!
//! Grade it with `cargo test -p grader -- echo_server`; try it by hand with
//! `cargo run -p exercises --bin echo_server` and, in other terminals, `nc 127.0.0.1 PORT`.
//!
//! An `#[allow(...)]` line in front of a stub or an import only keeps the compiler quiet about
//! what the unfinished program does not use yet: delete it when you are done.
//!
//! ## The contract
//!
//! The grader checks exactly this, and nothing else: you may rewrite the whole file as long as
//! the program keeps it.
//!
// ANCHOR: contract
// `echo_server [--port P]`: listen on 127.0.0.1 port P (default 0: any free port), and on no
// other address; print `listening on 127.0.0.1:PORT` (the real port) as the first line of
// standard output, then serve any number of clients at once, for as long as it runs. Every line
// a client sends (up to and including its newline) is sent back to that client, byte for byte,
// as soon as the line is complete. When a client half-closes, send back what is left of its
// input and close that connection. When a client resets its connection or vanishes, forget it
// and keep serving everyone else. Once a client has gone, the server holds nothing of it: no
// socket, no descriptor, no process (a child process that served it has exited, and has been
// waited for by the time the next client comes: no zombie).
//
// Wrong usage prints a usage line on standard error and exits 2. When it cannot listen, it
// prints one line on standard error with the system's reason (`echo_server: cannot listen on
// 127.0.0.1:80: Permission denied (os error 13)`) and exits 1; never a panic.
// ANCHOR_END: contract

use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;

use anyhow::Result;

// The tools for the TODOs.
use {
    anyhow::Context,
    std::io::{self, BufRead, BufReader, Write},
    std::net::{Shutdown, SocketAddr},
    std::thread,
};

const USAGE: &str = "usage: echo_server [--port P]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(port) = parse_args(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("echo_server: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `[--port P]` -> the port, or `None` for anything else.
fn parse_args(args: &[String]) -> Option<u16> {
    match args {
        [] => Some(0),
        [flag, port] if flag == "--port" => port.parse().ok(),
        _ => None,
    }
}

fn run(port: u16) -> Result<()> {
    let listener = listen(port)?;
    serve(listener)
}

// ANCHOR: listen
/// Listens on 127.0.0.1 port `port`, and says where on the first line of standard output.
fn listen(port: u16) -> Result<TcpListener> {
    // Loopback only: 0.0.0.0 would take clients from every network the machine is on.
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener =
        TcpListener::bind(address).with_context(|| format!("cannot listen on {address}"))?;
    // The real port (port 0 means "any free one"), first thing, flushed at once: whoever started
    // us waits for this line to know where to connect.
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {}", listener.local_addr()?)?;
    out.flush()?;
    Ok(listener)
}
// ANCHOR_END: listen

// ANCHOR: serve
/// Accepts clients for as long as the program runs, and has each one served.
fn serve(listener: TcpListener) -> Result<()> {
    loop {
        // `accept` blocks until a client connects, and returns a new socket for that one client;
        // the listening socket goes on listening.
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                // One failed accept (the client reset before we took it, or we are out of
                // descriptors for a moment) is not a reason to stop serving everyone else.
                eprintln!("echo_server: accept failed: {e}");
                continue;
            }
        };
        // A thread per client: this one may block in `read` for as long as its client likes,
        // while the loop goes straight back to `accept`. The thread owns the stream, so the
        // socket is closed when the thread ends, whatever way it ends.
        let started = thread::Builder::new().spawn(move || {
            if let Err(e) = serve_client(stream) {
                eprintln!("echo_server: {peer}: {e:#}");
            }
        });
        if let Err(e) = started {
            // Out of threads: this client is refused (its stream was dropped, which closes it).
            eprintln!("echo_server: cannot serve {peer}: {e}");
        }
    }
}
// ANCHOR_END: serve

// ANCHOR: serve_client
/// Echoes one client's lines until it half-closes, then closes the connection.
fn serve_client(stream: TcpStream) -> Result<()> {
    // Two handles on one socket: one reads through a buffer, the other writes.
    let mut reader = BufReader::new(stream.try_clone().context("cannot clone the socket")?);
    let mut writer = &stream;
    let mut line = Vec::new();
    loop {
        line.clear();
        // Up to and including the next newline, however many reads that takes. 0 bytes: the
        // client half-closed. A last piece without a newline comes back as it is.
        let n = reader.read_until(b'\n', &mut line).context("cannot read")?;
        if n == 0 {
            break;
        }
        writer.write_all(&line).context("cannot send")?;
    }
    // Our FIN, now. The descriptors themselves close when `reader` and `stream` are dropped
    // on return: both, since a socket closes only with its last descriptor.
    stream.shutdown(Shutdown::Write).context("cannot close")?;
    Ok(())
}
// ANCHOR_END: serve_client
