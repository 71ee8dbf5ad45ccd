//! Known-bad `daemon_check`: it sends `status` on its probe (the support daemon answers it),
//! though it never reads the answer and decides as the contract says. Keeps the `daemon_check`
//! contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonProbeSentData

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        sends_status: true,
        ..Default::default()
    })
}
