//! Looking at a running program from outside, the way `lsof` and `ss` do: its descriptors
//! (`/proc/PID/fd`), and which of them are sockets, with their addresses and TCP states (joined
//! by inode with the kernel's tables `/proc/PID/net/{tcp,tcp6,udp,udp6}`).
//!
//! This is the grader's own reading, independent of the `sockstat` solution: it is the truth the
//! learner's `sockstat` is compared with, and what client checks look at while a reply is held.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One socket descriptor of a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketRow {
    pub fd: u32,
    /// `tcp`, `tcp6`, `udp` or `udp6`: the table it was found in.
    pub proto: &'static str,
    pub local: SocketAddr,
    /// `None` when there is no peer (all zeros in the table).
    pub remote: Option<SocketAddr>,
    /// The state's name as `ss` prints it.
    pub state: &'static str,
    pub inode: u64,
}

impl SocketRow {
    /// The row as `sockstat` prints it: `FD PROTO LOCAL REMOTE STATE`.
    pub fn line(&self) -> String {
        let remote = self.remote.map_or("*:*".to_string(), |r| r.to_string());
        format!(
            "{} {} {} {} {}",
            self.fd, self.proto, self.local, remote, self.state
        )
    }
}

/// The header `sockstat` prints first.
pub const HEADER: &str = "FD PROTO LOCAL REMOTE STATE";

/// The rows of `sockstat`'s table: the header, then one line per row.
pub fn table(rows: &[SocketRow]) -> Vec<String> {
    std::iter::once(HEADER.to_string())
        .chain(rows.iter().map(SocketRow::line))
        .collect()
}

/// The same, as one text for a failure message.
pub fn shown(rows: &[SocketRow]) -> String {
    if rows.is_empty() {
        return "no socket at all".into();
    }
    format!("this table of sockets:\n    {}", table(rows).join("\n    "))
}

/// The name `ss` gives to the kernel's TCP state number (`include/net/tcp_states.h`).
pub fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTAB",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "UNCONN",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW-SYN-RECV",
        _ => "UNKNOWN",
    }
}

/// How many descriptors the process has open.
pub fn fd_count(pid: i32) -> io::Result<usize> {
    Ok(fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// The process's socket descriptors, as (descriptor, inode) from the `socket:[INODE]` links of
/// `/proc/PID/fd`.
pub fn socket_fds(pid: i32) -> io::Result<Vec<(u32, u64)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd"))? {
        // A descriptor closed while we look is simply gone.
        let Ok(entry) = entry else { continue };
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        let (Some(fd), Some(inode)) = (
            entry.file_name().to_str().and_then(|n| n.parse().ok()),
            target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok()),
        ) else {
            continue;
        };
        found.push((fd, inode));
    }
    Ok(found)
}

/// The inodes of the process's sockets, of any kind (TCP, UDP, Unix, ...).
pub fn socket_inodes(pid: i32) -> io::Result<BTreeSet<u64>> {
    Ok(socket_fds(pid)?
        .into_iter()
        .map(|(_, inode)| inode)
        .collect())
}

/// Every TCP and UDP socket descriptor of the process, sorted by descriptor.
pub fn sockets(pid: i32) -> io::Result<Vec<SocketRow>> {
    let inodes = socket_fds(pid)?;
    // The tables of the process's own network namespace.
    let mut known: HashMap<u64, (&'static str, SocketAddr, Option<SocketAddr>, u8)> =
        HashMap::new();
    for proto in ["tcp", "tcp6", "udp", "udp6"] {
        let text = match fs::read_to_string(format!("/proc/{pid}/net/{proto}")) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in text.lines().skip(1) {
            if let Some((local, remote, state, inode)) = parse_line(line) {
                known.insert(inode, (proto, local, remote, state));
            }
        }
    }
    let mut rows: Vec<SocketRow> = inodes
        .into_iter()
        .filter_map(|(fd, inode)| {
            let (proto, local, remote, state) = *known.get(&inode)?;
            Some(SocketRow {
                fd,
                proto,
                local,
                remote,
                state: state_name(state),
                inode,
            })
        })
        .collect();
    rows.sort_by_key(|r| r.fd);
    Ok(rows)
}

/// `sl local rem st ... inode` -> (local, remote, state, inode).
fn parse_line(line: &str) -> Option<(SocketAddr, Option<SocketAddr>, u8, u64)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let local = parse_addr(fields.get(1)?)?;
    let remote = parse_addr(fields.get(2)?)?;
    let state = u8::from_str_radix(fields.get(3)?, 16).ok()?;
    let inode = fields.get(9)?.parse().ok()?;
    let remote = (!(remote.ip().is_unspecified() && remote.port() == 0)).then_some(remote);
    Some((local, remote, state, inode))
}

/// `0100007F:1F90` -> 127.0.0.1:8080. Each 8-digit word is a 32-bit number printed in the
/// machine's byte order; its bytes in memory are the address in network order.
fn parse_addr(field: &str) -> Option<SocketAddr> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for word in 0..addr.len() / 8 {
        let w = u32::from_str_radix(&addr[word * 8..word * 8 + 8], 16).ok()?;
        bytes.extend_from_slice(&w.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream, UdpSocket};

    #[test]
    fn sees_its_own_sockets() {
        let listener = TcpListener::bind("[::1]:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rows = sockets(std::process::id() as i32).unwrap();
        let find = |addr: SocketAddr| rows.iter().find(|r| r.local == addr).cloned();
        let l = find(listener.local_addr().unwrap()).unwrap();
        assert_eq!((l.proto, l.state, l.remote), ("tcp6", "LISTEN", None));
        let c = find(client.local_addr().unwrap()).unwrap();
        assert_eq!((c.proto, c.state), ("tcp6", "ESTAB"));
        assert_eq!(c.remote, Some(listener.local_addr().unwrap()));
        let u = find(udp.local_addr().unwrap()).unwrap();
        assert_eq!((u.proto, u.state), ("udp", "UNCONN"));
        assert!(fd_count(std::process::id() as i32).unwrap() >= 3);
    }
}
