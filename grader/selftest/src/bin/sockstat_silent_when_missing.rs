//! Known-bad `sockstat`: for a process that does not exist, prints the header only and exits 0.
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with ErrorNotReported

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        silent_when_missing: true,
        ..Default::default()
    })
}
