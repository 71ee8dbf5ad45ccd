//! Known-bad `daemon_check`: it connects with `TcpStream::connect`, which has no time limit: on a listener whose backlog is full it waits about two minutes.
//! Keeps the `daemon_check` contract otherwise.
//!
//! selftest: daemon_check rejects with DaemonConnectNoTimeout

use std::process::ExitCode;

mod daemon_parts;

fn main() -> ExitCode {
    daemon_parts::main(daemon_parts::Mistakes {
        blocking_connect: true,
        ..Default::default()
    })
}
