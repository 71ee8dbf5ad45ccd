//! Asking the kernel about one TCP socket through netlink `sock_diag`, the way `ss` does.
//!
//! [`crate::proc_net`] reads the same numbers from `/proc/net/tcp`, but to produce that file the
//! kernel walks its whole connection table, which takes milliseconds on a big machine. A
//! `sock_diag` request names one connection by its four addresses and ports, and the kernel
//! looks it up directly. [`Pace::PeerDrained`](crate::tcp_server::Pace) asks after every byte it
//! sends, so that difference matters.
//!
//! The request and the answer are C structs (`inet_diag_req_v2`, `inet_diag_msg` in
//! `<linux/inet_diag.h>`), written and read here byte by byte.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_HEADER: usize = 16;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const IPPROTO_TCP: u8 = 6;
/// "No such socket"; 2 on every Linux architecture.
const ENOENT: i32 = 2;

/// The queues of one TCP socket, as `ss` shows them (`Recv-Q`, `Send-Q`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queues {
    pub state: u8,
    /// Bytes received and not yet read by the program.
    pub rx_queue: u32,
    /// Bytes sent and not yet acknowledged.
    pub tx_queue: u32,
}

/// A netlink socket for `sock_diag` requests; keep one and ask many times.
pub struct SockDiag {
    fd: OwnedFd,
}

impl SockDiag {
    pub fn new() -> io::Result<SockDiag> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkSockDiag,
        )?;
        Ok(SockDiag { fd })
    }

    /// The socket of this network namespace whose local address is `local` and remote address
    /// `remote`, or `None` when there is none. IPv4 addresses are also looked for as
    /// IPv4-mapped IPv6 (`::ffff:127.0.0.1`), for a client that uses an IPv6 socket.
    pub fn lookup(&self, local: SocketAddr, remote: SocketAddr) -> io::Result<Option<Queues>> {
        let mut families = vec![family(local)];
        if local.is_ipv4() && remote.is_ipv4() {
            families.push(AF_INET6);
        }
        for family in families {
            if let Some(queues) = self.ask(family, local, remote)? {
                return Ok(Some(queues));
            }
        }
        Ok(None)
    }

    fn ask(&self, family: u8, local: SocketAddr, remote: SocketAddr) -> io::Result<Option<Queues>> {
        let mut request = Vec::with_capacity(NLMSG_HEADER + 56);
        // struct nlmsghdr: length, type, flags, sequence number, port id (0: the kernel).
        request.extend_from_slice(&((NLMSG_HEADER + 56) as u32).to_ne_bytes());
        request.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        request.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        request.extend_from_slice(&1u32.to_ne_bytes());
        request.extend_from_slice(&0u32.to_ne_bytes());
        // struct inet_diag_req_v2: family, protocol, extensions, padding, states (all).
        request.extend_from_slice(&[family, IPPROTO_TCP, 0, 0]);
        request.extend_from_slice(&u32::MAX.to_ne_bytes());
        // struct inet_diag_sockid: ports and addresses in network byte order, no interface,
        // and the "no cookie" cookie.
        request.extend_from_slice(&local.port().to_be_bytes());
        request.extend_from_slice(&remote.port().to_be_bytes());
        request.extend_from_slice(&address(family, local.ip()));
        request.extend_from_slice(&address(family, remote.ip()));
        request.extend_from_slice(&0u32.to_ne_bytes());
        request.extend_from_slice(&[0xff; 8]);
        sendto(
            self.fd.as_raw_fd(),
            &request,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )?;
        let mut answer = [0u8; 8192];
        let n = recv(self.fd.as_raw_fd(), &mut answer, MsgFlags::empty())?;
        parse_answer(&answer[..n])
    }
}

fn family(addr: SocketAddr) -> u8 {
    if addr.is_ipv4() { AF_INET } else { AF_INET6 }
}

/// 16 bytes: an IPv4 address takes the first 4, an IPv6 one all of them.
fn address(family: u8, ip: IpAddr) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    match (family, ip) {
        (AF_INET, IpAddr::V4(v4)) => bytes[..4].copy_from_slice(&v4.octets()),
        (_, IpAddr::V4(v4)) => bytes = v4.to_ipv6_mapped().octets(),
        (_, IpAddr::V6(v6)) => bytes = v6.octets(),
    }
    bytes
}

fn parse_answer(answer: &[u8]) -> io::Result<Option<Queues>> {
    let short = || io::Error::new(io::ErrorKind::InvalidData, "short sock_diag answer");
    let header = answer.get(..NLMSG_HEADER).ok_or_else(short)?;
    let kind = u16::from_ne_bytes([header[4], header[5]]);
    let body = &answer[NLMSG_HEADER..];
    if kind == NLMSG_ERROR {
        // struct nlmsgerr: a negative errno. ENOENT: no such socket.
        let errno = i32::from_ne_bytes(
            body.get(..4)
                .ok_or_else(short)?
                .try_into()
                .unwrap_or([0; 4]),
        );
        return match -errno {
            0 | ENOENT => Ok(None),
            e => Err(io::Error::from_raw_os_error(e)),
        };
    }
    // struct inet_diag_msg: family, state, timer, retrans, sockid (48), expires, rqueue, wqueue.
    let field = |offset: usize| -> io::Result<u32> {
        let bytes = body.get(offset..offset + 4).ok_or_else(short)?;
        Ok(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    Ok(Some(Queues {
        state: *body.get(1).ok_or_else(short)?,
        rx_queue: field(56)?,
        tx_queue: field(60)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    fn unread_after_sending(listen_on: &str, n: usize) -> (Queues, Option<Queues>) {
        let diag = SockDiag::new().unwrap();
        let listener = TcpListener::bind(listen_on).unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let (local, remote) = (server.local_addr().unwrap(), server.peer_addr().unwrap());
        client.write_all(&vec![b'x'; n]).unwrap();
        let mut one = [0u8; 1];
        server.read_exact(&mut one).unwrap();
        let before = diag.lookup(local, remote).unwrap().unwrap();
        drop((client, server));
        let unrelated: SocketAddr = if local.is_ipv4() {
            "127.0.0.1:1"
        } else {
            "[::1]:1"
        }
        .parse()
        .unwrap();
        (before, diag.lookup(unrelated, remote).unwrap())
    }

    #[test]
    fn finds_one_ipv4_socket_and_its_unread_bytes() {
        let (found, missing) = unread_after_sending("127.0.0.1:0", 10);
        assert_eq!((found.state, found.rx_queue), (1, 9));
        assert_eq!(missing, None);
    }

    #[test]
    fn finds_one_ipv6_socket_and_its_unread_bytes() {
        let (found, missing) = unread_after_sending("[::1]:0", 10);
        assert_eq!((found.state, found.rx_queue), (1, 9));
        assert_eq!(missing, None);
    }
}
