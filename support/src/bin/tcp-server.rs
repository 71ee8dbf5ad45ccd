//! `tcp-server`: the reference TCP line server, to run by hand. See `tcp-server --help`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use support::cli::{self, DualStackArg, ServerArgs};
use support::tcp_server::{Pace, TcpFault, TcpLineServer, TcpOptions};
use support::{signals, trace};

/// A TCP server that answers every line with one line: the same text in capital letters.
///
/// Talk to it with `tcp-client 127.0.0.1 PORT` or `nc 127.0.0.1 PORT`. When the client closes
/// its sending side (half-close; Ctrl-D in nc), the server sends two more lines, "received N
/// lines" and "bye", then closes the connection. It serves many clients at once.
///
/// The first line it prints is `listening on ADDR:PORT`; everything else (logs, with --trace
/// every line) goes to standard error. Stop it with Ctrl-C.
#[derive(Parser, Debug)]
#[command(name = "tcp-server", version)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    dual: DualStackArg,

    /// Put this word and a space before every reply, e.g. `--tag demo` answers "hi" with
    /// "demo HI".
    #[arg(long)]
    tag: Option<String>,

    /// Send every reply one byte at a time, pausing this many milliseconds after each byte, to
    /// show that TCP has no message boundaries: one line may take many reads.
    #[arg(long, value_name = "MS")]
    trickle_ms: Option<u64>,

    /// Close each connection right after its first line, without replying.
    #[arg(long)]
    close_early: bool,

    /// The longest line accepted, in bytes; a longer one gets an error line instead of a reply.
    #[arg(long, value_name = "N", default_value_t = 65536)]
    max_line: usize,
}

fn main() -> ExitCode {
    cli::run_main("tcp-server", || {
        let args = Args::parse();
        signals::exit_on_signal().context("cannot set up Ctrl-C handling")?;
        let mut options = TcpOptions::uppercase(args.tag);
        options.trace = trace::init(args.server.trace);
        options.max_line = args.max_line;
        if let Some(ms) = args.trickle_ms {
            let pace = Pace::Every(Duration::from_millis(ms));
            options.faults.push(TcpFault::Trickle(pace));
        }
        if args.close_early {
            options.faults.push(TcpFault::CloseBeforeReply);
        }
        let server = if args.dual.dual_stack {
            let port = args.server.port;
            TcpLineServer::bind_dual_stack(port, options)
                .with_context(|| format!("cannot bind [::]:{port} for both families"))?
        } else {
            let addr = args.server.addr()?;
            TcpLineServer::bind(addr, options).with_context(|| format!("cannot bind {addr}"))?
        };
        cli::announce(server.local_addr()?)?;
        server.serve().context("serving failed")
    })
}
