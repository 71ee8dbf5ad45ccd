//! Known-bad `sockstat`: prints one line per socket, not per descriptor: the second descriptor of a socket is missing.
//! Keeps the `sockstat` contract otherwise.
//!
//! selftest: sockstat rejects with SockstatTableDiffers

use std::process::ExitCode;

mod sockstat_parts;

fn main() -> ExitCode {
    sockstat_parts::main(sockstat_parts::Mistakes {
        per_inode: true,
        ..Default::default()
    })
}
