//! # `sockstat`: the TCP and UDP sockets of a running process, read from `/proc`
//!
//! This program does what `ss -tanup` and `lsof -i -p PID` do for one process, from the same
//! place they read: the process's descriptors in `/proc/PID/fd` (a socket is a link to
//! `socket:[INODE]`), and the kernel's tables of sockets, `/proc/PID/net/tcp`, `tcp6`, `udp` and
//! `udp6`, where each line gives a socket's addresses, state and inode. Joining the two by inode
//! tells which descriptor is which socket.
//!
//! Read chapter 4, "Seeing sockets", before you start; each `TODO` names the section that helps.
//!
//! Grade it with `cargo test -p grader -- sockstat`; try it by hand with
//! `cargo run -p exercises --bin sockstat -- PID` against `cargo run -p support --bin socket-zoo`,
//! which prints its PID.
//!
//! An `#[allow(...)]` line in front of a stub or an import only keeps the compiler quiet about
//! what the unfinished program does not use yet: delete it when you are done.
//!
//! ## The contract
//!
//! The grader checks exactly this, and nothing else: you may rewrite the whole file as long as
//! the program keeps it.
//!
// ANCHOR: contract
// `sockstat PID`: print the TCP and UDP sockets (IPv4 and IPv6) of process PID on standard
// output: first the header line `FD PROTO LOCAL REMOTE STATE`, then one line per socket
// descriptor, sorted by descriptor number, with these five columns separated by single spaces:
// - FD: the descriptor number;
// - PROTO: `tcp`, `tcp6`, `udp` or `udp6`, the table the socket is in;
// - LOCAL and REMOTE: `ADDR:PORT`, IPv6 addresses in brackets (`127.0.0.1:5000`, `[::1]:5000`,
//   `[::ffff:127.0.0.1]:5000`), and `*:*` for REMOTE when there is no peer (all zeros);
// - STATE: the name `ss` uses: `ESTAB`, `SYN-SENT`, `SYN-RECV`, `FIN-WAIT-1`, `FIN-WAIT-2`,
//   `TIME-WAIT`, `UNCONN` (state 7: a TCP socket that is closed or not yet listening, and any UDP
//   socket that is not connected), `CLOSE-WAIT`, `LAST-ACK`, `LISTEN`, `CLOSING`.
// Two descriptors of one socket are two lines. Other descriptors (files, pipes, Unix sockets)
// are skipped. Exit 0. Read `/proc` yourself (the process may live in another network namespace
// than yours); do not run `ss`, `lsof` or `netstat`.
//
// A process that does not exist or whose descriptors cannot be read: one line on standard
// error, nothing on standard output, exit 1. Wrong usage (no PID, more than one argument, a PID
// that is not a number) prints a usage line on standard error and exits 2. Errors are one
// readable line on standard error, never a panic.
// ANCHOR_END: contract

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: sockstat PID";

/// The kernel's four tables, each with the name PROTO shows.
const TABLES: [&str; 4] = ["tcp", "tcp6", "udp", "udp6"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pid = match args.as_slice() {
        [pid] => match pid.parse::<u32>() {
            Ok(pid) if pid > 0 => pid,
            _ => return usage(),
        },
        _ => return usage(),
    };
    match run(pid) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sockstat: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

/// One line of a kernel table, the fields `sockstat` prints.
#[derive(Clone, Debug)]
struct Entry {
    proto: &'static str,
    local: SocketAddr,
    remote: SocketAddr,
    state: u8,
}

fn run(pid: u32) -> Result<()> {
    // The descriptors first: that is where a missing process shows.
    let descriptors = socket_descriptors(pid)?;
    let entries = kernel_tables(pid)?;
    // Everything is known before anything is printed, so an error never leaves half a table.
    let mut lines = vec!["FD PROTO LOCAL REMOTE STATE".to_string()];
    for (fd, inode) in descriptors {
        // A socket in no table is no TCP or UDP socket (a Unix socket, say): skip it.
        if let Some(entry) = entries.get(&inode) {
            lines.push(format!(
                "{fd} {} {} {} {}",
                entry.proto,
                entry.local,
                show_remote(entry.remote),
                state_name(entry.state)
            ));
        }
    }
    let mut out = io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").context("cannot write to standard output")?;
    }
    out.flush().context("cannot write to standard output")
}

/// `*:*` when there is no peer: the table says `00000000:0000` (or the IPv6 zeros).
fn show_remote(remote: SocketAddr) -> String {
    if remote.ip().is_unspecified() && remote.port() == 0 {
        "*:*".to_string()
    } else {
        remote.to_string()
    }
}

// ANCHOR: socket_descriptors
/// The process's socket descriptors, as (descriptor, inode), sorted by descriptor.
fn socket_descriptors(pid: u32) -> Result<Vec<(u32, u64)>> {
    let dir = format!("/proc/{pid}/fd");
    let listing = fs::read_dir(&dir).with_context(|| format!("cannot read {dir}"))?;
    let mut found = Vec::new();
    for entry in listing {
        // A descriptor closed while we read the folder is simply gone: skip it, as `ss` does.
        let Ok(entry) = entry else { continue };
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let target = target.to_string_lossy();
        if let Some(inode) = target
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|number| number.parse().ok())
        {
            found.push((fd, inode));
        }
    }
    // The folder lists descriptors in no promised order; numbers, not names, decide (9 < 10).
    found.sort_unstable();
    Ok(found)
}
// ANCHOR_END: socket_descriptors

// ANCHOR: kernel_tables
/// Every line of the four tables of the process's network namespace, by inode.
fn kernel_tables(pid: u32) -> Result<HashMap<u64, Entry>> {
    let mut entries = HashMap::new();
    for proto in TABLES {
        // `/proc/PID/net/` is the namespace the process lives in, which may not be ours.
        let path = format!("/proc/{pid}/net/{proto}");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            // A kernel without IPv6 has no tcp6 and udp6: nothing to list there.
            Err(e) if e.kind() == io::ErrorKind::NotFound && proto.ends_with('6') => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {path}")),
        };
        // The first line names the columns.
        for line in text.lines().skip(1) {
            let (inode, entry) = parse_line(proto, line)
                .with_context(|| format!("cannot understand this line of {path}: {line:?}"))?;
            entries.insert(inode, entry);
        }
    }
    Ok(entries)
}
// ANCHOR_END: kernel_tables

/// `   3: 0100007F:1F90 00000000:0000 0A ... 0 12345 ...` -> (inode, entry). The columns are
/// `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode`.
fn parse_line(proto: &'static str, line: &str) -> Result<(u64, Entry)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 10 {
        bail!("too few columns");
    }
    let entry = Entry {
        proto,
        local: parse_address(fields[1])?,
        remote: parse_address(fields[2])?,
        state: u8::from_str_radix(fields[3], 16).context("a bad state")?,
    };
    let inode = fields[9].parse().context("a bad inode")?;
    Ok((inode, entry))
}

// ANCHOR: parse_address
/// `0100007F:1F90` -> `127.0.0.1:8080`; `00000000000000000000000001000000:1F90` -> `[::1]:8080`.
fn parse_address(field: &str) -> Result<SocketAddr> {
    let (hex_ip, hex_port) = field.split_once(':').context("no `:` in an address")?;
    // The port is a number printed in hexadecimal: nothing to swap.
    let port = u16::from_str_radix(hex_port, 16).context("a bad port")?;
    // The address is the kernel's bytes, in network order, read 32 bits at a time as numbers of
    // this machine and printed as such: turning each 8-digit word back into the same number and
    // taking its bytes in this machine's order gives the bytes back, word after word.
    let mut bytes = Vec::with_capacity(16);
    for start in (0..hex_ip.len()).step_by(8) {
        let word = hex_ip
            .get(start..start + 8)
            .and_then(|digits| u32::from_str_radix(digits, 16).ok())
            .context("a bad address")?;
        bytes.extend(word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&bytes);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => bail!("an address of {} bytes", bytes.len()),
    };
    Ok(SocketAddr::new(ip, port))
}
// ANCHOR_END: parse_address

// ANCHOR: state_name
/// The name `ss` prints for a state number (`include/net/tcp_states.h`; the table writes it in
/// hexadecimal: `0A` is 10, LISTEN). UDP sockets use the same numbers: 1 for a connected one, 7
/// for one that is not.
fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTAB",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "UNCONN",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}
// ANCHOR_END: state_name
