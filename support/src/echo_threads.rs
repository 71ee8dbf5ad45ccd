//! The thread-per-client echo server.
//!
//! The accepting thread hands every new connection to a thread of its own, which serves it with
//! plain blocking calls. A client that stalls blocks only its own thread. The cost: every client
//! holds a thread (a kernel task, a stack, a scheduler entry) for as long as it stays connected,
//! even when it sends nothing at all; thousands are fine, hundreds of thousands are not.

use std::io;
use std::net::TcpListener;
use std::thread;

use crate::line_protocol::{self, EchoOptions};
use crate::trace;

/// Each connection thread's stack. Serving one connection needs little (the read buffer is on the
/// heap), and the default of 2 MiB of address space per thread adds up at ten thousand clients.
const STACK: usize = 64 * 1024;

/// Serves every client on a thread of its own, for as long as the process runs.
pub fn serve(listener: TcpListener, options: &EchoOptions) -> io::Result<()> {
    let mut next_conn = 1;
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if line_protocol::accept_error_is_transient(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: this client is refused (the kernel already
                // dropped it), the ones being served go on.
                trace::info(format_args!("accept failed: {e}"));
                line_protocol::pause_after_accept_failure();
                continue;
            }
        };
        let conn = next_conn;
        next_conn += 1;
        trace::info(format_args!("conn {conn}: accepted from {peer}"));
        // ANCHOR: spawn
        let options = options.clone();
        let started = thread::Builder::new()
            .name(format!("conn {conn}"))
            .stack_size(STACK)
            .spawn(move || {
                let ending = line_protocol::serve_blocking(stream, conn, &options);
                line_protocol::log_closed(conn, ending);
            });
        // The thread is detached: it ends with its connection, and nothing waits for it.
        if let Err(e) = started {
            // The stream moved into the closure that failed to start, and is closed with it.
            trace::info(format_args!("conn {conn}: cannot start a thread: {e}"));
        }
        // ANCHOR_END: spawn
    }
}
