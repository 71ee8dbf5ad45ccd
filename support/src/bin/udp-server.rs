//! `udp-server`: the reference UDP server, to run by hand. See `udp-server --help`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use support::cli::{self, DualStackArg, ServerArgs};
use support::udp_server::{UdpFault, UdpOptions, UdpServer};
use support::{signals, trace};

/// A UDP server that answers every datagram with one datagram: the same text in capital
/// letters.
///
/// Send it something with `udp-client` or `nc -u 127.0.0.1 PORT`. The first line it prints is
/// `listening on ADDR:PORT`; everything else (logs, with --trace every datagram) goes to standard
/// error. Stop it with Ctrl-C.
///
/// The fault options make it misbehave on purpose, the way a real network sometimes does, so you
/// can see how a client copes.
#[derive(Parser, Debug)]
#[command(name = "udp-server", version)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    dual: DualStackArg,

    /// Put this word and a space before every reply, e.g. `--tag demo` answers "hi" with
    /// "demo HI", so you can tell several servers apart.
    #[arg(long)]
    tag: Option<String>,

    /// Ignore the first copy of every datagram, as if the network had lost it; answer only when
    /// the client sends the same thing again.
    #[arg(long)]
    drop_first: bool,

    /// Before each reply, send the client a fake reply from another port (a "stranger"), to see
    /// whether the client checks who its replies come from.
    #[arg(long)]
    stranger: bool,

    /// Receive and log datagrams, never answer.
    #[arg(long)]
    silent: bool,
}

fn main() -> ExitCode {
    cli::run_main("udp-server", || {
        let args = Args::parse();
        signals::exit_on_signal().context("cannot set up Ctrl-C handling")?;
        let mut options = UdpOptions::uppercase(args.tag);
        options.trace = trace::init(args.server.trace);
        if args.drop_first {
            options.faults.push(UdpFault::DropFirstCopy { only: None });
        }
        if args.stranger {
            options.faults.push(UdpFault::Stranger);
        }
        if args.silent {
            options.faults.push(UdpFault::Silent);
        }
        let server = if args.dual.dual_stack {
            let port = args.server.port;
            UdpServer::bind_dual_stack(port, options)
                .with_context(|| format!("cannot bind [::]:{port} for both families"))?
        } else {
            let addr = args.server.addr()?;
            UdpServer::bind(addr, options).with_context(|| format!("cannot bind {addr}"))?
        };
        cli::announce(server.local_addr()?)?;
        server.serve().context("serving failed")
    })
}
