//! Decodes an address field of `/proc/net/tcp`, `tcp6`, `udp` or `udp6`, such as `0100007F:1B58`,
//! and prints it as `ss` would: `127.0.0.1:7000`.
//!
//! `cargo run -q -p book --example ch04_decode -- 0100007F:1B58`

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;

fn main() -> ExitCode {
    let fields: Vec<String> = std::env::args().skip(1).collect();
    if fields.is_empty() {
        eprintln!("usage: ch04_decode ADDRESS:PORT...   (as in /proc/net/tcp, e.g. 0100007F:1B58)");
        return ExitCode::from(2);
    }
    for field in &fields {
        match decode(field) {
            Some(addr) => println!("{field} is {addr}"),
            None => {
                eprintln!("ch04_decode: {field:?} is not an address of /proc/net/tcp");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

// ANCHOR: decode
/// `0100007F:1B58` -> 127.0.0.1:7000; 32 hex digits before the `:` are an IPv6 address.
fn decode(field: &str) -> Option<SocketAddr> {
    let (hex, port) = field.split_once(':')?;
    // The port is an ordinary number, written in hexadecimal: 1B58 is 7000.
    let port = u16::from_str_radix(port, 16).ok()?;
    // The address is the kernel's bytes (network order), printed 4 bytes at a time as a 32-bit
    // number of this machine. Reading each 8-digit word back as a number and taking that
    // number's bytes in this machine's order (`to_ne_bytes`) gives the bytes back, in order.
    let mut bytes = Vec::new();
    for i in (0..hex.len()).step_by(8) {
        let word = u32::from_str_radix(hex.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}
// ANCHOR_END: decode
