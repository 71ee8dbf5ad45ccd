//! Chapter 2, "Addresses, names and dual stack": names that give several addresses, trying each
//! in turn, one socket for both families, IPv4-mapped senders, link-local scope ids. Everything
//! runs on loopback, on ports the kernel picks.
//!
//! Run it with `cargo run -q -p book --example ch02_dual_stack` (give host names as arguments to
//! see what they resolve to; `localhost` by default).

use std::io;
use std::net::{
    Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, TcpStream, ToSocketAddrs, UdpSocket,
};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

// ANCHOR: each
/// Tries every address `to` resolves to, in the order the resolver gave them, and returns the
/// first connection that is accepted. Only when all fail is it an error: the last one.
fn connect_each(to: impl ToSocketAddrs) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
    for addr in to.to_socket_addrs()? {
        match TcpStream::connect(addr) {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                println!("  {addr}: {e}, trying the next address");
                last = e;
            }
        }
    }
    Err(last)
}
// ANCHOR_END: each

// ANCHOR: dual
/// One UDP socket for both families: `[::]` with IPV6_V6ONLY off.
fn bind_dual_stack_udp(port: u16) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    // Off: IPv4 datagrams reach this socket too. (Linux's default comes from the sysctl
    // net.ipv6.bindv6only, usually 0; other systems differ, so say what you mean.)
    socket.set_only_v6(false)?;
    let any = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port);
    socket.bind(&any.into())?;
    Ok(socket.into())
}
// ANCHOR_END: dual

fn main() -> io::Result<()> {
    // ANCHOR: names
    // getaddrinfo(3) behind ToSocketAddrs: a literal is parsed, a name is looked up, and the
    // answer is a list, possibly of both families.
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        names.push("localhost".into());
    }
    for name in &names {
        let addrs: Vec<SocketAddr> = (name.as_str(), 7000).to_socket_addrs()?.collect();
        println!("{name} -> {addrs:?}");
    }
    // ANCHOR_END: names

    // A listener on IPv6 loopback only (std sets no option; socket2 is used to be sure).
    let listener = {
        let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
        socket.set_only_v6(true)?;
        socket.bind(&"[::1]:0".parse::<SocketAddr>().unwrap().into())?;
        socket.listen(8)?;
        TcpListener::from(socket)
    };
    let port = listener.local_addr()?.port();
    // ANCHOR: try
    // As if a name had resolved to 127.0.0.1 first, then ::1 (a slice of addresses is
    // ToSocketAddrs too). Nothing listens on 127.0.0.1 at this port.
    let candidates = [
        SocketAddr::from(([127, 0, 0, 1], port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ];
    println!("connecting to {candidates:?}");
    let stream = connect_each(&candidates[..])?;
    println!("  connected to {}", stream.peer_addr()?);
    // ANCHOR_END: try
    drop(stream);

    // ANCHOR: mapped
    let server = bind_dual_stack_udp(0)?;
    let port = server.local_addr()?.port();
    println!("dual-stack socket bound to {}", server.local_addr()?);
    let mut buffer = [0u8; 100];
    for client_ip in ["127.0.0.1", "::1"] {
        let client = UdpSocket::bind((client_ip, 0))?;
        client.send_to(b"hi", (client_ip, port))?;
        let (_, from) = server.recv_from(&mut buffer)?;
        // An IPv4 client is shown to an IPv6 socket as ::ffff:a.b.c.d; to_canonical() undoes it.
        let canonical = SocketAddr::new(from.ip().to_canonical(), from.port());
        let really = client.local_addr()?;
        println!("from {from}: canonical {canonical}, client is {really}");
        server.send_to(b"HI", from)?;
    }
    // ANCHOR_END: mapped

    // ANCHOR: trip
    // A client whose socket is dual stack, talking to an IPv4 server, gets its replies from a
    // mapped address: compared as is with the server's address, every reply looks foreign.
    let v4_server = UdpSocket::bind("127.0.0.1:0")?;
    let expected = v4_server.local_addr()?;
    let client = bind_dual_stack_udp(0)?;
    client.send_to(b"ping", expected)?;
    let (_, client_addr) = v4_server.recv_from(&mut buffer)?;
    v4_server.send_to(b"PONG", client_addr)?;
    let (_, from) = client.recv_from(&mut buffer)?;
    println!("expected {expected}, reply from {from}");
    println!("  from == expected: {}", from == expected);
    let canonical = SocketAddr::new(from.ip().to_canonical(), from.port());
    println!("  canonical == expected: {}", canonical == expected);
    // ANCHOR_END: trip

    // ANCHOR: scope
    // A link-local address (fe80::/10) exists on every interface at once; which one is meant is
    // the scope id, an interface index. getaddrinfo reads it from a `%name` suffix.
    let named = ("fe80::1%lo", 7000).to_socket_addrs()?.next();
    if let Some(SocketAddr::V6(v6)) = named {
        println!("fe80::1%lo -> {v6}, scope_id {}", v6.scope_id());
    }
    // The same address built by hand: the scope id is the last field.
    let by_hand = SocketAddrV6::new("fe80::1".parse().unwrap(), 7000, 0, 1);
    println!("by hand -> {by_hand}");
    // Without a scope id the kernel cannot tell which link is meant, and refuses (EINVAL).
    // With one, it tries that link (lo has no fe80::1, so this fails too, differently).
    let unscoped = SocketAddrV6::new("fe80::1".parse().unwrap(), 7000, 0, 0);
    for addr in [unscoped, by_hand] {
        match TcpStream::connect_timeout(&addr.into(), Duration::from_secs(1)) {
            Ok(_) => println!("connect to {addr}: connected"),
            Err(e) => println!("connect to {addr}: {e}"),
        }
    }
    // ANCHOR_END: scope
    Ok(())
}
