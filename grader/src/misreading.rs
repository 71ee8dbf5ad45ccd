//! The ways to misread an address of the kernel's tables (`/proc/net/tcp` and the others): the
//! port's bytes swapped, each 32-bit word's bytes taken in the order they are printed, the four
//! words of an IPv6 address reversed. Which one turns the truth into what a program printed
//! names its mistake.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// A way to misread an address of the kernel's table.
#[derive(Clone, Copy, Debug)]
pub struct Misreading {
    /// The port's two bytes swapped.
    pub port: bool,
    /// The bytes of each 32-bit word of the address taken in the order they are printed.
    pub bytes: bool,
    /// The four words of an IPv6 address in reverse order.
    pub words: bool,
}

impl Misreading {
    /// Every combination, the right reading first.
    pub const ALL: [Misreading; 8] = {
        let mut all = [Misreading {
            port: false,
            bytes: false,
            words: false,
        }; 8];
        let mut i = 0;
        while i < 8 {
            all[i] = Misreading {
                port: i & 1 != 0,
                bytes: i & 2 != 0,
                words: i & 4 != 0,
            };
            i += 1;
        }
        all
    };

    pub fn apply(self, addr: SocketAddr) -> SocketAddr {
        let port = if self.port {
            addr.port().swap_bytes()
        } else {
            addr.port()
        };
        let ip = match addr.ip() {
            IpAddr::V4(ip) => {
                let mut octets = ip.octets();
                if self.bytes {
                    octets.reverse();
                }
                IpAddr::from(octets)
            }
            IpAddr::V6(ip) => {
                let mut words: Vec<[u8; 4]> = ip
                    .octets()
                    .chunks(4)
                    .map(|c| [c[0], c[1], c[2], c[3]])
                    .collect();
                if self.bytes {
                    words.iter_mut().for_each(|w| w.reverse());
                }
                if self.words {
                    words.reverse();
                }
                let octets: Vec<u8> = words.concat();
                IpAddr::V6(Ipv6Addr::from(
                    <[u8; 16]>::try_from(octets).expect("16 bytes"),
                ))
            }
        };
        SocketAddr::new(ip, port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misreadings_change_what_they_should() {
        let v4: SocketAddr = "127.0.0.1:4660".parse().unwrap(); // 4660 = 0x1234
        let bytes = Misreading {
            port: true,
            bytes: true,
            words: false,
        };
        assert_eq!(bytes.apply(v4).to_string(), "1.0.0.127:13330"); // 0x3412
        let v6: SocketAddr = "[::1]:4660".parse().unwrap();
        let words = Misreading {
            port: false,
            bytes: false,
            words: true,
        };
        assert_eq!(words.apply(v6).to_string(), "[0:1::]:4660");
        assert_eq!(bytes.apply(v6).to_string(), "[::100:0]:13330");
        assert_eq!(Misreading::ALL[0].apply(v6).to_string(), "[::1]:4660");
    }
}
