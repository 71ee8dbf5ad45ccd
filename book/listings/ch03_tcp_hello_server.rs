//! Chapter 3: a small TCP line server, built step by step with `socket2`. It answers each line
//! with the same line in capitals, one client after the other.
//!
//! Run it with `cargo run -q -p book --example ch03_tcp_hello_server -- 127.0.0.1:7000`
//! (any free port will do; port 0 lets the kernel pick one).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use socket2::{Domain, Protocol, Socket, Type};

fn main() -> std::io::Result<()> {
    let address: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;

    // ANCHOR: listen
    // socket(): a TCP socket ("stream" type) of the address's family, IPv4 or IPv6.
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    // Let a restarted server bind its port again at once (see "EADDRINUSE" in the chapter).
    socket.set_reuse_address(true)?;
    // bind(): the well-known address clients will connect to.
    socket.bind(&address.into())?;
    // listen(): from now on the kernel accepts connections for us and queues them, up to 128.
    socket.listen(128)?;
    let listener: TcpListener = socket.into();
    println!("listening on {}", listener.local_addr()?);
    // ANCHOR_END: listen

    // ANCHOR: accept
    loop {
        // accept(): wait for the next connection and get a new socket for it. The listening
        // socket stays as it is, ready for the next client.
        let (stream, peer) = match listener.accept() {
            Ok(connection) => connection,
            // EMFILE (too many open descriptors), or another error of the moment: it is not
            // the server's end. Report it, wait a little (a descriptor may be freed), go on.
            Err(e) => {
                eprintln!("accept: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
        };
        eprintln!("{peer}: connected");
        // One client's failure must not stop the server either: report it and go on.
        match serve(stream) {
            Ok(lines) => eprintln!("{peer}: closed after {lines} lines"),
            Err(e) => eprintln!("{peer}: {e}"),
        }
    }
    // ANCHOR_END: accept
}

// ANCHOR: serve
/// Answers each line of one connection until the client stops sending.
fn serve(stream: TcpStream) -> std::io::Result<usize> {
    // Two handles on the one socket: one reads through a buffer, the other writes.
    let reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut count = 0;
    // lines() reads as often as it needs to return one whole line, and ends when read() returns
    // 0 bytes: the client has shut down its sending side, or closed.
    for line in reader.lines() {
        let line = line?;
        count += 1;
        writer.write_all(format!("{}\n", line.to_uppercase()).as_bytes())?;
    }
    writer.write_all(format!("received {count} lines\n").as_bytes())?;
    Ok(count)
    // Here `writer` is dropped: close(). The client reads the end of the stream.
}
// ANCHOR_END: serve
