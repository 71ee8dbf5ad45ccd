//! Chapter 3: what each failure looks like from Rust: EADDRINUSE, ECONNRESET, EPIPE and
//! ECONNREFUSED, provoked on purpose over loopback.
//!
//! Run it with `cargo run -q -p book --example ch03_failures`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use socket2::SockRef;

fn main() -> std::io::Result<()> {
    // ANCHOR: addr_in_use
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    println!("listening on {address}");
    // A second socket cannot listen on an address that is already taken.
    match TcpListener::bind(address) {
        Ok(_) => println!("bind again: it worked?!"),
        Err(e) => println!("bind again: {e} [{:?}]", e.kind()),
    }
    // ANCHOR_END: addr_in_use

    // ANCHOR: end_of_stream
    let mut client = TcpStream::connect(address)?;
    let (server_side, _) = listener.accept()?;
    // An ordinary close() sends a FIN: the other side reads 0 bytes, the end of the stream.
    drop(server_side);
    let mut buffer = [0u8; 100];
    println!("read after the peer closed: {:?}", client.read(&mut buffer));
    // ANCHOR_END: end_of_stream

    // ANCHOR: reset
    let mut client = TcpStream::connect(address)?;
    let (server_side, _) = listener.accept()?;
    // With SO_LINGER set to 0 seconds, close() throws the connection away and sends a reset (RST).
    SockRef::from(&server_side).set_linger(Some(Duration::ZERO))?;
    drop(server_side);
    match client.read(&mut buffer) {
        Ok(n) => println!("read after a reset: {n} bytes?!"),
        Err(e) => println!("read after a reset: {e} [{:?}]", e.kind()),
    }
    // The connection is gone: writing to it fails too.
    match client.write(b"hello\n") {
        Ok(n) => println!("write after a reset: {n} bytes?!"),
        Err(e) => println!("write after a reset: {e} [{:?}]", e.kind()),
    }
    // ANCHOR_END: reset

    // ANCHOR: refused
    // Once the listening socket is closed, nothing listens on the port any more.
    drop(listener);
    match TcpStream::connect(address) {
        Ok(_) => println!("connect: it worked?!"),
        Err(e) => println!("connect to {address}: {e} [{:?}]", e.kind()),
    }
    // ANCHOR_END: refused
    Ok(())
}
