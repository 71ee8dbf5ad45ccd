//! A tiny logger on standard error.
//!
//! Two levels, no dependencies:
//!
//! - **info**: connections accepted and closed, errors a server survives. Off by default, so a
//!   server running inside the grader stays quiet; the programs switch it on with [`init`].
//! - **trace**: every message sent and received. Each server decides from its options' `trace`
//!   field; the programs set that field from `--trace` or `RUST_LOG`, via [`init`].
//!
//! Standard output is kept for what a program is *for* (`listening on ...`, the replies), so that
//! scripts and the grader can read it; logs never mix into it.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

static INFO: AtomicBool = AtomicBool::new(false);

/// Switches on info logging for this process and says whether message tracing is wanted:
/// `--trace` was given, or `RUST_LOG` is set to anything but empty or `off`.
pub fn init(trace_flag: bool) -> bool {
    INFO.store(true, Ordering::Relaxed);
    trace_flag || rust_log_wants_trace()
}

fn rust_log_wants_trace() -> bool {
    std::env::var("RUST_LOG").is_ok_and(|v| !v.is_empty() && v != "off")
}

/// Logs one line at info level (see the module doc).
pub fn info(message: fmt::Arguments<'_>) {
    if INFO.load(Ordering::Relaxed) {
        eprintln!("{message}");
    }
}

/// Logs one line of message tracing; the caller has checked that tracing is on.
pub fn trace(message: fmt::Arguments<'_>) {
    eprintln!("trace: {message}");
}

/// Bytes as readable text for a log line: printable ASCII as is, the rest escaped (`\n`,
/// `\xff`), in double quotes. Garbage from a client can never garble the terminal.
pub fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}
