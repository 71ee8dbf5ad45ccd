//! `framed-server`: the reference server of chapter 5, to run by hand. See `framed-server --help`.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;
use support::cli::{self, DualStackArg, ServerArgs};
use support::framed_server::{FrameFault, FramedOptions, FramedServer};
use support::{signals, trace};

/// A TCP server that speaks in frames: every message is a 4-byte big-endian length, then that
/// many bytes. It answers every frame with one frame (the payload in capital letters); when the
/// client half-closes, it sends two more ("received N frames", "bye") and closes.
///
/// Each fault option breaks the stream on purpose, as the grader does, to show what a client
/// must survive. The first line it prints is `listening on ADDR:PORT`. Stop it with Ctrl-C.
#[derive(Parser, Debug)]
#[command(name = "framed-server", version)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    dual: DualStackArg,

    /// Send every frame one byte per write.
    #[arg(long)]
    trickle: bool,

    /// Cut every frame into pieces of 1 to 7 bytes at random, one write each. The seed is
    /// printed on standard error; give it again to replay the same cuts.
    #[arg(long)]
    slice: bool,

    /// The seed for --slice (default: from the clock).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Send the farewell frames all in one write.
    #[arg(long)]
    coalesce: bool,

    /// Pad the reply to the first frame to this many bytes (try 2000000).
    #[arg(long, value_name = "BYTES")]
    large: Option<usize>,

    /// Answer the first frame with half a frame, then close.
    #[arg(long)]
    close_mid_frame: bool,

    /// Answer the first frame with a header announcing 2 GiB, over any sane limit.
    #[arg(long)]
    over_limit: bool,
}

fn main() -> ExitCode {
    cli::run_main("framed-server", || {
        let args = Args::parse();
        signals::exit_on_signal().context("cannot set up Ctrl-C handling")?;
        let mut options = FramedOptions::uppercase();
        options.trace = trace::init(args.server.trace);
        if args.trickle {
            options.faults.push(FrameFault::Trickle);
        }
        if args.slice {
            let seed = args.seed.unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
            eprintln!("framed-server: slicing writes with seed {seed}");
            options.faults.push(FrameFault::Slice { seed });
        }
        if args.coalesce {
            options.faults.push(FrameFault::Coalesce);
        }
        if let Some(bytes) = args.large {
            options.faults.push(FrameFault::Large { bytes });
        }
        if args.close_mid_frame {
            options.faults.push(FrameFault::CloseMidFrame);
        }
        if args.over_limit {
            options.faults.push(FrameFault::OverLimit);
        }
        let server = if args.dual.dual_stack {
            let port = args.server.port;
            FramedServer::bind_dual_stack(port, options)
                .with_context(|| format!("cannot bind [::]:{port} for both families"))?
        } else {
            let addr = args.server.addr()?;
            FramedServer::bind(addr, options).with_context(|| format!("cannot bind {addr}"))?
        };
        cli::announce(server.local_addr()?)?;
        server.serve().context("serving failed")
    })
}
