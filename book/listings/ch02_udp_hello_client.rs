//! Chapter 2: the smallest UDP client. It sends one datagram and prints the reply.
//!
//! Run it with `cargo run -q -p book --example ch02_udp_hello_client -- 127.0.0.1:7000 hello`.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> std::io::Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let (Some(server), Some(message)) = (args.next(), args.next()) else {
        eprintln!("usage: ch02_udp_hello_client SERVER_ADDR:PORT MESSAGE");
        return Ok(ExitCode::from(2));
    };
    let server: SocketAddr = server
        .parse()
        .map_err(|e| std::io::Error::new(ErrorKind::InvalidInput, e))?;

    // ANCHOR: client
    // Port 0: the kernel picks a free "ephemeral" port for us. The address family must match the
    // server's: 0.0.0.0 for an IPv4 server, [::] for an IPv6 one.
    let any: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let socket = UdpSocket::bind(any)?;
    println!("bound to {}", socket.local_addr()?);

    // Without a timeout, recv_from() would wait for ever if the datagram or its reply is lost.
    socket.set_read_timeout(Some(Duration::from_secs(1)))?;
    socket.send_to(message.as_bytes(), server)?;

    let mut buffer = [0u8; 65536];
    match socket.recv_from(&mut buffer) {
        Ok((len, sender)) => {
            let reply = String::from_utf8_lossy(&buffer[..len]);
            println!("from {sender}: {reply}");
            Ok(ExitCode::SUCCESS)
        }
        // A timeout shows up as WouldBlock (EAGAIN) on Linux, TimedOut on some other systems.
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            eprintln!("no reply from {server} within 1 s");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e),
    }
    // ANCHOR_END: client
}
