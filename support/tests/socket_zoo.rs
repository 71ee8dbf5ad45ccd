//! The `socket-zoo` program, run as a child process: it announces its pid, its sockets are in the
//! states it says (read from `/proc` by inode), they stay there, and SIGTERM ends it.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::proc_net;

const DEADLINE: Duration = Duration::from_secs(10);
const ZOO: &str = env!("CARGO_BIN_EXE_socket-zoo");

/// The zoo as a child, killed and reaped when dropped, even when a test fails.
struct Running {
    pid: i32,
    lines: Vec<String>,
    exited: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
}

impl Running {
    /// Starts the zoo and waits for its `ready` line.
    fn start() -> Running {
        let mut child: Child = Command::new(ZOO)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let stdout = child.stdout.take().unwrap();
        let (tx, exited) = mpsc::channel();
        thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        let (line_tx, line_rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if line_tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut zoo = Running {
            pid,
            lines: Vec::new(),
            exited,
            status: None,
        };
        loop {
            let line = line_rx
                .recv_timeout(DEADLINE)
                .unwrap_or_else(|_| panic!("no `ready` line in time: {:?}", zoo.lines));
            let ready = line.starts_with("ready: ");
            zoo.lines.push(line);
            if ready {
                return zoo;
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = self.exited.recv_timeout(DEADLINE);
        }
    }
}

/// The zoo's TCP sockets as (fd, local port, remote port, state name), read by inode.
fn tcp_states(pid: i32) -> BTreeMap<u32, (u16, u16, &'static str)> {
    let table = proc_net::tcp_sockets().unwrap();
    let mut states = BTreeMap::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        let entry = entry.unwrap();
        let fd: u32 = entry.file_name().to_str().unwrap().parse().unwrap();
        let Ok(link) = fs::read_link(entry.path()) else {
            continue;
        };
        let Some(inode) = link
            .to_str()
            .and_then(|l| l.strip_prefix("socket:["))
            .and_then(|l| l.strip_suffix(']'))
            .and_then(|l| l.parse::<u64>().ok())
        else {
            continue;
        };
        if let Some(e) = table.iter().find(|e| e.inode == inode) {
            let name = proc_net::state_name(e.state);
            states.insert(fd, (e.local.port(), e.remote.port(), name));
        }
    }
    states
}

#[test]
fn holds_every_kind_of_socket_still_and_stops_on_sigterm() {
    let mut zoo = Running::start();
    assert_eq!(zoo.lines[0], format!("socket-zoo: pid {}", zoo.pid));
    // One line per descriptor between the pid and `ready`, each naming its descriptor.
    let described = &zoo.lines[1..zoo.lines.len() - 1];
    assert_eq!(described.len(), 20, "{described:?}");

    let states = tcp_states(zoo.pid);
    let count = |name: &str| states.values().filter(|s| s.2 == name).count();
    // Listeners: IPv4 (twice: a dup), IPv6, and the full one.
    assert_eq!(count("LISTEN"), 4, "{states:?}");
    // Three connections with both ends here, and the one waiting in the full queue.
    assert_eq!(count("ESTABLISHED"), 7, "{states:?}");
    assert_eq!(count("SYN-SENT"), 1, "{states:?}");
    assert_eq!(count("FIN-WAIT-2"), 1, "{states:?}");
    assert_eq!(count("CLOSE-WAIT"), 1, "{states:?}");
    // The half-closed pair are each other's peers.
    let fin = states.values().find(|s| s.2 == "FIN-WAIT-2").unwrap();
    let close = states.values().find(|s| s.2 == "CLOSE-WAIT").unwrap();
    assert_eq!((fin.0, fin.1), (close.1, close.0));

    // Nothing moves while nobody touches it (the SYN is resent, still unanswered).
    assert_eq!(tcp_states(zoo.pid), states);

    kill(Pid::from_raw(zoo.pid), Signal::SIGTERM).unwrap();
    let status = zoo.exited.recv_timeout(DEADLINE).expect("exits in time");
    zoo.status = Some(status);
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_states_need_no_outside_help() {
    // In this process too: the library waits for each state itself.
    let zoo = support::socket_zoo::Zoo::open().unwrap();
    assert_eq!(zoo.animals().len(), 20);
    assert!(zoo.animals().windows(2).all(|w| w[0].fd < w[1].fd));
}
