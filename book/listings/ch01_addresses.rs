//! Chapter 1: addresses, ports and byte order.
//!
//! Run it with `cargo run -q -p book --example ch01_addresses`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

fn main() {
    // ANCHOR: socket_addr
    // A socket address is an IP address and a port.
    let v4: SocketAddr = "127.0.0.1:7000"
        .parse()
        .expect("a valid IPv4 socket address");
    // An IPv6 address contains colons, so in a socket address it is put in brackets.
    let v6: SocketAddr = "[::1]:7000".parse().expect("a valid IPv6 socket address");
    // The same addresses, built from their parts.
    let also_v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7000);
    let also_v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 7000);
    assert_eq!(v4, also_v4);
    assert_eq!(v6, also_v6);
    for address in [v4, v6] {
        println!(
            "{address}: ip {}, port {}, IPv4? {}, loopback? {}",
            address.ip(),
            address.port(),
            address.is_ipv4(),
            address.ip().is_loopback()
        );
    }
    // ANCHOR_END: socket_addr

    // ANCHOR: byte_order
    let port: u16 = 7000; // 0x1B58
    // On the wire, numbers are sent most significant byte first: "network byte order", or
    // big-endian. C calls htons() ("host to network short") for this; Rust says to_be_bytes().
    println!("port {port} = {port:#06x}");
    println!("  in network byte order: {:02x?}", port.to_be_bytes());
    println!("  in this machine's order: {:02x?}", port.to_ne_bytes());
    // And back again: ntohs() in C, from_be_bytes() in Rust.
    assert_eq!(u16::from_be_bytes([0x1b, 0x58]), 7000);
    // ANCHOR_END: byte_order
}
