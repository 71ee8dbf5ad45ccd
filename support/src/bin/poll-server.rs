//! `poll-server`: the event-loop echo server of chapter 6, to run by hand. See `poll-server --help`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use support::cli::{self, ServerArgs};
use support::line_protocol::{self, BACKLOG, EchoOptions, MAX_LINE};
use support::{echo_poll, signals, trace};

/// An echo server that serves every client from one thread, with non-blocking sockets and poll(2).
///
/// Every line a client sends comes back to it; when the client half-closes, the server echoes
/// what is left and closes the connection. Talk to it with `tcp-client 127.0.0.1 PORT` or
/// `nc 127.0.0.1 PORT`; load it with `loadgen`. The first line it prints is
/// `listening on ADDR:PORT`; accepts and closes are logged on standard error (with --trace,
/// every message too). Stop it with Ctrl-C.
#[derive(Parser, Debug)]
#[command(name = "poll-server", version)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,

    /// The listen backlog: how many connections the kernel queues before they are accepted
    /// (capped by net.core.somaxconn).
    #[arg(long, value_name = "N", default_value_t = BACKLOG)]
    backlog: i32,

    /// The longest line echoed, in bytes; a longer one gets an error line instead.
    #[arg(long, value_name = "N", default_value_t = MAX_LINE)]
    max_line: usize,
}

fn main() -> ExitCode {
    cli::run_main("poll-server", || {
        let args = Args::parse();
        signals::exit_on_signal().context("cannot set up Ctrl-C handling")?;
        let options = EchoOptions {
            trace: trace::init(args.server.trace),
            max_line: args.max_line,
        };
        // Every client costs a descriptor: take as many as the system allows.
        line_protocol::raise_fd_limit().context("cannot raise the descriptor limit")?;
        let addr = args.server.addr()?;
        let listener = line_protocol::listen(addr, args.backlog)
            .with_context(|| format!("cannot listen on {addr}"))?;
        cli::announce(listener.local_addr()?)?;
        echo_poll::serve(listener, &options).context("serving failed")
    })
}
