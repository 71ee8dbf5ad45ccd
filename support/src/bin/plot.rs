//! `plot`: draws chapter 6's comparison chart, or its table, from `loadgen --csv` rows. See
//! `plot --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use support::{cli, plot};

/// Reads the CSV rows that `loadgen --csv FILE --label MODEL` appended, one per run, and writes
/// an SVG chart: messages per second, p50 and p99 latency and memory per connection (PSS)
/// against the number of concurrent connections, one line per model. Runs of the same model at
/// the same load are taken together: the chart shows their median, with a bar from the lowest
/// to the highest. A measure whose values span more than a factor of ten gets a log scale.
///
/// With --table, it prints the same medians and spreads as a Markdown table instead.
///
/// Example: `plot measured.csv -o comparison.svg`, `plot measured.csv --table`.
#[derive(Parser, Debug)]
#[command(name = "plot", version)]
struct Args {
    /// The CSV file written by loadgen.
    csv: PathBuf,

    /// Where to write the SVG.
    #[arg(long, short = 'o', required_unless_present = "table")]
    out: Option<PathBuf>,

    /// Print the medians and spreads as a Markdown table on standard output.
    #[arg(long)]
    table: bool,

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
        if rows.is_empty() {
            anyhow::bail!("{} has no runs in it", args.csv.display());
        }
        if args.table {
            print!("{}", plot::table(&rows));
        }
        if let Some(out) = &args.out {
            std::fs::write(out, plot::svg(&rows, &args.title))
                .with_context(|| format!("cannot write {}", out.display()))?;
            let message = format!("wrote {} ({} runs)", out.display(), rows.len());
            if args.table {
                eprintln!("{message}");
            } else {
                cli::say(message)?;
            }
        }
        Ok(())
    })
}
