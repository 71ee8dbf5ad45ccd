//! What the grader knows about a table that differs from the truth: the sockets of its own
//! that must not show (the decoys), where the process lives, the first difference, and the
//! mistake that explains it.

use std::net::{SocketAddr, TcpListener, UdpSocket};

use super::setup;
use crate::failure::Failure;
use crate::hint::Hint;
use crate::inspect::{self, SocketRow};
use crate::misreading::Misreading;

/// Where the process looked at lives, for the program that looks at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Namespace {
    /// The program's own network namespace: `/proc/net/tcp` and `/proc/PID/net/tcp` agree.
    Shared,
    /// A network namespace of its own: only `/proc/PID/net/tcp` (and the others) has its sockets.
    Own,
}

/// Sockets of the grader's own, in the same network namespace as every process looked at: they
/// are in the kernel's tables, but in no descriptor of the process.
pub(super) struct Decoys {
    _tcp: TcpListener,
    _udp: UdpSocket,
    /// (proto, local address), as a table line would show them.
    rows: Vec<(&'static str, SocketAddr)>,
}

impl Decoys {
    pub(super) fn open() -> Result<Decoys, Box<Failure>> {
        let open = || -> std::io::Result<Decoys> {
            let tcp = TcpListener::bind("127.0.0.1:0")?;
            let udp = UdpSocket::bind("[::1]:0")?;
            let rows = vec![("tcp", tcp.local_addr()?), ("udp6", udp.local_addr()?)];
            Ok(Decoys {
                _tcp: tcp,
                _udp: udp,
                rows,
            })
        };
        open().map_err(|e| setup(format!("cannot open the grader's own sockets: {e}")))
    }
}

/// What the program printed, with the first line that differs pointed out.
pub(super) fn shown_printed(printed: &[String], expected: &[String]) -> String {
    if printed.is_empty() {
        return "nothing on standard output".into();
    }
    let first = (0..printed.len().max(expected.len()))
        .find(|&i| printed.get(i) != expected.get(i))
        .unwrap_or(0);
    let shown: Vec<String> = printed
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mark = if i == first {
                "  <- first difference"
            } else {
                ""
            };
            format!("{line:?}{mark}")
        })
        .collect();
    let missing = if first >= printed.len() {
        format!(
            "\n    (then nothing, where {:?} should be)",
            expected[first]
        )
    } else {
        String::new()
    };
    format!("this table:\n    {}{missing}", shown.join("\n    "))
}

/// The mistake that explains the difference between the truth and what was printed.
pub(super) fn diagnose(
    truth: &[SocketRow],
    printed: &[String],
    decoys: &Decoys,
    namespace: Namespace,
) -> Hint {
    let rows: Vec<Vec<&str>> = printed
        .iter()
        .filter(|l| l.as_str() != inspect::HEADER)
        .map(|l| l.split_whitespace().collect())
        .collect();
    // The grader's own sockets are in every table of the namespace, never among the process's
    // descriptors: a line for one of them means the program listed the tables, not the process.
    // A port is compared as printed and with its bytes swapped (a program may misread it too);
    // a line the process's own socket of that descriptor explains is no decoy, whatever its port.
    let port_of =
        |fields: &Vec<&str>| -> Option<u16> { fields.get(2)?.rsplit(':').next()?.parse().ok() };
    let same_port = |printed: u16, real: u16| printed == real || printed == real.swap_bytes();
    let decoy_shown = rows.iter().any(|fields| {
        let Some(port) = port_of(fields) else {
            return false;
        };
        let own = truth.iter().any(|r| {
            fields.first() == Some(&r.fd.to_string().as_str()) && same_port(port, r.local.port())
        });
        !own && decoys
            .rows
            .iter()
            .any(|(proto, addr)| fields.get(1) == Some(proto) && same_port(port, addr.port()))
    });
    if decoy_shown {
        return Hint::SockstatNotOwnSockets;
    }
    let by_fd = |fd: u32| {
        rows.iter()
            .find(|f| f.first() == Some(&fd.to_string().as_str()))
    };
    let missing: Vec<&SocketRow> = truth.iter().filter(|r| by_fd(r.fd).is_none()).collect();
    // The tables of the program's own namespace (`/proc/net/tcp`, `/proc/self/net/tcp`) have
    // none of the process's sockets.
    if namespace == Namespace::Own && !truth.is_empty() && missing.len() == truth.len() {
        return Hint::SockstatOtherNamespace;
    }
    let all_missing = |which: fn(&SocketRow) -> bool| {
        let wanted: Vec<&SocketRow> = truth.iter().filter(|r| which(r)).collect();
        !wanted.is_empty() && wanted.iter().all(|r| missing.contains(r))
    };
    let is_v6 = |r: &SocketRow| r.proto.ends_with('6');
    let is_udp = |r: &SocketRow| r.proto.starts_with("udp");
    if !missing.is_empty() {
        if all_missing(is_v6) && missing.iter().all(|r| is_v6(r) || is_udp(r)) {
            return Hint::SockstatIpv4Only;
        }
        if all_missing(is_udp) && missing.iter().all(|r| is_udp(r)) {
            return Hint::SockstatNoUdp;
        }
    }
    // Row by row: which misreading of the table turns the truth into what was printed?
    let mut word_order = false;
    let mut byte_order = false;
    let mut states = false;
    for row in truth {
        let Some(fields) = by_fd(row.fd) else {
            continue;
        };
        let [_, proto, local, remote, state] = fields.as_slice() else {
            continue;
        };
        if *proto != row.proto {
            continue;
        }
        let addresses_as = |m: Misreading| {
            m.apply(row.local).to_string() == *local
                && row.remote.map_or("*:*".into(), |r| m.apply(r).to_string()) == *remote
        };
        match Misreading::ALL.into_iter().find(|m| addresses_as(*m)) {
            Some(m) if m.words => word_order = true,
            Some(m) if m.port || m.bytes => byte_order = true,
            Some(_) if *state != row.state => states = true,
            _ => {}
        }
    }
    if word_order {
        Hint::SockstatIpv6WordOrder
    } else if byte_order {
        Hint::SockstatByteOrder
    } else if states {
        Hint::SockstatStateNames
    } else {
        Hint::SockstatTableDiffers
    }
}
