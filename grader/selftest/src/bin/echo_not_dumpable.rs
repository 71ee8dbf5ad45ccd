//! # `echo_not_dumpable`: known-bad, hides its descriptors
//!
//! Known-bad: the grader must reject it. It calls `prctl(PR_SET_DUMPABLE, 0)` first thing, which
//! gives its /proc/PID entries to root: an ordinary user (and `ss -p`, `lsof`) can no longer see
//! its sockets, so nobody can check that it holds nothing of a client that has gone.
//!
//! Everything else is as the contract says: it is the solution with that one call added. As
//! root, the grader starts it without CAP_SYS_PTRACE, so it is hidden from root as from a learner
//! and the verdict is the same for both.
//!
//! Contract: `echo_server [--port P]`, as in `exercises/echo_server.rs` (chapter 6).
//!
//! selftest: echo_server rejects with Uninspectable

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
    // The mistake: hiding the process's descriptors from everyone but root.
    // SAFETY: prctl with integer arguments changes only this process's dumpable flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0);
    }
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
