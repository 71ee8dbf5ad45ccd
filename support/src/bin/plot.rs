//! `plot`: draws chapter 6's comparison chart from `loadgen --csv` rows. See `plot --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use support::{cli, plot};

/// Reads the CSV rows that `loadgen --csv FILE --label MODEL` appended, one per run, and writes
/// an SVG chart: messages per second, p99 latency and memory per connection against the number
/// of concurrent connections, one line per model.
#[derive(Parser, Debug)]
#[command(name = "plot", version)]
struct Args {
    /// The CSV file written by loadgen.
    csv: PathBuf,

    /// Where to write the SVG.
    #[arg(long, short = 'o')]
    out: PathBuf,

    /// The chart's title.
    #[arg(long, default_value = "Four concurrency models under load")]
    title: String,
}

fn main() -> ExitCode {
    cli::run_main("plot", || {
        let args = Args::parse();
        let text = std::fs::read_to_string(&args.csv)
            .with_context(|| format!("cannot read {}", args.csv.display()))?;
        let rows = plot::parse(&text)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("{} is not loadgen's CSV", args.csv.display()))?;
        std::fs::write(&args.out, plot::svg(&rows, &args.title))
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        cli::say(format_args!(
            "wrote {} ({} runs)",
            args.out.display(),
            rows.len()
        ))?;
        Ok(())
    })
}
