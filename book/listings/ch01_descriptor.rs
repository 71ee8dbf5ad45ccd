//! Chapter 1: a socket is a file descriptor.
//!
//! Run it with `cargo run -q -p book --example ch01_descriptor`, look at the process from another
//! terminal, then press Enter to end it.

use std::io::BufRead;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

fn main() -> std::io::Result<()> {
    // ANCHOR: descriptor
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    // To the kernel, the socket is a small number in this process's table of open files.
    let fd = socket.as_raw_fd();
    // Linux shows that table in /proc: each entry is a link to what the descriptor refers to.
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}"))?;
    println!("pid {}", std::process::id());
    println!("socket bound to {}", socket.local_addr()?);
    println!("descriptor {fd} -> {}", target.display());
    // ANCHOR_END: descriptor

    println!("press Enter to close the socket and exit");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(())
}
