//! Known-bad `daemon_check`: it parses the pid file with `split(';')` and `parse`: a third field, a negative pid and port 0 pass.
//! Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonMalformedAccepted

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        lax_parse: true,
        ..Default::default()
    })
}
