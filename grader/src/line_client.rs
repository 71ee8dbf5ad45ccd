//! A client of the grader's own, for checks where the learner's program is the server: one TCP
//! connection, a name to show in failures, and reads of whole lines with deadlines.
//!
//! Every read waits for an event (a line, the end of the stream, an error) or its deadline,
//! never for a fixed time; what a read had got when its deadline came is kept for the next one.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Instant;

/// One connection to the program, and what has been read of the current line.
pub struct LineClient {
    /// How failures name this client: `client 3`, `the stalled client`.
    pub name: String,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    partial: Vec<u8>,
}

/// What came instead of what a client expected.
#[derive(Debug)]
pub enum Unexpected {
    /// Another line (or last piece) than the one expected; or, for an end, one more line.
    Other(Vec<u8>),
    /// The end of the stream, where a line was expected.
    End,
    Failed(io::Error),
    /// Nothing whole before the deadline; what had come of a line (without its end) is kept.
    TimedOut {
        pending: Vec<u8>,
    },
}

/// What one wait for a line gave.
#[derive(Debug)]
pub enum Received {
    /// A line with its newline; or, just before the end of the stream, a last piece without one.
    Line(Vec<u8>),
    /// The program closed its side (a read returned 0 with nothing pending).
    End,
    TimedOut,
    Failed(io::Error),
}

impl LineClient {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr, name: impl Into<String>) -> io::Result<LineClient> {
        let stream = TcpStream::connect(addr)?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(LineClient {
            name: name.into(),
            stream,
            reader,
            partial: Vec::new(),
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// This end's address: the peer address of the program's socket for this connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }

    /// A second handle on the connection, for a thread that writes while this one reads.
    pub fn writer(&self) -> io::Result<TcpStream> {
        self.stream.try_clone()
    }

    /// The next line (with its newline), the end of the stream, or the deadline.
    pub fn read(&mut self, deadline: Instant) -> Received {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Received::TimedOut;
            }
            if let Err(e) = self.stream.set_read_timeout(Some(left)) {
                return Received::Failed(e);
            }
            // On a timeout, read_until keeps in `partial` what it had read: the next call goes
            // on from there.
            match self.reader.read_until(b'\n', &mut self.partial) {
                Ok(0) if self.partial.is_empty() => return Received::End,
                // A line; or the end came after a piece without a newline: that piece first.
                Ok(_) => return Received::Line(std::mem::take(&mut self.partial)),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Received::Failed(e),
            }
        }
    }

    /// The next line must be `want`, byte for byte.
    pub fn expect_line(&mut self, want: &[u8], deadline: Instant) -> Result<(), Unexpected> {
        match self.read(deadline) {
            Received::Line(line) if line == want => Ok(()),
            other => Err(self.unexpected(other)),
        }
    }

    /// The next thing read must be the end of the stream.
    pub fn expect_end(&mut self, deadline: Instant) -> Result<(), Unexpected> {
        match self.read(deadline) {
            Received::End => Ok(()),
            other => Err(self.unexpected(other)),
        }
    }

    fn unexpected(&self, received: Received) -> Unexpected {
        match received {
            Received::Line(line) => Unexpected::Other(line),
            Received::End => Unexpected::End,
            Received::Failed(e) => Unexpected::Failed(e),
            Received::TimedOut => Unexpected::TimedOut {
                pending: self.partial.clone(),
            },
        }
    }

    /// Sends the end of this client's input (FIN); it can still read.
    pub fn half_close(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Closes with a reset (RST) rather than in order: `SO_LINGER` 0, then the last close.
    pub fn reset(self) {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket of ours, and a pointer to a linger struct of the size given.
        unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        // `reader` holds a clone: both go here, and the socket closes (with the reset) with the
        // last of them.
    }
}

/// Runs `each` on every client, each in a thread of its own, all at once, and collects what
/// they give, in order; `panicked` stands for a thread that panicked.
pub fn each_in_a_thread<R: Send>(
    clients: Vec<LineClient>,
    each: impl Fn(LineClient) -> R + Sync,
    panicked: impl Fn() -> R,
) -> Vec<R> {
    std::thread::scope(|scope| {
        let each = &each;
        let handles: Vec<_> = clients
            .into_iter()
            .map(|client| scope.spawn(move || each(client)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panicked()))
            .collect()
    })
}
