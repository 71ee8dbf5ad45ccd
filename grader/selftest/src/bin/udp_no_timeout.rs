//! # `udp_no_timeout`: known-bad, waits for ever for a lost reply
//!
//! Known-bad: the grader must reject it. It never sets a read timeout, so `recv_from` blocks until
//! a datagram comes: when the request or its reply is lost, the program hangs for ever (and, with
//! no timeout, never gets to send again).
//!
//! The mistake: a blocking receive with no deadline on a protocol that loses datagrams.
//!
//! Everything else is as the contract says. Symptom: against a server that drops a datagram (or
//! never answers, or is not there), it prints the replies before the loss, then hangs in `recvfrom`
//! until it is killed.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with UdpNoTimeout

use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;

use anyhow::{Context, Result};

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
    socket
        .send_to(request, server)
        .with_context(|| format!("cannot send to {server}"))?;
    // MISTAKE: no read timeout, so `recv_from` waits for ever when the datagram or its reply is
    // lost, and there is never a moment to send again.
    loop {
        match socket.recv_from(reply) {
            Ok((len, from)) if from == server => return Ok(len),
            Ok(_stranger) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot receive from {server}")),
        }
    }
}
