//! A `sockstat` with switches: each known-bad `sockstat_*` program turns on one classic mistake.
//! With every switch off it keeps the contract. Not a program itself (a folder without
//! `main.rs`); the programs include it with `mod sockstat_parts;`.

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;

/// The mistakes, one per switch.
#[derive(Default)]
pub struct Mistakes {
    /// Reads only `tcp` and `udp`, not `tcp6` and `udp6`.
    pub ipv4_only: bool,
    /// Reads only `tcp` and `tcp6`.
    pub no_udp: bool,
    /// Takes each 32-bit word as printed, most significant byte first (`0100007F` -> 1.0.0.127).
    pub byte_order: bool,
    /// Reads an IPv6 address as one little-endian 128-bit number: the words come out reversed.
    pub ipv6_word_order: bool,
    /// Prints every line of the tables, with the descriptor where one is known (`-` elsewhere).
    pub all_sockets: bool,
    /// Names the states from an array that starts at 1 instead of 0 (`NAMES[st]` with no filler).
    pub states_off_by_one: bool,
    /// Sorts the lines as text: descriptor 10 before 3.
    pub sorted_as_text: bool,
    /// One line per socket (per inode), not per descriptor: a dup'ed descriptor is missing.
    pub per_inode: bool,
    /// For a process that does not exist: prints the header only and exits 0.
    pub silent_when_missing: bool,
    /// Reads `/proc/net/tcp` (the tables of its own network namespace), not `/proc/PID/net/tcp`.
    pub machine_tables: bool,
}

pub fn main(mistakes: Mistakes) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pid] = args.as_slice() else {
        eprintln!("usage: sockstat PID");
        return ExitCode::from(2);
    };
    let Ok(pid) = pid.parse::<u32>() else {
        eprintln!("usage: sockstat PID");
        return ExitCode::from(2);
    };
    match run(pid, &mistakes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sockstat: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(pid: u32, m: &Mistakes) -> Result<(), String> {
    let fds = match fs::read_dir(format!("/proc/{pid}/fd")) {
        Ok(dir) => dir,
        Err(_) if m.silent_when_missing => {
            println!("FD PROTO LOCAL REMOTE STATE");
            return Ok(());
        }
        Err(e) => return Err(format!("cannot read /proc/{pid}/fd: {e}")),
    };
    let mut sockets: Vec<(u32, u64)> = Vec::new();
    for entry in fds.flatten() {
        let Ok(link) = fs::read_link(entry.path()) else {
            continue;
        };
        let link = link.to_string_lossy().into_owned();
        let (Some(fd), Some(inode)) = (
            entry.file_name().to_str().and_then(|n| n.parse().ok()),
            link.strip_prefix("socket:[")
                .and_then(|l| l.strip_suffix(']'))
                .and_then(|l| l.parse().ok()),
        ) else {
            continue;
        };
        sockets.push((fd, inode));
    }
    let mut tables = vec!["tcp", "tcp6", "udp", "udp6"];
    if m.ipv4_only {
        tables.retain(|t| !t.ends_with('6'));
    }
    if m.no_udp {
        tables.retain(|t| t.starts_with("tcp"));
    }
    // (proto, local, remote, state) by inode, in the tables' order.
    let mut rows: Vec<(u64, String)> = Vec::new();
    for proto in tables {
        let path = if m.machine_tables {
            format!("/proc/net/{proto}")
        } else {
            format!("/proc/{pid}/net/{proto}")
        };
        let text =
            fs::read_to_string(path).map_err(|e| format!("cannot read the {proto} table: {e}"))?;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(remote), Some(st), Some(inode)) = (
                address(f[1], m),
                address(f[2], m),
                u8::from_str_radix(f[3], 16).ok(),
                f[9].parse::<u64>().ok(),
            ) else {
                return Err(format!("bad line in {proto}: {line}"));
            };
            let remote = if remote.ip().is_unspecified() && remote.port() == 0 {
                "*:*".to_string()
            } else {
                remote.to_string()
            };
            rows.push((inode, format!("{proto} {local} {remote} {}", state(st, m))));
        }
    }
    let mut lines: Vec<(String, String)> = Vec::new();
    if m.all_sockets {
        for (inode, row) in &rows {
            let fd = sockets
                .iter()
                .find(|(_, i)| i == inode)
                .map_or("-".to_string(), |(fd, _)| fd.to_string());
            lines.push((fd, row.clone()));
        }
    } else {
        let by_inode: HashMap<u64, &String> = rows.iter().map(|(i, r)| (*i, r)).collect();
        let mut seen = Vec::new();
        sockets.sort();
        for (fd, inode) in &sockets {
            if m.per_inode && seen.contains(inode) {
                continue;
            }
            seen.push(*inode);
            if let Some(row) = by_inode.get(inode) {
                lines.push((fd.to_string(), row.to_string()));
            }
        }
    }
    if m.sorted_as_text {
        lines.sort();
    }
    println!("FD PROTO LOCAL REMOTE STATE");
    for (fd, row) in lines {
        println!("{fd} {row}");
    }
    Ok(())
}

fn address(field: &str, m: &Mistakes) -> Option<SocketAddr> {
    let (hex, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if hex.len() == 8 {
        let word = u32::from_str_radix(hex, 16).ok()?;
        if m.byte_order {
            IpAddr::V4(Ipv4Addr::from(word))
        } else {
            IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes()))
        }
    } else if m.ipv6_word_order {
        // "It is little-endian": true of each word, not of the whole address.
        IpAddr::V6(Ipv6Addr::from(
            u128::from_str_radix(hex, 16).ok()?.swap_bytes(),
        ))
    } else {
        let mut octets = [0u8; 16];
        for (i, chunk) in octets.chunks_mut(4).enumerate() {
            let word = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
            let bytes = if m.byte_order {
                word.to_be_bytes()
            } else {
                word.to_ne_bytes()
            };
            chunk.copy_from_slice(&bytes);
        }
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    Some(SocketAddr::new(ip, port))
}

fn state(st: u8, m: &Mistakes) -> &'static str {
    const NAMES: [&str; 12] = [
        "UNKNOWN",
        "ESTAB",
        "SYN-SENT",
        "SYN-RECV",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "TIME-WAIT",
        "UNCONN",
        "CLOSE-WAIT",
        "LAST-ACK",
        "LISTEN",
        "CLOSING",
    ];
    let index = if m.states_off_by_one {
        st as usize + 1
    } else {
        st as usize
    };
    NAMES.get(index).copied().unwrap_or("UNKNOWN")
}
