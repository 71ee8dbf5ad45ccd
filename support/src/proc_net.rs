//! Reading `/proc/net/tcp` and `/proc/net/tcp6`: the kernel's table of TCP sockets.
//!
//! This is where `ss` and `netstat` get their answers. One line per socket, for instance:
//!
//! ```text
//!   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//!    0: 0100007F:1F90 0100007F:A2C4 01 00000000:00000003 00:00000000 00000000  1000        0 4242 ...
//! ```
//!
//! - Addresses are written as the kernel keeps them in memory, printed as 32-bit words in hex in
//!   the machine's byte order. An IPv4 address is one word: on a little-endian machine `127.0.0.1`
//!   (bytes `7F 00 00 01`) reads back as `0100007F`. An IPv6 address is four such words.
//! - Ports are plain numbers in hex: `1F90` is 8080.
//! - `st` is the TCP state (`01` ESTABLISHED, `0A` LISTEN, ...).
//! - `tx_queue` is what this socket sent that the peer has not acknowledged yet; `rx_queue` is
//!   what arrived that the program has not read yet. An `rx_queue` of 0 means the program has
//!   read everything that came in.
//!
//! The table is per network namespace: a process sees the sockets of its own namespace only.

use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The TCP state as the kernel numbers it: 1 ESTABLISHED ... 10 LISTEN (see [`state_name`]).
    pub state: u8,
    /// Bytes sent and not yet acknowledged by the peer.
    pub tx_queue: u32,
    /// Bytes received and not yet read by the program.
    pub rx_queue: u32,
    pub uid: u32,
    /// The socket's inode: `/proc/PID/fd/N` links to `socket:[INODE]`.
    pub inode: u64,
}

/// Every TCP socket of this network namespace, IPv4 (`/proc/net/tcp`) then IPv6 (`tcp6`).
/// A table that does not exist (a kernel without IPv6) counts as empty.
pub fn tcp_sockets() -> io::Result<Vec<TcpEntry>> {
    let mut all = Vec::new();
    for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
        match fs::read_to_string(path) {
            Ok(text) => all.extend(parse_table(&text)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(all)
}

/// The socket whose local address is `local` and remote address is `remote`, if there is one.
///
/// An IPv4 connection made through an IPv6 socket is listed in `tcp6` with IPv4-mapped
/// addresses (`::ffff:127.0.0.1`); those match too.
pub fn find(entries: &[TcpEntry], local: SocketAddr, remote: SocketAddr) -> Option<&TcpEntry> {
    entries
        .iter()
        .find(|e| same(e.local, local) && same(e.remote, remote))
}

/// The socket connected from `local` to `remote`, read fresh from `/proc`.
pub fn lookup(local: SocketAddr, remote: SocketAddr) -> io::Result<Option<TcpEntry>> {
    Ok(find(&tcp_sockets()?, local, remote).cloned())
}

fn same(listed: SocketAddr, wanted: SocketAddr) -> bool {
    listed.port() == wanted.port() && listed.ip().to_canonical() == wanted.ip().to_canonical()
}

/// The name `ss` uses for a state number.
pub fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "CLOSE",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW-SYN-RECV",
        _ => "UNKNOWN",
    }
}

/// Parses a whole table (heading line included).
pub fn parse_table(text: &str) -> io::Result<Vec<TcpEntry>> {
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(parse_line)
        .collect()
}

/// Parses one line of the table.
pub fn parse_line(line: &str) -> io::Result<TcpEntry> {
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad {what} in /proc/net/tcp line {line:?}"),
        )
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 10 {
        return Err(bad("field count"));
    }
    let local = parse_socket_addr(fields[1]).ok_or_else(|| bad("local address"))?;
    let remote = parse_socket_addr(fields[2]).ok_or_else(|| bad("remote address"))?;
    let state = u8::from_str_radix(fields[3], 16).map_err(|_| bad("state"))?;
    let (tx, rx) = fields[4].split_once(':').ok_or_else(|| bad("queues"))?;
    let tx_queue = u32::from_str_radix(tx, 16).map_err(|_| bad("tx_queue"))?;
    let rx_queue = u32::from_str_radix(rx, 16).map_err(|_| bad("rx_queue"))?;
    let uid = fields[7].parse().map_err(|_| bad("uid"))?;
    let inode = fields[9].parse().map_err(|_| bad("inode"))?;
    Ok(TcpEntry {
        local,
        remote,
        state,
        tx_queue,
        rx_queue,
        uid,
        inode,
    })
}

/// `0100007F:1F90` is 127.0.0.1:8080; 32 hex digits before the colon make an IPv6 address.
pub fn parse_socket_addr(field: &str) -> Option<SocketAddr> {
    let (ip, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(ip)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(&ip[i * 8..i * 8 + 8])?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Eight hex digits back to the four bytes they were in memory. The kernel printed the bytes as
/// a number in the machine's own byte order (little-endian on x86 and most ARM), so reading the
/// number and taking its bytes in that same order (`to_ne_bytes`) undoes it on any machine.
fn word(hex: &str) -> Option<[u8; 4]> {
    Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_the_kernels_hex() {
        assert_eq!(
            parse_socket_addr("0100007F:1F90"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_socket_addr("00000000000000000000000001000000:0016"),
            Some("[::1]:22".parse().unwrap())
        );
        assert_eq!(
            parse_socket_addr("0000000000000000FFFF00000100007F:0050"),
            Some("[::ffff:127.0.0.1]:80".parse().unwrap())
        );
        assert_eq!(parse_socket_addr("nonsense"), None);
        let line = "   3: 0100007F:1F90 0100007F:A2C4 01 00000002:00000003 00:00000000 00000000  1000        0 4242 1 0000000000000000 20 4 30 10 -1";
        let entry = parse_line(line).unwrap();
        assert_eq!(entry.remote, "127.0.0.1:41668".parse().unwrap());
        assert_eq!((entry.state, entry.tx_queue, entry.rx_queue), (1, 2, 3));
        assert_eq!((entry.uid, entry.inode), (1000, 4242));
        assert!(parse_line("garbage").is_err());
    }

    /// Sends `n` bytes over a real connection and reads the receiver's rx_queue from /proc.
    fn unread_after_sending(listen_on: &str, n: usize) -> (u32, u32) {
        let listener = TcpListener::bind(listen_on).unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let receiver = (server.local_addr().unwrap(), server.peer_addr().unwrap());
        client.write_all(&vec![b'x'; n]).unwrap();
        // Reading one byte proves the data has arrived; the rest stays queued.
        let mut one = [0u8; 1];
        server.read_exact(&mut one).unwrap();
        let before = lookup(receiver.0, receiver.1).unwrap().unwrap();
        assert_eq!(before.state, 1, "{}", state_name(before.state));
        let mut rest = vec![0u8; n - 1];
        server.read_exact(&mut rest).unwrap();
        let after = lookup(receiver.0, receiver.1).unwrap().unwrap();
        (before.rx_queue, after.rx_queue)
    }

    #[test]
    fn sees_unread_bytes_of_a_real_ipv4_socket() {
        assert_eq!(unread_after_sending("127.0.0.1:0", 10), (9, 0));
    }

    #[test]
    fn sees_unread_bytes_of_a_real_ipv6_socket() {
        assert_eq!(unread_after_sending("[::1]:0", 10), (9, 0));
    }

    #[test]
    fn finds_a_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let entries = tcp_sockets().unwrap();
        let entry = find(&entries, addr, "0.0.0.0:0".parse().unwrap()).unwrap();
        assert_eq!(state_name(entry.state), "LISTEN");
    }
}
