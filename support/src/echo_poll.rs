//! The event-loop echo server: one thread, non-blocking sockets, and `poll(2)`.
//!
//! Nothing here ever blocks except `poll` itself, which waits for *any* of the sockets to be
//! ready: the listener to have a connection, a client to have sent bytes (or closed), a client's
//! send buffer to have room again. Then the loop does what is possible without waiting, and polls
//! again. A client costs a descriptor and a small struct; a stalled client costs nothing at all
//! until it speaks again.
//!
//! What the blocking models get for free must be done by hand here:
//! - **Per-connection buffers.** A read may bring half a line; the protocol state ([`Echo`]) keeps
//!   it until the rest arrives, per connection, since the loop moves on to another client.
//! - **Partial writes.** A non-blocking `write` takes what fits in the socket's send buffer and
//!   returns how much that was (or `WouldBlock`). The rest waits in the connection's output
//!   buffer, and the loop asks for `POLLOUT` to learn when it can go on.
//! - **Back-pressure.** A client that sends but never reads would make its output buffer grow
//!   without end; past a limit, the loop stops reading from it until it reads what it was sent.
//! - **No busy loop.** A socket is polled only for what the loop is waiting for: `POLLOUT` only
//!   while there is something to send, since an idle socket is always writable.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::line_protocol::{self, Echo, EchoOptions, Ending, READ_BUFFER};
use crate::trace::{self, quoted};

/// Past this many unsent bytes for one client, stop reading from it until it catches up.
const HIGH_WATER: usize = 256 * 1024;
/// At most this many connections accepted per round, so that a flood of new clients cannot
/// starve the ones already connected.
const ACCEPTS_PER_ROUND: usize = 256;

/// One client of the loop.
struct Client {
    conn: u64,
    stream: TcpStream,
    echo: Echo,
    /// Bytes to send; `out[sent..]` is what the kernel has not taken yet.
    out: Vec<u8>,
    sent: usize,
    /// The client has half-closed: no more reading, finish sending, then close.
    read_closed: bool,
}

impl Client {
    fn unsent(&self) -> usize {
        self.out.len() - self.sent
    }

    // ANCHOR: interest
    fn interest(&self) -> PollFlags {
        let mut flags = PollFlags::empty();
        if !self.read_closed && self.unsent() < HIGH_WATER {
            flags |= PollFlags::POLLIN;
        }
        if self.unsent() > 0 {
            flags |= PollFlags::POLLOUT;
        }
        flags
    }
    // ANCHOR_END: interest

    /// Reads once (one read per client per round is fair to the others). `Err` means the
    /// connection is broken.
    fn on_readable(&mut self, buf: &mut [u8], options: &EchoOptions) -> io::Result<()> {
        match self.stream.read(buf) {
            Ok(0) => {
                self.read_closed = true;
                self.echo.end_of_stream(&mut self.out);
            }
            Ok(n) => {
                if options.trace {
                    trace::trace(format_args!("conn {} <- {}", self.conn, quoted(&buf[..n])));
                }
                self.echo.received(&buf[..n], &mut self.out);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Writes as much as the kernel takes now.
    // ANCHOR: flush
    fn flush(&mut self, options: &EchoOptions) -> io::Result<()> {
        while self.unsent() > 0 {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(n) => {
                    if options.trace {
                        let bytes = &self.out[self.sent..self.sent + n];
                        trace::trace(format_args!("conn {} -> {}", self.conn, quoted(bytes)));
                    }
                    self.sent += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.sent = 0;
        if self.out.capacity() > 2 * READ_BUFFER {
            // A burst made the buffer big; an idle client should not keep it.
            self.out = Vec::new();
        }
        Ok(())
    }
    // ANCHOR_END: flush

    fn finished(&self) -> bool {
        self.read_closed && self.unsent() == 0
    }
}

/// Serves every client from this one thread, for as long as the process runs.
pub fn serve(listener: TcpListener, options: &EchoOptions) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut clients: Vec<Client> = Vec::new();
    let mut next_conn = 1;
    // One read buffer for everybody: a client's unfinished line is kept in its `Echo`.
    let mut buf = vec![0u8; READ_BUFFER];
    let mut accept_paused = false;
    let mut ready: Vec<PollFlags> = Vec::new();
    loop {
        {
            let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(clients.len() + 1);
            let listening = if accept_paused {
                PollFlags::empty()
            } else {
                PollFlags::POLLIN
            };
            fds.push(PollFd::new(listener.as_fd(), listening));
            fds.extend(
                clients
                    .iter()
                    .map(|c| PollFd::new(c.stream.as_fd(), c.interest())),
            );
            let timeout = if accept_paused {
                // Accepting failed for want of descriptors: try again in a moment, not at once.
                PollTimeout::from(100u16)
            } else {
                PollTimeout::NONE
            };
            match poll(&mut fds, timeout) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
            ready.clear();
            ready.extend(
                fds.iter()
                    .map(|f| f.revents().unwrap_or(PollFlags::empty())),
            );
        }
        accept_paused = false;

        // Backwards, so that removing a client (swap_remove) never moves one not yet visited.
        for i in (0..clients.len()).rev() {
            let events = ready[i + 1];
            if events.is_empty() {
                continue;
            }
            let client = &mut clients[i];
            let mut result = Ok(());
            let wants_read = !client.read_closed && client.unsent() < HIGH_WATER;
            // POLLHUP and POLLERR are reported whatever was asked: a read tells which it is.
            if wants_read
                && events.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
            {
                result = client.on_readable(&mut buf, options);
            }
            // Write at once what the read produced: most of the time the kernel takes it all,
            // and no second round is needed.
            if result.is_ok() && client.unsent() > 0 {
                result = client.flush(options);
            }
            if !wants_read && events.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
                // Not reading, so the read cannot say: a write will, or the error is taken here.
                if let Ok(Some(e)) = client.stream.take_error() {
                    result = Err(e);
                }
            }
            let ending = match result {
                Err(e) => {
                    trace::info(format_args!("conn {}: failed: {e}", client.conn));
                    Some(Ending::Reset)
                }
                Ok(()) if client.finished() => {
                    // Our FIN, now: everything was sent and the client has nothing more to say.
                    let _ = client.stream.shutdown(Shutdown::Write);
                    Some(Ending::Finished)
                }
                Ok(()) => None,
            };
            if let Some(ending) = ending {
                let gone = clients.swap_remove(i);
                line_protocol::log_closed(gone.conn, ending);
                // Dropping the stream closes the descriptor.
            }
        }

        if ready[0].intersects(PollFlags::POLLIN | PollFlags::POLLERR) {
            for _ in 0..ACCEPTS_PER_ROUND {
                match listener.accept() {
                    Ok((stream, peer)) => {
                        if let Some(client) = admit(stream, peer, next_conn, options) {
                            clients.push(client);
                        }
                        next_conn += 1;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if line_protocol::accept_error_is_transient(&e) => {}
                    Err(e) => {
                        trace::info(format_args!("accept failed: {e}"));
                        accept_paused = true;
                        break;
                    }
                }
            }
        }
    }
}

fn admit(stream: TcpStream, peer: SocketAddr, conn: u64, options: &EchoOptions) -> Option<Client> {
    trace::info(format_args!("conn {conn}: accepted from {peer}"));
    // Linux does not pass O_NONBLOCK from the listener on to the accepted socket.
    if let Err(e) = stream.set_nonblocking(true) {
        trace::info(format_args!(
            "conn {conn}: cannot make it non-blocking: {e}"
        ));
        return None;
    }
    Some(Client {
        conn,
        stream,
        echo: Echo::new(options.max_line),
        out: Vec::new(),
        sent: 0,
        read_closed: false,
    })
}
