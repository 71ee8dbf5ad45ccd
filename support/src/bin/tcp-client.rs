//! `tcp-client`: a tool to poke TCP servers by hand. See `tcp-client --help`.

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;

use anyhow::Context;
use clap::Parser;
use support::cli;

/// Connects to HOST PORT, sends each line you type (or pipe in), and shows every piece of data
/// that comes back exactly as it arrived.
///
/// Each `recv N bytes: "..."` line is one read from the socket. Watch how they rarely line up
/// with the server's lines: TCP delivers a stream of bytes, not messages, so one reply may come
/// in several reads, or several replies in one.
///
/// At the end of input (Ctrl-D) it closes its sending side only, `shutdown(Write)`, and prints
/// `sent FIN (half-close)`: the server sees the end of the stream but can still answer. When the
/// server closes too, it prints `peer closed` and exits.
#[derive(Parser, Debug)]
#[command(name = "tcp-client", version)]
struct Args {
    /// The server: a name like `localhost`, or an IPv4 or IPv6 address.
    host: String,

    /// The server's port.
    port: u16,

    /// At the end of input, do not half-close: just wait until the server closes.
    #[arg(long)]
    no_half_close: bool,
}

fn main() -> ExitCode {
    cli::run_main("tcp-client", || {
        let args = Args::parse();
        let stream = connect(&args.host, args.port)?;
        let (local, peer) = (stream.local_addr()?, stream.peer_addr()?);
        cli::say(format_args!("connected {local} -> {peer}"))?;
        let reader = stream.try_clone()?;
        // Told when this thread has said all it will say, so "peer closed" comes last.
        let (said_all, wait_for_main) = mpsc::channel::<()>();
        let receiving = thread::spawn(move || receive(reader, wait_for_main));
        let mut writer = &stream;
        for line in io::stdin().lock().lines() {
            let mut line = line.context("cannot read standard input")?;
            line.push('\n');
            writer.write_all(line.as_bytes()).context("cannot send")?;
        }
        INPUT_ENDED.store(true, Ordering::SeqCst);
        if !args.no_half_close {
            stream
                .shutdown(Shutdown::Write)
                .context("cannot half-close")?;
            cli::say("sent FIN (half-close)")?;
        }
        let _ = said_all.send(());
        match receiving.join() {
            Ok(result) => result,
            Err(_) => anyhow::bail!("the receiving thread failed"),
        }
    })
}

/// Tries every address of `host` in turn, as a well-behaved client does.
fn connect(host: &str, port: u16) -> anyhow::Result<TcpStream> {
    let mut last = None;
    for addr in cli::resolve(host, port)? {
        match TcpStream::connect(addr) {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                last = Some(anyhow::Error::new(e).context(format!("cannot connect to {addr}")))
            }
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("{host} has no address")))
}

/// Prints each read until the server closes. If our input has not ended, the main thread may
/// be blocked reading standard input for good, so this thread ends the whole process (status 0,
/// or 1 on an error). If it has ended, the main thread is about to say that it half-closed: wait
/// for that, so the lines come out in the order things happened, and return.
fn receive(stream: TcpStream, main_said_all: mpsc::Receiver<()>) -> anyhow::Result<()> {
    let result = print_reads(stream);
    if INPUT_ENDED.load(Ordering::SeqCst) {
        // An error in the main thread drops the sender: recv returns at once then too.
        let _ = main_said_all.recv();
        return result.and_then(|()| cli::say("peer closed").context("cannot print"));
    }
    match result.and_then(|()| cli::say("peer closed").context("cannot print")) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("tcp-client: error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// Whether standard input has ended (the main thread is past its reading loop).
static INPUT_ENDED: AtomicBool = AtomicBool::new(false);

fn print_reads(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 65536];
    loop {
        match stream.read(&mut buf) {
            // 0 means the server closed its sending side: nothing more will ever arrive.
            // 0 bytes: the server closed its side; the caller says so.
            Ok(0) => return Ok(()),
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                cli::say(format_args!("recv {n} bytes: \"{}\"", text.escape_debug()))
                    .context("cannot print")?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("cannot receive"),
        }
    }
}
