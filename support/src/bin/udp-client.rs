//! `udp-client`: a tool to poke UDP servers by hand. See `udp-client --help`.

use std::io::{self, BufRead};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use support::cli;

/// Sends each line you type (or pipe in) as one UDP datagram to HOST PORT, and prints every
/// datagram that comes back.
///
/// It prints `bound to ADDR:PORT` first: the address and port the system gave this client's
/// socket. After each send it waits --wait-ms milliseconds and prints each datagram that arrives
/// as `from ADDR:PORT: TEXT`, whoever sent it. At the end of input it listens --wait-ms more and
/// exits.
///
/// This is a poking tool, not the answer to the udp_client exercise: it never resends a lost
/// datagram and it shows replies from anyone, so you can see what really arrives.
#[derive(Parser, Debug)]
#[command(name = "udp-client", version)]
struct Args {
    /// The server: a name like `localhost`, or an IPv4 or IPv6 address.
    host: String,

    /// The server's port.
    port: u16,

    /// Bind this client's socket to ADDR (`IP` or `IP:PORT`) instead of letting the system pick
    /// (e.g. `--bind 127.0.0.1:5000`).
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,

    /// How long to wait for datagrams after each send, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    wait_ms: u64,
}

fn main() -> ExitCode {
    cli::run_main("udp-client", || {
        let args = Args::parse();
        let server = cli::resolve(&args.host, args.port)?[0];
        let local = bind_addr(args.bind.as_deref(), server)?;
        let socket = UdpSocket::bind(local).with_context(|| format!("cannot bind {local}"))?;
        cli::say(format_args!("bound to {}", socket.local_addr()?))?;
        let wait = Duration::from_millis(args.wait_ms);
        for line in io::stdin().lock().lines() {
            let line = line.context("cannot read standard input")?;
            // No connect(2) on purpose: an unconnected UDP socket accepts datagrams from anyone.
            socket
                .send_to(line.as_bytes(), server)
                .with_context(|| format!("cannot send to {server}"))?;
            print_arrivals(&socket, wait)?;
        }
        print_arrivals(&socket, wait)
    })
}

/// `--bind` as given, or the unspecified address of the server's family ("any address, any
/// port"): an IPv4 socket cannot send to an IPv6 server, nor the other way round.
fn bind_addr(bind: Option<&str>, server: SocketAddr) -> anyhow::Result<SocketAddr> {
    match bind {
        None if server.is_ipv6() => Ok("[::]:0".parse()?),
        None => Ok("0.0.0.0:0".parse()?),
        Some(text) => text
            .parse::<SocketAddr>()
            .or_else(|_| cli::resolve(text, 0).map(|a| a[0]))
            .with_context(|| format!("--bind {text}: expected IP or IP:PORT")),
    }
}

/// Prints every datagram that arrives within `wait`.
fn print_arrivals(socket: &UdpSocket, wait: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + wait;
    // One buffer the size of the largest datagram: a smaller one would cut long ones short.
    let mut buf = vec![0u8; 65536];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        socket.set_read_timeout(Some(left))?;
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                cli::say(format_args!("from {from}: {text}"))?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(());
            }
            // Linux reports an ICMP "port unreachable" for an earlier datagram as ECONNREFUSED
            // on a later call: nobody listens at the server's address.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                eprintln!("udp-client: {e} (is anything listening there?)");
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("cannot receive"),
        }
    }
}
