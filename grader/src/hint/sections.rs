//! Where the book explains each hint: its chapter's section, and how a hint is shown.

use std::fmt;

use super::{Chapter, Hint};

impl Hint {
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
