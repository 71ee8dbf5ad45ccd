//! Chapter 2: the smallest UDP server. It answers each datagram with the same text in capitals.
//!
//! Run it with `cargo run -q -p book --example ch02_udp_hello_server -- 127.0.0.1:7000`
//! (any free port will do; port 0 lets the kernel pick one).

use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());

    // ANCHOR: bind
    // socket() and bind() in one call: a UDP socket on a known address, so clients can find it.
    let socket = UdpSocket::bind(&address)?;
    println!("listening on {}", socket.local_addr()?);
    // ANCHOR_END: bind

    // ANCHOR: serve
    let mut buffer = [0u8; 65536];
    loop {
        // recvfrom(): wait for one datagram; learn its length and who sent it.
        let (len, sender) = socket.recv_from(&mut buffer)?;
        let request = String::from_utf8_lossy(&buffer[..len]);
        eprintln!("{len} bytes from {sender}: {request:?}");
        // sendto(): the reply goes back to whoever sent the request.
        let reply = request.to_uppercase();
        socket.send_to(reply.as_bytes(), sender)?;
    }
    // ANCHOR_END: serve
}
