//! Correct `sockstat`, written differently from the solution: the tables first, into a map by
//! inode; addresses decoded digit pair by digit pair, each 4-byte group turned around (on a
//! little-endian machine); states matched on their hexadecimal text; descriptors kept in a
//! `BTreeMap`, sorted by construction. Must pass every check.
//!
//! selftest: sockstat accepts

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(pid), None) = (args.next(), args.next()) else {
        eprintln!("usage: sockstat PID");
        return ExitCode::from(2);
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        eprintln!("usage: sockstat PID");
        return ExitCode::from(2);
    }
    match table(&pid) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("sockstat: {message}");
            ExitCode::FAILURE
        }
    }
}

fn table(pid: &str) -> Result<String, String> {
    let proc_dir = format!("/proc/{pid}");
    let fd_dir =
        std::fs::read_dir(format!("{proc_dir}/fd")).map_err(|e| format!("process {pid}: {e}"))?;
    let mut by_fd: BTreeMap<u32, u64> = BTreeMap::new();
    for entry in fd_dir.filter_map(Result::ok) {
        let target = match std::fs::read_link(entry.path()) {
            Ok(t) => t.display().to_string(),
            Err(_) => continue,
        };
        if !target.starts_with("socket:[") {
            continue;
        }
        let inode = target["socket:[".len()..target.len() - 1].parse::<u64>();
        let fd = entry.file_name().to_string_lossy().parse::<u32>();
        if let (Ok(fd), Ok(inode)) = (fd, inode) {
            by_fd.insert(fd, inode);
        }
    }

    let mut known: HashMap<u64, String> = HashMap::new();
    for proto in ["udp6", "udp", "tcp6", "tcp"] {
        let Ok(text) = std::fs::read_to_string(format!("{proc_dir}/net/{proto}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split(' ').filter(|c| !c.is_empty()).collect();
            if cols.len() < 10 {
                continue;
            }
            let local = endpoint(cols[1]).ok_or("bad local address")?;
            let remote = match cols[2] {
                r if r.trim_start_matches(['0', ':']).is_empty() => "*:*".to_string(),
                r => endpoint(r).ok_or("bad remote address")?,
            };
            let state = match cols[3] {
                "01" => "ESTAB",
                "02" => "SYN-SENT",
                "03" => "SYN-RECV",
                "04" => "FIN-WAIT-1",
                "05" => "FIN-WAIT-2",
                "06" => "TIME-WAIT",
                "07" => "UNCONN",
                "08" => "CLOSE-WAIT",
                "09" => "LAST-ACK",
                "0A" => "LISTEN",
                "0B" => "CLOSING",
                _ => "UNKNOWN",
            };
            known.insert(
                cols[9].parse().unwrap_or(0),
                format!("{proto} {local} {remote} {state}"),
            );
        }
    }

    let mut out = String::from("FD PROTO LOCAL REMOTE STATE\n");
    for (fd, inode) in by_fd {
        if let Some(rest) = known.get(&inode) {
            let _ = writeln!(out, "{fd} {rest}");
        }
    }
    Ok(out)
}

/// `0100007F:1F90` -> `127.0.0.1:8080`, `...01000000:1F90` -> `[::1]:8080`.
fn endpoint(field: &str) -> Option<String> {
    let (hex, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    if cfg!(target_endian = "little") {
        for group in bytes.chunks_mut(4) {
            group.reverse();
        }
    }
    match bytes.len() {
        4 => Some(format!(
            "{}:{port}",
            Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
        )),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            Some(format!("[{}]:{port}", Ipv6Addr::from(octets)))
        }
        _ => None,
    }
}
