//! One socket for both families.
//!
//! A socket bound to `[::]` with `IPV6_V6ONLY` off (socket2's `set_only_v6(false)`) takes IPv4
//! clients as well as IPv6 ones. The kernel shows an IPv4 peer to it as an IPv4-mapped IPv6
//! address: `127.0.0.1` becomes `::ffff:127.0.0.1`. [`Ipv6Addr::to_canonical`] turns such an
//! address back into the IPv4 one, which is what a client comparing addresses needs.
//!
//! Linux's default for a new IPv6 socket is `net.ipv6.bindv6only` (0: dual stack), other systems
//! differ, so the servers always set the option one way or the other.
//!
//! [`Ipv6Addr::to_canonical`]: std::net::Ipv6Addr::to_canonical

use std::net::{Ipv6Addr, SocketAddr};

/// `[::]:port`: every interface, both families once `IPV6_V6ONLY` is off.
pub fn any(port: u16) -> SocketAddr {
    SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port)
}

/// The address as the peer itself would write it: an IPv4-mapped address as plain IPv4, any
/// other address unchanged.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_become_ipv4_and_others_stay() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:7".parse().unwrap();
        assert_eq!(canonical(mapped), "127.0.0.1:7".parse().unwrap());
        let v6: SocketAddr = "[::1]:7".parse().unwrap();
        assert_eq!(canonical(v6), v6);
        assert_eq!(any(9).to_string(), "[::]:9");
    }
}
