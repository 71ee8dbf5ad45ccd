//! # `udp_fixed_port`: known-bad, binds a fixed local port
//!
//! Known-bad: the grader must reject it. It binds its socket to local port 47001 instead of port 0.
//! One copy works; a second copy running at the same time (or any other program holding the port)
//! cannot bind, and fails with "Address already in use".
//!
//! The mistake: a client has no reason to choose its port. Port 0 asks the kernel for a free
//! (ephemeral) port, and the server learns it from each datagram's source address.
//!
//! Everything else is as the contract says. Symptom: with several copies at once, the first one
//! works and the others print "udp_client: cannot bind to 0.0.0.0:47001: Address already in use (os
//! error 98)" and exit 1.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpFixedPort

use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const TRY_WAIT: Duration = Duration::from_secs(1);
const TRIES: u32 = 3;
const BUFFER: usize = 65536;
const FIXED_PORT: u16 = 47001;

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
        // MISTAKE: a fixed port; only one such client can run on this machine at a time.
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, FIXED_PORT).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, FIXED_PORT).into(),
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
                Ok((len, from)) if from == server => return Ok(len),
                Ok(_stranger) => continue,
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
