//! `loadgen`: the load generator of chapter 6. See `loadgen --help`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use support::cli;
use support::loadgen::{self, Load, Report};

/// Opens many connections to an echo server at once, sends messages on each, checks every echo,
/// and reports connections per second, messages per second, latency percentiles (p50, p99,
/// max), errors and, given the server's pid, its memory per connection.
///
/// Example: `loadgen --port 7000 --connections 1000 --messages 10 --think-ms 100 --pid PID`.
/// It exits 1 when any connection failed or any echo was wrong or missing, and says so when the
/// run hit a system limit (descriptors, local ports).
#[derive(Parser, Debug)]
#[command(name = "loadgen", version)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// The server's port.
    #[arg(long)]
    port: u16,

    /// Connections held open at the same time.
    #[arg(long, short = 'c', default_value_t = 100)]
    connections: usize,

    /// Messages per connection, each sent after the echo of the one before.
    #[arg(long, short = 'm', default_value_t = 10)]
    messages: usize,

    /// Pause between an echo and the next message on the same connection, in milliseconds.
    #[arg(long, default_value_t = 0)]
    think_ms: u64,

    /// Bytes per message, newline included.
    #[arg(long, default_value_t = 64)]
    size: usize,

    /// Give up after this many seconds; what is unfinished counts as errors.
    #[arg(long, default_value_t = 60)]
    timeout: u64,

    /// Connections being set up at the same time.
    #[arg(long, default_value_t = 256)]
    connect_batch: usize,

    /// The server's process id: report its memory (and its children's, for a fork server).
    #[arg(long)]
    pid: Option<i32>,

    /// Append one CSV row of the results to this file (for `plot`), under this label.
    #[arg(long, value_name = "FILE", requires = "label")]
    csv: Option<std::path::PathBuf>,

    /// The row's label, e.g. the model's name.
    #[arg(long)]
    label: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut failed = false;
    let code = cli::run_main("loadgen", || {
        let server = cli::resolve(&args.host, args.port)?[0];
        let load = Load {
            server,
            connections: args.connections,
            messages: args.messages,
            think: Duration::from_millis(args.think_ms),
            size: args.size.max(16),
            timeout: Duration::from_secs(args.timeout),
            connect_batch: args.connect_batch.max(1),
            pid: args.pid,
        };
        let report = loadgen::run(&load)?;
        print!("{}", report.text());
        if let (Some(path), Some(label)) = (&args.csv, &args.label) {
            append_csv(path, &report, label)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        failed = report.errors.total() > 0;
        Ok(())
    });
    if failed { ExitCode::FAILURE } else { code }
}

fn append_csv(path: &std::path::Path, report: &Report, label: &str) -> std::io::Result<()> {
    let new = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if new {
        writeln!(file, "{}", Report::CSV_HEADER)?;
    }
    writeln!(file, "{}", report.csv(label))
}
