//! Known-bad `sockstat`: sorts the lines as text, so descriptor 10 comes before 3.
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatTableDiffers

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        sorted_as_text: true,
        ..Default::default()
    })
}
