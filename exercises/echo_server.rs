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
#[allow(unused_imports)]
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
#[allow(unused_variables)]
fn listen(port: u16) -> Result<TcpListener> {
    // TODO: Bind a listener to 127.0.0.1 (not 0.0.0.0) port `port`; when that fails, return the
    // error with its context (`cannot listen on 127.0.0.1:PORT`), and `main` prints it. Then print
    // `listening on ADDRESS`, with the address `local_addr()` gives (the real port, when `port`
    // is 0), and flush standard output at once. Chapter 6, section "The listening socket:
    // `SO_REUSEADDR` and the backlog".
    todo!("listen on 127.0.0.1 and say where")
}
// ANCHOR_END: listen

// ANCHOR: serve
/// Accepts clients for as long as the program runs, and has each one served.
#[allow(unused_variables)]
fn serve(listener: TcpListener) -> Result<()> {
    // TODO: Accept connections in a loop, and serve each client *without* making the next one
    // wait: the simplest way is a thread per client that runs `serve_client`. A failed accept
    // concerns one client, not the server: report it on standard error and go on. Chapter 6,
    // sections "One client at a time" and "A thread per client".
    todo!("accept clients and serve them all at once")
}
// ANCHOR_END: serve

// ANCHOR: serve_client
/// Echoes one client's lines until it half-closes, then closes the connection.
#[allow(unused_variables, dead_code)]
fn serve_client(stream: TcpStream) -> Result<()> {
    // TODO: Read the client's lines and send each one back as soon as it is complete (a
    // BufReader on a clone of the stream, and `read_until(b'\n', ...)`); at the end of its
    // stream (0 bytes read) close the connection. A reset is an error for this client only.
    // Chapter 6, section "The request handling".
    todo!("echo one client's lines, then close")
}
// ANCHOR_END: serve_client
