//! # `udp_canonical_style`: correct, in another style (one dual-stack IPv6 socket)
//!
//! Correct: the grader must accept it. It always binds `[::]:0` with `IPV6_V6ONLY` off, a socket
//! that talks to IPv4 and IPv6 servers alike, and sends to the server's address as an IPv6 one
//! (`::ffff:127.0.0.1` for 127.0.0.1). It compares each sender with the server after
//! `to_canonical()`, which turns an IPv4-mapped address back into IPv4, so the replies of an IPv4
//! server are known for what they are. It reads its input with `lines()`, one at a time.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client accepts

use std::io::{self, BufRead, Write};
use std::net::{Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use socket2::{Domain, Protocol, Socket, Type};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match args.as_slice() {
        [_, port] => port.parse::<u16>().ok().filter(|&p| p != 0),
        _ => None,
    };
    let Some(port) = port else {
        eprintln!("usage: udp_client HOST PORT");
        return ExitCode::from(2);
    };
    match run(&args[0], port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("udp_client: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The same address, in one form: an IPv4-mapped IPv6 address as the IPv4 address it maps.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

fn run(host: &str, port: u16) -> Result<()> {
    let server = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{host} has no address"))?;
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_only_v6(false)?;
    socket.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)).into())?;
    let socket: UdpSocket = socket.into();
    let to = match server {
        SocketAddr::V4(v4) => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
        v6 => v6,
    };
    let mut output = io::stdout().lock();
    for line in io::stdin().lock().lines() {
        let reply = ask(&socket, to, line?.as_bytes())?;
        output.write_all(&reply)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

fn ask(socket: &UdpSocket, server: SocketAddr, request: &[u8]) -> Result<Vec<u8>> {
    let mut buffer = vec![0; 65536];
    for _ in 0..3 {
        socket.send_to(request, server)?;
        let deadline = Instant::now() + Duration::from_secs(1);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            socket.set_read_timeout(Some(left.max(Duration::from_micros(1))))?;
            match socket.recv_from(&mut buffer) {
                Ok((len, from)) if canonical(from) == canonical(server) => {
                    return Ok(buffer[..len].to_vec());
                }
                Ok(_stranger) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("cannot receive"),
            }
        }
    }
    bail!("no reply from {} after 3 tries", canonical(server))
}
