//! # `udp_stray_socket`: known-bad, holds a second UDP socket it does not need
//!
//! Known-bad: the grader must reject it. To learn its source address it connects a first UDP
//! socket to the server (which sends nothing), then talks to the server from a second one, and
//! keeps both until it exits.
//!
//! The mistake: a socket is a descriptor and a port, held until it is dropped. A client needs
//! one: the socket it sends from is the one the replies come back to.
//!
//! Everything else is as the contract says. Symptom: its exchanges are all right; while it waits
//! for a reply, the grader sees two UDP sockets.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with SocketsHeld

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
    // MISTAKE: a socket "connected" to the server only to learn which source address the
    // kernel picks for it (connecting a UDP socket sends nothing), and never closed. The
    // conversation uses another socket.
    let probe = UdpSocket::bind(local).with_context(|| format!("cannot bind to {local}"))?;
    probe
        .connect(server)
        .with_context(|| format!("cannot connect to {server}"))?;
    let _source = probe
        .local_addr()
        .context("cannot read the local address")?;
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
