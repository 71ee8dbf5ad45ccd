//! # `udp_leaks_fd`: known-bad, opens a file per line and never closes it
//!
//! Known-bad: the grader must reject it. For every line it opens its log (`/dev/null` here, so
//! that the grader's runs leave no file behind) to note the line in, and keeps the handle in a
//! list "to flush at the end".
//!
//! The mistake: every `File` holds a descriptor until it is dropped. A program that keeps one per
//! line runs out of descriptors ("Too many open files") on a long enough input.
//!
//! Everything else is as the contract says. Symptom: it passes every short exchange; over a
//! thousand lines its descriptor count grows by one per line.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client rejects with DescriptorLeak

use std::fs::{File, OpenOptions};
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
    let mut logs: Vec<File> = Vec::new();
    for request in io::stdin().lock().split(b'\n') {
        let request = request.context("cannot read standard input")?;
        // MISTAKE: a new handle on the log for every line, kept until the end.
        let mut log = OpenOptions::new()
            .append(true)
            .open("/dev/null")
            .context("cannot open the log")?;
        log.write_all(&request).context("cannot write the log")?;
        logs.push(log);
        let len = exchange(&socket, server, &request, &mut reply)?;
        output.write_all(&reply[..len])?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    for log in &mut logs {
        log.flush().context("cannot flush the log")?;
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
