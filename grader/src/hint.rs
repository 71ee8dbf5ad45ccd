//! The mistakes the grader knows by name, and what to tell a learner who made one.
//!
//! Every failing check ends in exactly one [`Hint`]: the concept the program got wrong and the
//! chapter that explains it. The grader's own tests run one known-bad program per hint and expect
//! that very hint, so a hint here is a promise that the grader can tell this mistake apart.
//!
//! Every hint names the section of the book that explains it ([`SECTIONS`]); a test proves that
//! every variant has one and that every section exists in its chapter.

use std::fmt;

mod advice;
mod sections;

pub use sections::SECTIONS;

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
