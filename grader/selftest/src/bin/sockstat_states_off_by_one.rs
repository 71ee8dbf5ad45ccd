//! Known-bad `sockstat`: names the states from an array one place off (1 is SYN-SENT, 10 CLOSING).
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatStateNames

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        states_off_by_one: true,
        ..Default::default()
    })
}
