//! # `udp_connected`: correct, in another style (a connected UDP socket)
//!
//! Correct: the grader must accept it. It connects its UDP socket to the server and then uses
//! `send` and `recv`. `connect` on a UDP socket sends nothing: it sets the default destination and
//! makes the kernel drop datagrams from any other address, which is how this program ignores
//! strangers without comparing addresses itself.
//!
//! A connected UDP socket also receives ICMP errors: when nothing listens at the server's port, the
//! next `recv` fails with ECONNREFUSED. The program takes that as "no server", prints one line on
//! standard error and exits 1 (sooner than the 3 tries, which the contract allows: it says what to
//! do when no reply comes, and none will).
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client accepts

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
    // From now on `send` goes to the server, and `recv` hears only the server.
    socket
        .connect(server)
        .with_context(|| format!("cannot connect the socket to {server}"))?;
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
        socket.send(request).map_err(|e| failure(e, server))?;
        let deadline = Instant::now() + TRY_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left))?;
            // On a connected socket `recv` only ever returns the server's datagrams: the kernel
            // drops the others, so there is no sender to compare.
            match socket.recv(reply) {
                Ok(len) => return Ok(len),
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => break,
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(failure(e, server)),
                },
            }
        }
    }
    bail!("no reply from {server} after {TRIES} tries")
}

/// A connected UDP socket also hears ICMP "port unreachable": the kernel reports it as
/// ECONNREFUSED on the next call. Nobody listens there, and no try will change that.
fn failure(error: io::Error, server: SocketAddr) -> anyhow::Error {
    if error.kind() == io::ErrorKind::ConnectionRefused {
        anyhow::anyhow!("no server at {server} (connection refused)")
    } else {
        anyhow::Error::new(error).context(format!("cannot talk to {server}"))
    }
}
