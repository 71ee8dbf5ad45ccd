//! # `udp_any_sender`: known-bad, takes a datagram from anyone as the reply
//!
//! Known-bad: the grader must reject it. It prints the first datagram that arrives on its socket as
//! the reply, without comparing the sender's address with the server's.
//!
//! The mistake: anyone can send a datagram to any UDP port. `recv_from` says who sent it, and only
//! datagrams from the server's address are replies.
//!
//! Everything else is as the contract says. Symptom: when a stranger sends it a datagram before the
//! server's reply comes, it prints the stranger's datagram as the reply (and the real reply is then
//! taken for the next line's), exit 0.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpAcceptsStrangers

use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const TRY_WAIT: Duration = Duration::from_secs(1);
const TRIES: u32 = 3;
const BUFFER: usize = 65536;

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

fn run(host: &str, port: u16) -> Result<()> {
    let server = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{host} has no address"))?;
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).with_context(|| format!("cannot bind to {local}"))?;
    let mut reply = vec![0; BUFFER];
    let mut output = io::stdout().lock();
    for request in io::stdin().lock().split(b'\n') {
        let request = request.context("cannot read standard input")?;
        let len = exchange(&socket, server, &request, &mut reply)?;
        output.write_all(&reply[..len])?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    request: &[u8],
    reply: &mut [u8],
) -> Result<usize> {
    for _try in 1..=TRIES {
        socket
            .send_to(request, server)
            .with_context(|| format!("cannot send to {server}"))?;
        let deadline = Instant::now() + TRY_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left))?;
            match socket.recv_from(reply) {
                // MISTAKE: whoever sent the datagram, it is taken as the reply.
                Ok((len, _from)) => return Ok(len),
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => break,
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e).with_context(|| format!("cannot receive from {server}")),
                },
            }
        }
    }
    bail!("no reply from {server} after {TRIES} tries")
}
