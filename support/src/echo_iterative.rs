//! The iterative echo server: one client at a time.
//!
//! `accept`, serve that client until it leaves, `accept` the next. The simplest server there is,
//! and the first one everybody writes; it is here to show why it is not enough. While one client
//! is being served, the others wait: their connections are complete (the kernel accepted them into
//! the listen backlog) and their lines sit unread in the kernel's buffers. A client that connects
//! and then does nothing, or sends half a line and stalls, stops the whole server.

use std::io;
use std::net::TcpListener;

use crate::line_protocol::{self, EchoOptions};
use crate::trace;

/// Serves clients one after the other, for as long as the process runs.
// ANCHOR: serve
pub fn serve(listener: TcpListener, options: &EchoOptions) -> io::Result<()> {
    let mut next_conn = 1;
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if line_protocol::accept_error_is_transient(&e) => continue,
            Err(e) => {
                // Out of descriptors, say: this client is refused, the server goes on.
                trace::info(format_args!("accept failed: {e}"));
                line_protocol::pause_after_accept_failure();
                continue;
            }
        };
        let conn = next_conn;
        next_conn += 1;
        trace::info(format_args!("conn {conn}: accepted from {peer}"));
        // Everything else waits until this returns.
        let ending = line_protocol::serve_blocking(stream, conn, options);
        line_protocol::log_closed(conn, ending);
    }
}
// ANCHOR_END: serve
