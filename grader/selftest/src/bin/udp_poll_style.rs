//! # `udp_poll_style`: correct, in another style (poll with one deadline per try)
//!
//! Correct: the grader must accept it. Its socket is non-blocking; it waits with `poll(2)` until
//! the socket is readable or the try's deadline (taken once, when the datagram goes out) has
//! passed, then drains every datagram that has come, keeping the first from the server. A
//! stranger's datagram wakes it up, and it goes back to waiting for what is left of the second.
//! It also prints through a `BufWriter`, flushed after each reply.
//!
//! Contract: `udp_client HOST PORT`, as in `exercises/udp_client.rs` (chapter 2, "UDP").
//!
//! selftest: udp_client accepts

use std::io::{self, BufRead, BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

const TRY_WAIT: Duration = Duration::from_secs(1);
const TRIES: u32 = 3;

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
        .last()
        .with_context(|| format!("{host} has no address"))?;
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).with_context(|| format!("cannot bind to {local}"))?;
    socket.set_nonblocking(true)?;
    let mut output = BufWriter::new(io::stdout().lock());
    let mut line = String::new();
    let mut input = io::stdin().lock();
    while input.read_line(&mut line)? > 0 {
        let request = line.strip_suffix('\n').unwrap_or(&line);
        let reply = ask(&socket, server, request.as_bytes())?;
        output.write_all(&reply)?;
        output.write_all(b"\n")?;
        output.flush()?;
        line.clear();
    }
    Ok(())
}

fn ask(socket: &UdpSocket, server: SocketAddr, request: &[u8]) -> Result<Vec<u8>> {
    let mut buffer = vec![0; 65536];
    for _ in 0..TRIES {
        socket.send_to(request, server)?;
        let deadline = Instant::now() + TRY_WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let millis = u16::try_from(left.as_millis() + 1).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(millis))? == 0 {
                continue;
            }
            loop {
                match socket.recv_from(&mut buffer) {
                    Ok((len, from)) if from == server => return Ok(buffer[..len].to_vec()),
                    Ok(_stranger) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e).context("cannot receive"),
                }
            }
        }
    }
    bail!("no reply from {server} after {TRIES} tries")
}
