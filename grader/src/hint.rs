//! The mistakes the grader knows by name, and what to tell a learner who made one.
//!
//! Every failing check ends in exactly one [`Hint`]: the concept the program got wrong and the
//! chapter that explains it. The grader's own tests run one known-bad program per hint and expect
//! that very hint, so a hint here is a promise that the grader can tell this mistake apart.
//!
//! Every hint names the section of the book that explains it ([`SECTIONS`]); a test proves that
//! every variant has one and that every section exists in its chapter.

use std::fmt;

/// A chapter of the book, by number, title and file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chapter {
    pub number: u8,
    pub title: &'static str,
    pub file: &'static str,
}

impl fmt::Display for Chapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chapter {}, \"{}\" (book/src/{})",
            self.number, self.title, self.file
        )
    }
}

pub const CH_SOCKETS: Chapter = Chapter {
    number: 1,
    title: "Sockets, descriptors and addresses",
    file: "ch01-sockets.md",
};
pub const CH_UDP: Chapter = Chapter {
    number: 2,
    title: "UDP",
    file: "ch02-udp.md",
};
pub const CH_TCP: Chapter = Chapter {
    number: 3,
    title: "TCP",
    file: "ch03-tcp.md",
};
pub const CH_DAEMONS: Chapter = Chapter {
    number: 7,
    title: "Daemons and liveness",
    file: "ch07-daemons.md",
};
pub const CH_SEEING: Chapter = Chapter {
    number: 4,
    title: "Seeing sockets",
    file: "ch04-seeing-sockets.md",
};
pub const CH_FRAMING: Chapter = Chapter {
    number: 5,
    title: "Byte streams and message framing",
    file: "ch05-framing.md",
};
pub const CH_MANY_CLIENTS: Chapter = Chapter {
    number: 6,
    title: "Serving many clients",
    file: "ch06-many-clients.md",
};

/// A named mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hint {
    /// An untouched `todo!()` was reached.
    NotDone { location: String, chapter: Chapter },
    /// The program does not compile.
    DoesNotCompile { chapter: Chapter },
    /// The program panicked instead of reporting an error.
    Panicked { chapter: Chapter },
    /// The program was killed by a signal (a crash or an abort).
    Crashed { chapter: Chapter },
    /// An error happened and the program said nothing, or exited 0.
    ErrorNotReported { chapter: Chapter },
    /// The program exited with an error although the exchange should have worked.
    FailedNeedlessly { chapter: Chapter },
    /// It printed replies that the server never sent.
    MadeUpReplies { chapter: Chapter },
    /// HOST as a name, or an IPv6 literal, did not work.
    AddressFamily { chapter: Chapter },
    /// Output differs from what the server sent in a way no other hint explains.
    WrongOutput { chapter: Chapter },
    /// The server did not receive what the program should have sent.
    WrongRequests { chapter: Chapter },
    /// Still running long after it should have finished, with nothing lost on the way.
    Hung { chapter: Chapter },
    /// The grader could not set the check up: not the learner's fault.
    Setup { chapter: Chapter },
    /// Wrong usage did not print one usage line on standard error and exit 2.
    UsageNotReported { chapter: Chapter },
    /// Read its input ahead: it did not print the reply to a line before the next line came.
    NotInteractive { chapter: Chapter },
    /// Wrote each message in two pieces, so that every message waited about 40 ms for a delayed
    /// acknowledgement (Nagle's algorithm).
    SplitWrites { chapter: Chapter },

    // UDP
    /// Gave up after the first lost datagram.
    UdpNoRetry,
    /// Sent more than three tries, or did not wait between them.
    UdpTooManyTries,
    /// Waited forever for a datagram that was lost.
    UdpNoTimeout,
    /// Bound a fixed local port instead of an ephemeral one.
    UdpFixedPort,
    /// Printed a datagram that came from another address than the server's.
    UdpAcceptsStrangers,
    /// Received into a buffer too small for the reply.
    UdpTruncated,
    /// Used more than one socket (source address) for one conversation.
    UdpManySockets,
    /// Waited much less, or much more, than 1 s for the reply after a try.
    UdpTryWait,
    /// Printed a reply long after it had come: slept instead of waiting on the socket.
    UdpLateReply,
    /// Waited a whole second again after each stranger's datagram, so strangers kept it waiting.
    UdpStrangerRestartsWait,
    /// The server replied, and the program sent again as if nothing had come: it did not know the
    /// server's replies for what they were (an IPv6 socket sees `::ffff:127.0.0.1`).
    UdpRepliesIgnored,
    /// Took an expired read timeout (`os error 11`, EAGAIN) for an error, instead of sending again.
    UdpTimeoutIsError,
    /// Sent the newline as part of the datagram.
    UdpNewlineSent,

    // TCP
    /// Took whatever one read returned as one reply.
    TcpOneReadOneMessage,
    /// Opened more than one connection.
    TcpConnectionPerLine { chapter: Chapter },
    /// Never shut down its sending side, so the server never saw the end of input.
    TcpNoHalfClose { chapter: Chapter },
    /// Left before the server had closed, missing what it sent after the half-close.
    TcpLeftEarly { chapter: Chapter },
    /// Ended its connection with a reset (SO_LINGER 0, or closing with unread data) instead of a
    /// half-close: the server read an error, not an end of stream.
    TcpReset { chapter: Chapter },

    // Daemons
    /// Took EPERM from `kill(pid, 0)` for "no such process".
    DaemonEpermMeansAlive,
    /// Said "running" because something accepted on the port, without asking whose socket it is.
    DaemonConnectProvesNothing,
    /// Said "running" for a live process that nothing accepts for on the port.
    DaemonAliveIsNotListening,
    /// Printed its verdict but kept the probe connection open (and itself running).
    DaemonProbeLeftOpen,
    /// Ended its probe connection with a reset instead of an orderly close.
    DaemonProbeReset,
    /// A verdict other than the one the situation calls for, in a way no other hint explains.
    DaemonWrongVerdict,
    /// Said "running" without ever connecting to the port.
    DaemonNoProbe,
    /// Sent bytes on its probe connection.
    DaemonProbeSentData,
    /// Connected with no time limit, and hung on a listener whose backlog is full.
    DaemonConnectNoTimeout,
    /// Gave a verdict about the port's owner although the daemon's descriptors could not be read.
    DaemonGuessedOwner,
    /// Took a malformed pid file for a good one.
    DaemonMalformedAccepted,

    // Sockets seen from outside (any client exercise)
    /// The descriptor count grew with the input: something opened per line is never closed.
    DescriptorLeak { chapter: Chapter },
    /// While waiting for a reply it held other sockets than its one connection to the server.
    SocketsHeld { chapter: Chapter },
    /// The program hid its descriptors from the grader (not dumpable), so its sockets cannot be
    /// checked.
    Uninspectable { chapter: Chapter },

    // Framing
    /// Took one read as one frame: lost or cut frames that arrived in pieces or together.
    FramedOneReadOneFrame,
    /// Wrote or read the length in the wrong byte order.
    FramedByteOrder,
    /// Believed a length over the limit, and waited for (or allocated) it.
    FramedNoLimit,
    /// Printed part of a frame the connection cut short.
    FramedPrintedBrokenFrame,

    // Many clients
    /// Served one client at a time: the others waited until it left.
    EchoOneAtATime,
    /// Echoed nothing until the client's end of input.
    EchoWaitsForEnd,
    /// Never closed a connection whose client had half-closed (it stays in CLOSE-WAIT).
    EchoNeverCloses,
    /// Kept a descriptor for every client that had gone.
    EchoLeaksDescriptors,
    /// Stopped serving (exited) after a client reset its connection.
    EchoDiesOnReset,
    /// An echo went to the wrong client, or was not the line sent.
    EchoMixedUp,
    /// The first line is not `listening on 127.0.0.1:PORT`, or `--port` was not honoured.
    EchoFirstLine,
    /// Listened, but its `listening on` line never reached standard output (left in a buffer).
    EchoLineNotFlushed,
    /// Listened on another address than 127.0.0.1 (0.0.0.0: every address of the machine).
    EchoListensBeyondLoopback,
    /// Exited while there were clients to serve, and not because one of them reset.
    EchoStopsServing,
    /// Echoed other bytes than the client sent: a newline added, taken off, or changed.
    EchoAltersLines,
    /// Left a process behind for clients that had gone: a child still running, or a zombie
    /// never waited for.
    EchoChildrenLeft,

    // Seeing sockets
    /// Read only /proc/net/tcp and udp: the IPv6 sockets are missing.
    SockstatIpv4Only,
    /// Read addresses or ports in the wrong byte order.
    SockstatByteOrder,
    /// Put the four 32-bit words of an IPv6 address in the wrong order.
    SockstatIpv6WordOrder,
    /// Listed sockets of the whole machine (every line of the tables), not the process's own.
    SockstatNotOwnSockets,
    /// Named the kernel's state numbers wrong.
    SockstatStateNames,
    /// Left out the UDP sockets.
    SockstatNoUdp,
    /// Read the tables of its own network namespace (`/proc/net/tcp`), not the process's.
    SockstatOtherNamespace,
    /// The table differs from the truth in a way no other hint explains.
    SockstatTableDiffers,
}

impl Hint {
    pub fn chapter(&self) -> Chapter {
        use Hint::*;
        match self {
            NotDone { chapter, .. }
            | DoesNotCompile { chapter }
            | Panicked { chapter }
            | Crashed { chapter }
            | ErrorNotReported { chapter }
            | FailedNeedlessly { chapter }
            | MadeUpReplies { chapter }
            | AddressFamily { chapter }
            | WrongOutput { chapter }
            | WrongRequests { chapter }
            | Hung { chapter }
            | Setup { chapter }
            | UsageNotReported { chapter }
            | NotInteractive { chapter }
            | SplitWrites { chapter }
            | TcpConnectionPerLine { chapter }
            | TcpNoHalfClose { chapter }
            | TcpLeftEarly { chapter }
            | TcpReset { chapter }
            | DescriptorLeak { chapter }
            | SocketsHeld { chapter }
            | Uninspectable { chapter } => *chapter,
            FramedOneReadOneFrame | FramedByteOrder | FramedNoLimit | FramedPrintedBrokenFrame => {
                CH_FRAMING
            }
            UdpNoRetry
            | UdpTooManyTries
            | UdpNoTimeout
            | UdpFixedPort
            | UdpAcceptsStrangers
            | UdpTruncated
            | UdpManySockets
            | UdpTryWait
            | UdpLateReply
            | UdpStrangerRestartsWait
            | UdpRepliesIgnored
            | UdpTimeoutIsError
            | UdpNewlineSent => CH_UDP,
            TcpOneReadOneMessage => CH_TCP,
            DaemonEpermMeansAlive
            | DaemonConnectProvesNothing
            | DaemonAliveIsNotListening
            | DaemonProbeLeftOpen
            | DaemonProbeReset
            | DaemonWrongVerdict
            | DaemonNoProbe
            | DaemonProbeSentData
            | DaemonConnectNoTimeout
            | DaemonGuessedOwner
            | DaemonMalformedAccepted => CH_DAEMONS,
            EchoOneAtATime
            | EchoWaitsForEnd
            | EchoNeverCloses
            | EchoLeaksDescriptors
            | EchoDiesOnReset
            | EchoMixedUp
            | EchoFirstLine
            | EchoLineNotFlushed
            | EchoListensBeyondLoopback
            | EchoStopsServing
            | EchoAltersLines
            | EchoChildrenLeft => CH_MANY_CLIENTS,
            SockstatIpv4Only
            | SockstatByteOrder
            | SockstatIpv6WordOrder
            | SockstatNotOwnSockets
            | SockstatStateNames
            | SockstatNoUdp
            | SockstatOtherNamespace
            | SockstatTableDiffers => CH_SEEING,
        }
    }

    /// The advice, in plain words.
    pub fn advice(&self) -> String {
        use Hint::*;
        match self {
            NotDone { location, .. } => {
                format!("not done yet: start at the TODO in {location}")
            }
            DoesNotCompile { .. } => "the program does not compile: the compiler's message is \
                above; fix the first error first, the others often follow from it"
                .into(),
            Panicked { .. } => "the program panicked. A panic is never a way to report an \
                error: every call that can fail (connect, send, recv) returns a Result; turn the \
                error into one line on standard error (`eprintln!`) and exit with status 1"
                .into(),
            Crashed { .. } => {
                "the program was killed by a signal. If it was SIGPIPE, it wrote to a \
                connection the peer had closed; Rust programs normally get an EPIPE error instead"
                    .into()
            }
            ErrorNotReported { .. } => "when the exchange cannot be done the program must say so: \
                one line on standard error, and exit status 1 (not 0, and not silence)"
                .into(),
            FailedNeedlessly { .. } => "the program gave up although the server was there and \
                would have answered: read the error it printed, and compare its steps with the chapter's"
                .into(),
            MadeUpReplies { .. } => "the program printed lines the server never sent. A client \
                prints what it receives, byte for byte: the grader's server makes replies that \
                cannot be guessed from the requests"
                .into(),
            AddressFamily { .. } => "HOST may be a name (localhost), an IPv4 literal or an IPv6 \
                literal (::1). Resolve it with `ToSocketAddrs` (\"HOST:PORT\" does not work for \
                IPv6; use (host, port)), and make the socket of the family of the address you got: \
                an IPv4 socket cannot talk to ::1"
                .into(),
            WrongOutput { .. } => "what the program printed is not what the server sent: compare \
                the two, line by line, in the transcript above"
                .into(),
            WrongRequests { .. } => "the server did not receive what the contract says to send: \
                each input line, in order (UDP: one datagram per line, without the newline; TCP: \
                the line with its newline)"
                .into(),
            Hung { .. } => "the program was still running long after its input ended, although \
                nothing was lost: it waits for something that never comes. Compare what it waits \
                for with the contract"
                .into(),
            Setup { .. } => "the grader could not set this check up, which is not your program's \
                fault: run it again, and report it if it keeps happening"
                .into(),
            UsageNotReported { .. } => "when the command line is wrong (no arguments, too many, \
                a port that is not a number from 1 to 65535), print one usage line on standard \
                error, such as `usage: NAME HOST PORT`, and exit with status 2 \
                (`ExitCode::from(2)`): 2 is what a wrong command line exits with, by convention, \
                and 1 is for errors once the program runs"
                .into(),
            NotInteractive { .. } => "a person types one line and waits for its reply before \
                typing the next: print each reply as soon as it has come, before reading the \
                next line of input (Rust's standard output flushes at every newline; a \
                `BufWriter` around it does not, so flush it after each reply). Do not read all of \
                standard input first"
                .into(),
            SplitWrites { .. } => "each message reached the server about 40 ms after the one \
                before: the program writes a message in two pieces (a line, then its newline; a \
                frame's header, then its payload). The second piece waits until the server has \
                acknowledged the first (Nagle's algorithm), and the server, with no whole message \
                to answer yet, delays its acknowledgement by up to 40 ms. Build the whole message \
                in one buffer and send it with one `write_all`"
                .into(),
            UdpNoRetry => "UDP does not deliver every datagram: the server never got the first \
                copy. When no reply comes within 1 s, send the same datagram again (3 tries in \
                all) before giving up"
                .into(),
            UdpTooManyTries => "send each line at most 3 times, wait 1 s for the reply after each \
                try, and after the third give up: one line on standard error, exit status 1. A \
                program that never gives up never reports the lost server either"
                .into(),
            UdpTryWait => "after each try, wait 1 s for the reply, no less (a server may take \
                most of a second to answer) and no more (the grader accepts 0.8 s to 1.6 s): a \
                read timeout of what is left of that second, set before each recv_from"
                .into(),
            UdpLateReply => "a reply may come at any moment of the second: wait for it on the \
                socket (recv_from with a read timeout returns as soon as a datagram arrives) and \
                print it at once. A sleep followed by a look makes every reply late"
                .into(),
            UdpStrangerRestartsWait => {
                "a stranger's datagram ends a recv_from too: then wait only \
                for what is left of the try's second (a deadline taken once per try, and \
                `set_read_timeout(deadline - now)` before each recv_from), not a whole second \
                again, or a stranger who keeps sending keeps the program waiting for ever"
                    .into()
            }
            UdpRepliesIgnored => "the server replied, and the program sent the same datagram \
                again as if nothing had come: it did not take the server's reply for one. Compare \
                the sender's address (IP and port) with the address you sent to, in the same \
                form. A socket bound to [::] (IPv6) that talks to 127.0.0.1 receives the replies \
                from ::ffff:127.0.0.1, an IPv4-mapped IPv6 address that never equals 127.0.0.1: \
                bind 0.0.0.0 for an IPv4 server (the server's family), or compare \
                `from.ip().to_canonical()`"
                .into(),
            UdpTimeoutIsError => "`Resource temporarily unavailable (os error 11)` is what an \
                expired read timeout looks like (EAGAIN; `ErrorKind::WouldBlock`, or `TimedOut`): \
                it means \"no reply this time\", not an error. Send the datagram again (3 tries \
                in all), and only then give up, with your own message"
                .into(),
            UdpNewlineSent => "the server received the line with its newline: a datagram \
                carries exactly the bytes you give it, and one datagram is one line already. Send \
                the line without its newline"
                .into(),
            UdpNoTimeout => "a lost datagram never arrives, so a plain recv_from waits forever. \
                Set a read timeout (`set_read_timeout(Some(1 s))`) and treat WouldBlock/TimedOut \
                as \"no reply this time\""
                .into(),
            UdpFixedPort => "bind the client's socket to port 0, so the system picks a free \
                ephemeral port: a fixed port fails as soon as two clients run at once, or another \
                program holds it"
                .into(),
            UdpAcceptsStrangers => "anyone can send a datagram to your port. recv_from tells you \
                who sent it: ignore every datagram whose sender is not the server's address (or \
                connect the UDP socket, so the kernel filters for you)"
                .into(),
            UdpTruncated => "a datagram longer than your buffer is cut, and the rest is lost. \
                Receive into a buffer of 65536 bytes, the most one UDP datagram can carry"
                .into(),
            UdpManySockets => "use one socket for the whole conversation: the server answers the \
                address (and port) each datagram came from"
                .into(),
            TcpOneReadOneMessage => "TCP is a byte stream: one read may return part of a reply \
                line, or several. Read until the newline (e.g. BufReader::read_line), never take \
                one read as one message"
                .into(),
            TcpConnectionPerLine { .. } => "connect once and send every line over that one connection: \
                the server keeps one conversation per connection"
                .into(),
            TcpNoHalfClose { .. } => "at the end of input, shut down the sending side \
                (`stream.shutdown(Shutdown::Write)`): that is how the server learns there is \
                nothing more to come, and only then does it send its last lines and close"
                .into(),
            TcpReset { .. } => "the server read a reset (RST), not an end of stream: the connection was \
                aborted, and whatever was still on its way in either direction is lost. That is \
                what closing with SO_LINGER set to 0 does (or closing with unread bytes in the \
                receive buffer). At the end of input, half-close (`shutdown(Shutdown::Write)`), \
                read until the server closes, then let the stream be dropped"
                .into(),
            DaemonEpermMeansAlive => "kill(pid, 0) failing with EPERM means the process \
                exists but is not yours to signal; only ESRCH means \"no such process\". A shell's \
                `kill -0` hides the difference: look at the errno"
                .into(),
            DaemonConnectProvesNothing => "a connection that succeeds proves only that something \
                listens on the port, not that it is the pid file's process: find the LISTEN socket \
                of the port in /proc/net/tcp and tcp6 and look for `socket:[INODE]` among the \
                links in /proc/PID/fd"
                .into(),
            DaemonAliveIsNotListening => "a live process is not yet a running daemon: connect to \
                127.0.0.1:PORT, and say `not listening` when the connection is refused"
                .into(),
            DaemonProbeLeftOpen => "the verdict was right, but the program kept its probe \
                connection open and did not end: close the connection as soon as it is made, send \
                nothing, wait for nothing, and exit"
                .into(),
            DaemonProbeReset => "the probe connection ended with a reset: close it in order \
                (shutdown, then drop, with nothing unread and no SO_LINGER 0), so that the daemon \
                reads an end of stream"
                .into(),
            DaemonWrongVerdict => "the verdict is not the one this situation calls for: take the \
                steps in order (the file, the process, the port, the owner of the port) and print \
                exactly one of the contract's lines"
                .into(),
            DaemonNoProbe => "no probe connection was made: a process and a LISTEN socket in \
                /proc prove only that something could accept, not that it does. Connect to \
                127.0.0.1:PORT (and close at once) before you say `running`"
                .into(),
            DaemonProbeSentData => "the probe connection sent bytes to the daemon: a status \
                check sends nothing (a daemon may take them for a request, or for garbage, and \
                log or answer it). Connect, then close at once: the connection is the proof"
                .into(),
            DaemonConnectNoTimeout => "the program hung in connect: when the listener's backlog \
                is full, the kernel drops the SYN and a plain `connect` retries for about two \
                minutes. Use `TcpStream::connect_timeout` with what is left of the 2 s, and say \
                `not listening` when it runs out"
                .into(),
            DaemonGuessedOwner => "the daemon's descriptors (/proc/PID/fd) could not be read, so \
                nothing proves who holds the port: that is a failure of the check, not a \
                verdict. Print no verdict; say why in one line on standard error and exit 1"
                .into(),
            DaemonMalformedAccepted => "a pid file that is not exactly `PID;PORT` is malformed \
                (the cases above say what is wrong with each): split at `;` into exactly two \
                parts, digits only, a pid from 1 that fits an i32, a port from 1 to 65535, and \
                say `malformed pid file` for anything else, before any kill or connect"
                .into(),
            TcpLeftEarly { .. } => "after the half-close, keep reading and printing until read returns 0 \
                (the server closed): the server sends its last lines only after it has seen your \
                end of input"
                .into(),
            DescriptorLeak { .. } => "the program's count of open descriptors grew with its \
                input: something it opens for each line (a socket, a clone of one, a file) is \
                never closed. A long-running program runs out of descriptors that way; keep one \
                connection and let what you open per line be dropped"
                .into(),
            SocketsHeld { .. } => "while it waits for a reply, the program should hold exactly \
                one socket: its TCP connection to the server's port (for UDP, its one UDP \
                socket). Look at the table above (as \
                `ss -tanp` or `lsof -p PID` would show it) for the ones that should not be there"
                .into(),
            Uninspectable { .. } => "the grader must see the program's descriptors in \
                /proc/PID/fd, as `ss -p` and `lsof` do, and it could not: the program made itself \
                not dumpable (prctl(PR_SET_DUMPABLE, 0)) or changed its user. Leave both out: \
                the contract is about sockets the grader can see"
                .into(),
            FramedOneReadOneFrame => "one read is not one frame: a frame may arrive a byte at a \
                time, in pieces, or glued to the next one. Read exactly 4 bytes of length, then \
                exactly that many bytes (`read_exact`, or a loop), and keep what came after"
                .into(),
            FramedByteOrder => "the length is 4 bytes in network byte order (big-endian, most \
                significant byte first): `u32::to_be_bytes` and `u32::from_be_bytes`; the \
                server read a length that made no sense"
                .into(),
            FramedNoLimit => "a peer can announce any length up to 4 GiB: check the length \
                against the limit (16 MiB) before you allocate or wait for that many bytes, and \
                fail at once with one line on standard error"
                .into(),
            FramedPrintedBrokenFrame => "when the connection closes inside a frame, that frame \
                is broken: print nothing of it, say so on standard error and exit 1. Print a \
                payload only once all of it has arrived"
                .into(),
            EchoOneAtATime => "the server serves one client at a time: while one is connected \
                (or stalls half-way through a line), every other client waits. Hand each \
                accepted connection to a thread of its own (or a child process, or serve them \
                all from one poll loop) and go straight back to accept"
                .into(),
            EchoWaitsForEnd => "the server echoes nothing until the client's end of input. \
                Send each line back as soon as its newline has arrived: a client that waits for \
                the echo of its first line before sending the second would wait forever"
                .into(),
            EchoNeverCloses => "when a client half-closes (read returns 0), send back what is \
                left and close the connection: drop every handle on the socket (clones \
                included), since the kernel closes it only with its last descriptor. Until \
                then the client never sees the end, and `ss` shows the socket in CLOSE-WAIT"
                .into(),
            EchoLeaksDescriptors => "the server keeps a descriptor for every client that has \
                gone: its descriptor count grows with each connection until accept fails with \
                \"Too many open files\". Make sure everything opened for a client (the stream, \
                its clones, anything else) is dropped when that client is done"
                .into(),
            EchoDiesOnReset => "a client that resets its connection (or vanishes) makes read or \
                write fail: that is an error for that one client, never for the server. Report \
                it, forget the client, and keep serving the others"
                .into(),
            EchoMixedUp => "every line must go back to the client that sent it, exactly as it \
                was sent (newline included), and only once: keep one reader and one writer per \
                connection, and never share a buffer between clients"
                .into(),
            EchoFirstLine => "the first line on standard output must be `listening on \
                127.0.0.1:PORT`, with the real port (with `--port 0` the one the system picked, \
                from `local_addr()`), printed and flushed before the first client comes"
                .into(),
            EchoLineNotFlushed => "the server listens, but its `listening on` line never \
                reached standard output, so whoever started it cannot know where to connect. \
                It is still in a buffer (a `BufWriter` around stdout, or `print!` without a \
                newline): call `flush()` on standard output right after writing it. It must be \
                the first line of standard output, not of standard error"
                .into(),
            EchoListensBeyondLoopback => "the server listens on more than loopback: 0.0.0.0 \
                (or ::) is every address of the machine, so anyone who can reach it over the \
                network can connect. Bind 127.0.0.1, as the contract says; the socket table \
                (`ss -tlnp`) shows the address a server really listens on, whatever it prints"
                .into(),
            EchoStopsServing => "the server exited while there were clients to serve. A server \
                runs until it is stopped: accept in a loop that never ends (no `take(N)`, no \
                `return` when a client is done), and let what goes wrong with one client end \
                that client's thread (or child), never the process"
                .into(),
            EchoAltersLines => "the echo is not byte for byte what the client sent. \
                `BufRead::lines()` takes the newline off (and a `\\r` before it), and `writeln!` \
                puts one back even where there was none, such as after the last piece a client \
                sends before it half-closes. Read with `read_until(b'\\n', ...)` and write back \
                exactly the bytes read"
                .into(),
            EchoChildrenLeft => "the server kept a process for clients that had gone. A child \
                that has served its client must exit, and the parent must wait for it \
                (`waitpid`, with `WNOHANG` in its loop, or on `SIGCHLD`): until then it stays a \
                zombie (state Z in `ps`, `<defunct>`), one per client served, until `fork` fails"
                .into(),
            SockstatIpv4Only => "the IPv6 sockets are missing: they are in other tables, \
                /proc/PID/net/tcp6 and udp6 (an IPv6 socket talking to an IPv4 address too, as \
                ::ffff:127.0.0.1). Read all four tables: tcp, tcp6, udp and udp6"
                .into(),
            SockstatByteOrder => "an address or a port is read in the wrong byte order. The \
                port is a plain hexadecimal number (`1F90` is 8080). The address is printed as \
                32-bit words in this machine's byte order: parse each 8-digit word as a u32 and \
                take its bytes with `to_ne_bytes` (`0100007F` is 127.0.0.1)"
                .into(),
            SockstatIpv6WordOrder => "the IPv6 addresses have their four 32-bit words in the \
                wrong order: only the bytes inside each word are in the machine's order, the \
                words themselves come first to last. Do not reverse the whole 32 digits (or the \
                whole u128): turn each 8-digit word into its 4 bytes, and keep the words in order"
                .into(),
            SockstatNotOwnSockets => "the table lists sockets that are not the process's: \
                /proc/PID/net/tcp shows every socket of the network namespace, whoever holds it. \
                Start from the process's descriptors, /proc/PID/fd, keep the links that read \
                `socket:[INODE]`, and print only the table lines with those inodes"
                .into(),
            SockstatStateNames => "a state is named wrong. The `st` column is hexadecimal and \
                numbered from 1: 01 ESTAB, 02 SYN-SENT, 03 SYN-RECV, 04 FIN-WAIT-1, 05 \
                FIN-WAIT-2, 06 TIME-WAIT, 07 UNCONN, 08 CLOSE-WAIT, 09 LAST-ACK, 0A LISTEN, 0B \
                CLOSING (the names `ss` prints)"
                .into(),
            SockstatNoUdp => "the UDP sockets are missing: they are in /proc/PID/net/udp and \
                udp6, with the same columns as the TCP tables (state 07, UNCONN, for a socket \
                that is not connected; 01, ESTAB, for a connected one)"
                .into(),
            SockstatOtherNamespace => "the process's sockets are missing: it lives in a network \
                namespace of its own, and /proc/net/tcp (like /proc/self/net/tcp) is the table of \
                the namespace of the program that reads it. Read the process's own tables, \
                /proc/PID/net/tcp, tcp6, udp and udp6"
                .into(),
            SockstatTableDiffers => "the table is not the grader's reading of /proc: compare the \
                two above, from the first line that differs. One line per socket descriptor (two \
                descriptors of one socket are two lines), sorted by descriptor number, five \
                columns separated by single spaces"
                .into(),
        }
    }
}

impl Hint {
    /// The variant's name, as written in this file (`UdpNoRetry`, `Panicked`).
    pub fn name(&self) -> String {
        let debug = format!("{self:?}");
        debug
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// The heading of the section of [`Hint::chapter`] that explains this mistake.
    pub fn section(&self) -> &'static str {
        let name = self.name();
        let chapter = self.chapter();
        SECTIONS
            .iter()
            .find(|(n, number, _)| *n == name && (*number == 0 || *number == chapter.number))
            .map_or_else(|| exercise_section(chapter), |(_, _, section)| section)
    }
}

/// The section of `chapter` that sets its exercise (see [`crate::manifest`]).
fn exercise_section(chapter: Chapter) -> &'static str {
    crate::manifest::EXERCISES
        .iter()
        .find(|e| e.chapter == chapter)
        .map_or(chapter.title, |e| e.section)
}

/// The section that explains each hint: (variant, chapter number or 0 for any, heading). A hint
/// that is not listed here, or not for its chapter, points at the chapter's exercise section.
pub const SECTIONS: &[(&str, u8, &str)] = &[
    ("AddressFamily", 2, "Addresses and names"),
    ("AddressFamily", 3, "connect"),
    ("UdpNoRetry", 0, "Lost datagrams"),
    ("UdpTooManyTries", 0, "Lost datagrams"),
    ("UdpNoTimeout", 0, "Lost datagrams"),
    ("UdpFixedPort", 0, "bind: the client's own address"),
    ("UdpAcceptsStrangers", 0, "Who sent this?"),
    ("UdpTruncated", 0, "A buffer too small cuts the datagram"),
    ("UdpManySockets", 0, "bind: the client's own address"),
    ("UdpTryWait", 0, "Lost datagrams"),
    ("UdpLateReply", 0, "Lost datagrams"),
    ("UdpStrangerRestartsWait", 0, "Who sent this?"),
    ("UdpRepliesIgnored", 0, "Who sent this?"),
    ("UdpTimeoutIsError", 0, "Lost datagrams"),
    ("UdpNewlineSent", 0, "sendto and recvfrom"),
    ("SplitWrites", 3, "One write per message"),
    ("SplitWrites", 5, "A length prefix"),
    ("TcpOneReadOneMessage", 0, "recv: no message boundaries"),
    ("TcpConnectionPerLine", 3, "connect"),
    ("TcpNoHalfClose", 3, "shutdown and close"),
    ("TcpNoHalfClose", 5, "The end of the conversation"),
    ("TcpLeftEarly", 3, "shutdown and close"),
    ("TcpLeftEarly", 5, "The end of the conversation"),
    ("TcpReset", 3, "shutdown and close"),
    ("TcpReset", 5, "The end of the conversation"),
    ("DaemonEpermMeansAlive", 0, "kill(pid, 0)"),
    ("DaemonConnectProvesNothing", 0, "Who holds the port"),
    ("DaemonAliveIsNotListening", 0, "Connecting to check"),
    (
        "DaemonProbeLeftOpen",
        0,
        "What a status check must never do",
    ),
    ("DaemonProbeReset", 0, "What a status check must never do"),
    ("DaemonNoProbe", 0, "Connecting to check"),
    (
        "DaemonProbeSentData",
        0,
        "What a status check must never do",
    ),
    (
        "DaemonConnectNoTimeout",
        0,
        "What a status check must never do",
    ),
    ("DaemonGuessedOwner", 0, "Who holds the port"),
    ("DaemonMalformedAccepted", 0, "The pid file"),
    ("FramedOneReadOneFrame", 0, "read_exact"),
    ("FramedByteOrder", 0, "A length prefix"),
    ("FramedNoLimit", 0, "Limits"),
    ("FramedPrintedBrokenFrame", 0, "The end of the conversation"),
    ("EchoOneAtATime", 0, "A thread per client"),
    ("EchoWaitsForEnd", 0, "The request handling"),
    ("EchoNeverCloses", 0, "The request handling"),
    ("EchoLeaksDescriptors", 0, "The request handling"),
    ("EchoDiesOnReset", 0, "The request handling"),
    ("EchoMixedUp", 0, "The request handling"),
    (
        "EchoFirstLine",
        0,
        "The listening socket: `SO_REUSEADDR` and the backlog",
    ),
    (
        "EchoLineNotFlushed",
        0,
        "The listening socket: `SO_REUSEADDR` and the backlog",
    ),
    (
        "EchoListensBeyondLoopback",
        0,
        "The listening socket: `SO_REUSEADDR` and the backlog",
    ),
    ("EchoStopsServing", 0, "The request handling"),
    ("EchoAltersLines", 0, "The request handling"),
    ("EchoChildrenLeft", 0, "A process per client: `fork`"),
    ("SockstatIpv4Only", 0, "The kernel's tables"),
    ("SockstatByteOrder", 0, "Reading an address"),
    ("SockstatIpv6WordOrder", 0, "Reading an address"),
    ("SockstatNotOwnSockets", 0, "A process's descriptors"),
    ("SockstatStateNames", 0, "States"),
    ("SockstatNoUdp", 0, "The kernel's tables"),
    ("SockstatOtherNamespace", 0, "The kernel's tables"),
];

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chapter = self.chapter();
        write!(
            f,
            "{}; read chapter {}, section \"{}\" (book/src/{})",
            self.advice(),
            chapter.number,
            self.section(),
            chapter.file
        )
    }
}

/// The names of every variant of [`Hint`], read from this very file: what the self-test needs to
/// prove that each one is earned by a known-bad program.
pub fn variant_names() -> Vec<String> {
    let source = include_str!("hint.rs");
    let body = source
        .split("pub enum Hint {")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("the enum");
    body.lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            l.split([' ', ',', '{'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headings(chapter_file: &str) -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
        std::fs::read_to_string(root.join(chapter_file))
            .expect("the chapter's file")
            .lines()
            .filter(|l| l.starts_with("## ") || l.starts_with("### "))
            .map(|l| l.trim_start_matches('#').trim().to_string())
            .collect()
    }

    #[test]
    fn every_section_a_hint_names_exists() {
        let all = variant_names();
        assert!(all.len() > 40, "{all:?}");
        let chapters = [
            CH_SOCKETS,
            CH_UDP,
            CH_TCP,
            CH_SEEING,
            CH_FRAMING,
            CH_MANY_CLIENTS,
            CH_DAEMONS,
        ];
        for (name, number, section) in SECTIONS {
            assert!(all.iter().any(|v| v == name), "{name} is not a hint");
            let files: Vec<&str> = chapters
                .iter()
                .filter(|c| *number == 0 || c.number == *number)
                .map(|c| c.file)
                .collect();
            assert!(
                files
                    .iter()
                    .any(|f| headings(f).iter().any(|h| h == section)),
                "{name}: no section {section:?} in chapter {number}"
            );
        }
    }
}
