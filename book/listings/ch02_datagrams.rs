//! Chapter 2: the raw steps of UDP with `socket2`, and what a datagram is.
//!
//! Two sockets in one program talk over loopback. Run it with
//! `cargo run -q -p book --example ch02_datagrams`.

use std::net::{SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

fn main() -> std::io::Result<()> {
    // ANCHOR: steps
    // socket(): ask the kernel for a UDP socket (a datagram socket of the IPv4 family).
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // bind(): give it an address. Port 0 asks the kernel for any free port.
    let address: SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&address.into())?;
    // From here on, std's UdpSocket is easier to use; it is the same descriptor.
    let receiver: UdpSocket = socket.into();
    let receiver_address = receiver.local_addr()?;
    println!("receiver bound to {receiver_address}");
    // ANCHOR_END: steps

    // ANCHOR: boundaries
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    println!("sender bound to {}", sender.local_addr()?);
    // Three sendto() calls: three datagrams, all waiting in the receiver's queue before it reads.
    for text in ["one", "two", "three"] {
        sender.send_to(text.as_bytes(), receiver_address)?;
    }
    let mut buffer = [0u8; 100];
    for _ in 0..3 {
        // Each recvfrom() returns exactly one datagram, never part of one, never two together.
        let (len, from) = receiver.recv_from(&mut buffer)?;
        println!(
            "received {len} bytes from {from}: {:?}",
            String::from_utf8_lossy(&buffer[..len])
        );
    }
    // ANCHOR_END: boundaries

    // ANCHOR: truncation
    sender.send_to(b"a datagram of 27 characters", receiver_address)?;
    sender.send_to(b"next", receiver_address)?;
    let mut small = [0u8; 10];
    // The buffer holds 10 bytes: the first 10 bytes of the datagram are kept, the rest is lost.
    let (len, _) = receiver.recv_from(&mut small)?;
    println!("small buffer: {:?}", String::from_utf8_lossy(&small[..len]));
    // The next read returns the next datagram, not the rest of the first one.
    let (len, _) = receiver.recv_from(&mut small)?;
    println!("next read: {:?}", String::from_utf8_lossy(&small[..len]));
    // ANCHOR_END: truncation
    Ok(())
}
