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
use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

// The tools for the TODOs.
#[allow(unused_imports)]
use std::{
    fs,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

const USAGE: &str = "usage: sockstat PID";

/// The kernel's four tables, each with the name PROTO shows.
#[allow(dead_code)]
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
#[allow(unused_variables)]
fn socket_descriptors(pid: u32) -> Result<Vec<(u32, u64)>> {
    // TODO: List /proc/PID/fd (an error here means no such process, or not yours to read),
    // keep the entries whose link reads `socket:[INODE]`, and return (descriptor, inode) sorted
    // by descriptor number. Chapter 4, section "A process's descriptors".
    todo!("list the socket descriptors in /proc/PID/fd")
}
// ANCHOR_END: socket_descriptors

// ANCHOR: kernel_tables
/// Every line of the four tables of the process's network namespace, by inode.
#[allow(unused_variables)]
fn kernel_tables(pid: u32) -> Result<HashMap<u64, Entry>> {
    // TODO: Read each of the four tables in TABLES from /proc/PID/net/, skip its header line,
    // and map each line's inode to its entry (`parse_line` does one line). Chapter 4, section
    // "The kernel's tables".
    todo!("read the four tables of /proc/PID/net")
}
// ANCHOR_END: kernel_tables

/// `   3: 0100007F:1F90 00000000:0000 0A ... 0 12345 ...` -> (inode, entry). The columns are
/// `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode`.
#[allow(dead_code)]
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
#[allow(unused_variables)]
fn parse_address(field: &str) -> Result<SocketAddr> {
    // TODO: Split at `:`. The port is hexadecimal. The address is 8 hex digits per 32-bit word
    // (1 word for IPv4, 4 for IPv6), each word printed in this machine's byte order. Chapter 4,
    // section "Reading an address".
    todo!("turn a hexadecimal address into a SocketAddr")
}
// ANCHOR_END: parse_address

// ANCHOR: state_name
/// The name `ss` prints for a state number (`include/net/tcp_states.h`; the table writes it in
/// hexadecimal: `0A` is 10, LISTEN). UDP sockets use the same numbers: 1 for a connected one, 7
/// for one that is not.
#[allow(unused_variables)]
fn state_name(state: u8) -> &'static str {
    // TODO: Map the kernel's state numbers 1 to 11 to the names `ss` prints (7 is UNCONN).
    // Chapter 4, section "States".
    todo!("name the state number")
}
// ANCHOR_END: state_name
