//! The echo line protocol of chapter 6, and the parts every concurrency model shares.
//!
//! The four servers of the chapter ([`crate::echo_iterative`], [`crate::echo_fork`],
//! [`crate::echo_threads`], [`crate::echo_poll`]) differ only in *how* they wait for many
//! clients. What they do with the bytes of one client is this module: [`Echo`] turns bytes
//! received into bytes to send, without doing any input or output itself. So the blocking models
//! and the event loop run the very same request handling, and a measured difference between them
//! is the model's, not the protocol's.
//!
//! The protocol: every line received (up to `'\n'`) is sent back, with its `'\n'`. A line longer
//! than the limit gets `error: line longer than N bytes` instead, and the rest of it is skipped.
//! At the client's end of stream, a last line without `'\n'` is echoed (with one), and the server
//! closes the connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};

use socket2::{Domain, Protocol, Socket, Type};

use crate::trace::{self, quoted};

/// The longest line echoed, in bytes without the `'\n'`.
pub const MAX_LINE: usize = 64 * 1024;
/// How many fully open connections the kernel may queue before the server accepts them. Linux
/// silently caps it at `net.core.somaxconn` (4096 here). When the queue is full, the kernel drops
/// new connection requests (SYNs) and clients retry after a second: a full backlog shows up as
/// connect latency, not as an error.
pub const BACKLOG: i32 = 1024;
/// How much one `read` asks for.
pub const READ_BUFFER: usize = 16 * 1024;

/// What every model's server is told.
#[derive(Clone, Debug)]
pub struct EchoOptions {
    /// Log every line received and sent on standard error.
    pub trace: bool,
    pub max_line: usize,
}

impl Default for EchoOptions {
    fn default() -> Self {
        EchoOptions {
            trace: false,
            max_line: MAX_LINE,
        }
    }
}

/// The listening socket, made step by step: `socket`, `setsockopt(SO_REUSEADDR)`, `bind`,
/// `listen`.
// ANCHOR: listen
pub fn listen(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Without SO_REUSEADDR a restarted server cannot bind its port while connections of the
    // previous run linger in TIME-WAIT.
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}
// ANCHOR_END: listen

/// One connection's protocol state: the start of a line still arriving.
#[derive(Debug)]
pub struct Echo {
    pending: Vec<u8>,
    /// True after an oversized line, until its `'\n'` comes by.
    discarding: bool,
    max_line: usize,
    /// Lines echoed so far.
    pub lines: u64,
}

impl Echo {
    pub fn new(max_line: usize) -> Echo {
        Echo {
            pending: Vec::new(),
            discarding: false,
            max_line,
            lines: 0,
        }
    }

    /// Takes bytes just received and appends to `out` what must be sent back.
    pub fn received(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let mut rest = bytes;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (piece, after) = (&rest[..nl], &rest[nl + 1..]);
            rest = after;
            if self.discarding {
                self.discarding = false;
                continue;
            }
            if self.pending.len() + piece.len() > self.max_line {
                self.pending.clear();
                self.oversized(out);
                continue;
            }
            // The common case, a whole line in one read, is copied once: straight to `out`.
            out.extend_from_slice(&self.pending);
            out.extend_from_slice(piece);
            out.push(b'\n');
            self.pending.clear();
            self.lines += 1;
        }
        if self.discarding {
            return;
        }
        if self.pending.len() + rest.len() > self.max_line {
            // No '\n' in sight and already too long: answer now rather than buffer without end.
            self.pending.clear();
            self.oversized(out);
            self.discarding = true;
        } else {
            self.pending.extend_from_slice(rest);
        }
        if self.pending.is_empty() && self.pending.capacity() > READ_BUFFER {
            // Give back what one long line made us hold: ten thousand idle clients must not each
            // keep 64 KiB.
            self.pending = Vec::new();
        }
    }

    /// The client's end of stream: a last line without `'\n'` is still a line.
    pub fn end_of_stream(&mut self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() && !self.discarding {
            out.append(&mut self.pending);
            out.push(b'\n');
            self.lines += 1;
        }
        self.pending = Vec::new();
    }

    fn oversized(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            format!("error: line longer than {} bytes\n", self.max_line).as_bytes(),
        );
    }
}

/// How a connection ended, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The client half-closed (or closed); everything was echoed.
    Finished,
    /// A read or write failed: the client reset the connection or vanished.
    Reset,
}

/// Serves one connection with blocking calls until it ends: the request handling of the
/// iterative, fork and thread models. The stream is closed when this returns.
// ANCHOR: serve_blocking
pub fn serve_blocking(mut stream: TcpStream, conn: u64, options: &EchoOptions) -> Ending {
    let mut echo = Echo::new(options.max_line);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut out = Vec::new();
    let ending = loop {
        let n = match stream.read(&mut buf) {
            // 0: the client has closed its sending side. Echo what is left, then close.
            Ok(0) => {
                echo.end_of_stream(&mut out);
                break send(&mut stream, &out, conn, options);
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break reset(conn, "read", &e),
        };
        if options.trace {
            trace::trace(format_args!("conn {conn} <- {}", quoted(&buf[..n])));
        }
        out.clear();
        echo.received(&buf[..n], &mut out);
        if send(&mut stream, &out, conn, options) == Ending::Reset {
            break Ending::Reset;
        }
        out.clear();
    };
    if ending == Ending::Finished {
        // Our FIN goes out now, while `stream` is dropped just after. Nothing is left unread
        // (we read up to the end of stream), so the close is an orderly one, not a reset.
        let _ = stream.shutdown(Shutdown::Write);
    }
    ending
}
// ANCHOR_END: serve_blocking

fn send(stream: &mut TcpStream, out: &[u8], conn: u64, options: &EchoOptions) -> Ending {
    if out.is_empty() {
        return Ending::Finished;
    }
    if options.trace {
        trace::trace(format_args!("conn {conn} -> {}", quoted(out)));
    }
    match stream.write_all(out) {
        Ok(()) => Ending::Finished,
        Err(e) => reset(conn, "write", &e),
    }
}

fn reset(conn: u64, what: &str, e: &io::Error) -> Ending {
    trace::info(format_args!("conn {conn}: {what} failed: {e}"));
    Ending::Reset
}

/// Logs a closed connection the same way in every model.
pub fn log_closed(conn: u64, ending: Ending) {
    match ending {
        Ending::Finished => trace::info(format_args!("conn {conn}: closed")),
        Ending::Reset => trace::info(format_args!("conn {conn}: closed after a reset")),
    }
}

/// Accept errors that concern one connection, not the listener: try the next one at once.
pub fn accept_error_is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
    )
}

/// Waits a little after `accept` failed for want of resources (too many open files, say), rather
/// than failing again at once in a tight loop. A back-off, not a synchronisation: nothing waits
/// for it to end.
pub fn pause_after_accept_failure() {
    std::thread::sleep(std::time::Duration::from_millis(100));
}

/// Raises this process's soft limit on open descriptors to its hard limit, and returns the new
/// soft limit. Every connection costs a descriptor; the default soft limit is often 1024.
pub fn raise_fd_limit() -> io::Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    Ok(hard.max(soft))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(echo: &mut Echo, pieces: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in pieces {
            echo.received(p, &mut out);
        }
        out
    }

    #[test]
    fn echoes_lines_whatever_the_pieces() {
        let mut echo = Echo::new(100);
        assert_eq!(
            feed(&mut echo, &[b"he", b"llo\nwor", b"ld\n"]),
            b"hello\nworld\n"
        );
        assert_eq!(feed(&mut echo, &[b"a\nb\n\n"]), b"a\nb\n\n");
        assert_eq!(echo.lines, 5);
    }

    #[test]
    fn a_last_line_without_newline_is_echoed_at_the_end() {
        let mut echo = Echo::new(100);
        let mut out = feed(&mut echo, &[b"x\ntail"]);
        echo.end_of_stream(&mut out);
        assert_eq!(out, b"x\ntail\n");
    }

    #[test]
    fn an_oversized_line_gets_one_error_and_is_skipped() {
        let mut echo = Echo::new(4);
        let out = feed(&mut echo, &[b"abc", b"de", b"fgh", b"ij\nok\n"]);
        assert_eq!(out, b"error: line longer than 4 bytes\nok\n");
        let out = feed(&mut echo, &[b"12345\nok\n"]);
        assert_eq!(out, b"error: line longer than 4 bytes\nok\n");
        let mut out = feed(&mut echo, &[b"123456"]);
        echo.end_of_stream(&mut out);
        assert_eq!(out, b"error: line longer than 4 bytes\n");
    }
}
