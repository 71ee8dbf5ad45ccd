//! Who listens on PORT? Finds the listening socket's inode in /proc/net/tcp and tcp6, then the
//! processes that hold that socket among their descriptors: what `ss -tlnp` shows.
//!
//! Run: `cargo run -q -p book --example ch07_owner -- PORT`

use std::fs;
use std::io;
use std::process::ExitCode;

// ANCHOR: inodes
/// The inodes of the TCP sockets in state LISTEN on local port `port`, IPv4 and IPv6.
fn listening_inodes(port: u16) -> io::Result<Vec<u64>> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = match fs::read_to_string(table) {
            Ok(text) => text,
            // No IPv6 on this machine: no tcp6 table, and no IPv6 listener either.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        // The first line is the column titles.
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // 1: local address `0100007F:9B19` (the port is the hex after the last colon),
            // 3: state (`0A` is LISTEN), 9: the socket's inode.
            if fields.len() < 10 || fields[3] != "0A" {
                continue;
            }
            let local_port = fields[1]
                .rsplit_once(':')
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port)
                && let Ok(inode) = fields[9].parse()
            {
                inodes.push(inode);
            }
        }
    }
    Ok(inodes)
}
// ANCHOR_END: inodes

// ANCHOR: holders
/// Every (pid, fd) whose descriptor is one of these sockets: `/proc/PID/fd/N` is a symbolic
/// link, and for a socket it reads `socket:[INODE]`.
fn holders(inodes: &[u64]) -> io::Result<Vec<(i32, String)>> {
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc")? {
        // The processes are the folders whose name is a number.
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // Gone since we listed /proc, or another user's (only root may look): skip it.
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            // A descriptor closed while we look has no link any more.
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            if wanted.iter().any(|w| target.as_os_str() == w.as_str()) {
                found.push((pid, fd.file_name().to_string_lossy().into_owned()));
            }
        }
    }
    Ok(found)
}
// ANCHOR_END: holders

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port] = args.as_slice() else {
        eprintln!("usage: ch07_owner PORT");
        return ExitCode::from(2);
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("ch07_owner: {port:?} is not a port");
        return ExitCode::from(2);
    };
    let inodes = match listening_inodes(port) {
        Ok(inodes) if inodes.is_empty() => {
            println!("nothing listens on port {port}");
            return ExitCode::FAILURE;
        }
        Ok(inodes) => inodes,
        Err(e) => {
            eprintln!("ch07_owner: cannot read /proc/net/tcp: {e}");
            return ExitCode::FAILURE;
        }
    };
    for inode in &inodes {
        println!("port {port}: listening socket, inode {inode}");
    }
    match holders(&inodes) {
        Ok(found) if found.is_empty() => {
            println!("no process we may look into holds it");
            ExitCode::FAILURE
        }
        Ok(found) => {
            for (pid, fd) in found {
                let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                println!("held by pid {pid} ({}) as fd {fd}", name.trim_end());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ch07_owner: cannot read /proc: {e}");
            ExitCode::FAILURE
        }
    }
}
