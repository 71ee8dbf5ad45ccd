//! Checks for `sockstat PID` (chapter 4).
//!
//! The truth is the grader's own reading of `/proc` ([`crate::inspect`]), taken just before and
//! just after the learner's program runs (the two must agree, or the check says so instead of
//! blaming the program), and, where `ss` is installed, what `ss -tuanp` says about the same
//! process. The processes looked at are children of the grader: the `support` socket zoo, which
//! holds a socket in every state the chapter shows, a `support` TCP server with a client
//! connected, and `sleep`, which holds none. Meanwhile the grader holds sockets of its own (the
//! decoys), so that a program listing every socket of the machine shows lines that are not the
//! process's.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::diagnose::general_hint;
use crate::failure::{Failure, Transcript, describe};
use crate::hint::{CH_SEEING, Hint};
use crate::inspect::{self, SocketRow};
use crate::manifest::Check;
use crate::program::{Ending, FINISH, Input, Outcome, Run, Subject};
use crate::target;

pub const CHECKS: &[Check] = &[
    Check {
        name: "the_socket_zoo",
        run: the_socket_zoo,
    },
    Check {
        name: "a_tcp_server_with_a_client",
        run: a_tcp_server_with_a_client,
    },
    Check {
        name: "a_process_with_no_sockets",
        run: a_process_with_no_sockets,
    },
    Check {
        name: "no_such_process",
        run: no_such_process,
    },
];

/// How long a support program may take to say it is ready.
const READY: Duration = Duration::from_secs(10);

fn setup(message: String) -> Box<Failure> {
    Failure::setup(CH_SEEING, message)
}

/// A support program, built once for every check that needs it.
fn support_program(bin: &'static str) -> Result<Subject, Box<Failure>> {
    static ZOO: OnceLock<Result<Subject, String>> = OnceLock::new();
    static SERVER: OnceLock<Result<Subject, String>> = OnceLock::new();
    let cell = if bin == "socket-zoo" { &ZOO } else { &SERVER };
    cell.get_or_init(|| target::build("support", bin, format!("support/src/bin/{bin}.rs")))
        .clone()
        .map_err(|e| setup(format!("cannot build the support program {bin}: {e}")))
}

/// Starts a support program and waits for a line of standard output that starts with `ready`.
fn start_support(bin: &'static str, args: &[&str], ready: &str) -> Result<Run, Box<Failure>> {
    let program = support_program(bin)?;
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let run = Run::start(&program, &args, Input::Open)
        .map_err(|e| setup(format!("cannot start {bin}: {e}")))?;
    let deadline = Instant::now() + READY;
    let mut seen = 0;
    loop {
        if !run.wait_stdout_lines(seen + 1, deadline) {
            return Err(setup(format!(
                "{bin} did not print a line starting {ready:?} in time; it printed {:?}",
                run.stdout_so_far()
            )));
        }
        let lines = run.stdout_so_far();
        if lines.iter().any(|l| l.starts_with(ready)) {
            return Ok(run);
        }
        seen = lines.len();
    }
}

/// Sockets of the grader's own, in the same network namespace as every process looked at: they
/// are in the kernel's tables, but in no descriptor of the process.
struct Decoys {
    _tcp: TcpListener,
    _udp: UdpSocket,
    /// (proto, local address), as a table line would show them.
    rows: Vec<(&'static str, SocketAddr)>,
}

impl Decoys {
    fn open() -> Result<Decoys, Box<Failure>> {
        let open = || -> std::io::Result<Decoys> {
            let tcp = TcpListener::bind("127.0.0.1:0")?;
            let udp = UdpSocket::bind("[::1]:0")?;
            let rows = vec![("tcp", tcp.local_addr()?), ("udp6", udp.local_addr()?)];
            Ok(Decoys {
                _tcp: tcp,
                _udp: udp,
                rows,
            })
        };
        open().map_err(|e| setup(format!("cannot open the grader's own sockets: {e}")))
    }
}

/// Reads the truth about `pid`'s sockets.
fn truth(pid: i32) -> Result<Vec<SocketRow>, Box<Failure>> {
    inspect::sockets(pid).map_err(|e| setup(format!("cannot read the sockets of {pid}: {e}")))
}

fn run_sockstat(subject: &Subject, pid: i32) -> Result<Outcome, Box<Failure>> {
    let run = Run::start(subject, &[pid.to_string()], Input::Lines(vec![]))
        .map_err(|e| setup(format!("cannot start {}: {e}", subject.shown_as)))?;
    Ok(run.finish(Instant::now() + FINISH))
}

/// Runs the program on `pid` and compares its table with the truth, read before and after.
fn judge_table(
    subject: &Subject,
    scenario: &str,
    pid: i32,
    decoys: &Decoys,
) -> Result<(), Box<Failure>> {
    let before = truth(pid)?;
    let outcome = run_sockstat(subject, pid)?;
    let after = truth(pid)?;
    if before != after {
        return Err(setup(format!(
            "the sockets of {pid} changed while the program ran: from {} to {}",
            inspect::shown(&before),
            inspect::shown(&after)
        )));
    }
    let expected = inspect::table(&before);
    let printed = outcome.stdout_lines();
    let fail = |hint: Hint, actual: String, transcript: Transcript| {
        Err(Box::new(Failure {
            scenario: scenario.to_string(),
            command: outcome.command.clone(),
            transcript,
            expected: format!(
                "exit status 0 and {}",
                inspect::shown(&before).replacen(
                    "this table of sockets:",
                    "this table of sockets (the truth):",
                    1
                )
            ),
            actual,
            hint,
        }))
    };
    if let Some(hint) = general_hint(&outcome, CH_SEEING) {
        return fail(hint, describe(&outcome), Transcript::of(&outcome));
    }
    if outcome.ending != Ending::Exited(0) {
        let hint = match outcome.ending {
            Ending::StillRunning => Hint::Hung { chapter: CH_SEEING },
            _ => Hint::FailedNeedlessly { chapter: CH_SEEING },
        };
        return fail(hint, describe(&outcome), Transcript::of(&outcome));
    }
    if printed != expected {
        let hint = diagnose(&before, &printed, decoys);
        return fail(
            hint,
            shown_printed(&printed, &expected),
            Transcript::default(),
        );
    }
    compare_with_ss(pid, &before).map_err(|message| {
        setup(format!(
            "the program's table is the grader's, but `ss` disagrees with both: {message}"
        ))
    })
}

/// What the program printed, with the first line that differs pointed out.
fn shown_printed(printed: &[String], expected: &[String]) -> String {
    if printed.is_empty() {
        return "nothing on standard output".into();
    }
    let first = (0..printed.len().max(expected.len()))
        .find(|&i| printed.get(i) != expected.get(i))
        .unwrap_or(0);
    let shown: Vec<String> = printed
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mark = if i == first {
                "  <- first difference"
            } else {
                ""
            };
            format!("{line:?}{mark}")
        })
        .collect();
    let missing = if first >= printed.len() {
        format!(
            "\n    (then nothing, where {:?} should be)",
            expected[first]
        )
    } else {
        String::new()
    };
    format!("this table:\n    {}{missing}", shown.join("\n    "))
}

/// The mistake that explains the difference between the truth and what was printed.
fn diagnose(truth: &[SocketRow], printed: &[String], decoys: &Decoys) -> Hint {
    let rows: Vec<Vec<&str>> = printed
        .iter()
        .filter(|l| l.as_str() != inspect::HEADER)
        .map(|l| l.split_whitespace().collect())
        .collect();
    // The grader's own sockets are in every table of the namespace, never among the process's
    // descriptors: a line for one of them means the program listed the tables, not the process.
    let decoy_shown = rows.iter().any(|fields| {
        decoys.rows.iter().any(|(proto, addr)| {
            fields.get(1) == Some(proto)
                && fields.get(2).is_some_and(|local| {
                    let port = local.rsplit(':').next().unwrap_or("");
                    port == addr.port().to_string() || port == addr.port().swap_bytes().to_string()
                })
        })
    });
    if decoy_shown {
        return Hint::SockstatNotOwnSockets;
    }
    let by_fd = |fd: u32| {
        rows.iter()
            .find(|f| f.first() == Some(&fd.to_string().as_str()))
    };
    let missing: Vec<&SocketRow> = truth.iter().filter(|r| by_fd(r.fd).is_none()).collect();
    let all_missing = |which: fn(&SocketRow) -> bool| {
        let wanted: Vec<&SocketRow> = truth.iter().filter(|r| which(r)).collect();
        !wanted.is_empty() && wanted.iter().all(|r| missing.contains(r))
    };
    let is_v6 = |r: &SocketRow| r.proto.ends_with('6');
    let is_udp = |r: &SocketRow| r.proto.starts_with("udp");
    if !missing.is_empty() {
        if all_missing(is_v6) && missing.iter().all(|r| is_v6(r) || is_udp(r)) {
            return Hint::SockstatIpv4Only;
        }
        if all_missing(is_udp) && missing.iter().all(|r| is_udp(r)) {
            return Hint::SockstatNoUdp;
        }
    }
    // Row by row: which misreading of the table turns the truth into what was printed?
    let mut word_order = false;
    let mut byte_order = false;
    let mut states = false;
    for row in truth {
        let Some(fields) = by_fd(row.fd) else {
            continue;
        };
        let [_, proto, local, remote, state] = fields.as_slice() else {
            continue;
        };
        if *proto != row.proto {
            continue;
        }
        let addresses_as = |m: Misreading| {
            show(m.apply(row.local)) == *local
                && row.remote.map_or("*:*".into(), |r| show(m.apply(r))) == *remote
        };
        match Misreading::ALL.into_iter().find(|m| addresses_as(*m)) {
            Some(m) if m.words => word_order = true,
            Some(m) if m.port || m.bytes => byte_order = true,
            Some(_) if *state != row.state => states = true,
            _ => {}
        }
    }
    if word_order {
        Hint::SockstatIpv6WordOrder
    } else if byte_order {
        Hint::SockstatByteOrder
    } else if states {
        Hint::SockstatStateNames
    } else {
        Hint::WrongOutput { chapter: CH_SEEING }
    }
}

fn show(addr: SocketAddr) -> String {
    addr.to_string()
}

/// A way to misread an address of the kernel's table.
#[derive(Clone, Copy, Debug)]
struct Misreading {
    /// The port's two bytes swapped.
    port: bool,
    /// The bytes of each 32-bit word of the address taken in the order they are printed.
    bytes: bool,
    /// The four words of an IPv6 address in reverse order.
    words: bool,
}

impl Misreading {
    /// Every combination, the right reading first.
    const ALL: [Misreading; 8] = {
        let mut all = [Misreading {
            port: false,
            bytes: false,
            words: false,
        }; 8];
        let mut i = 0;
        while i < 8 {
            all[i] = Misreading {
                port: i & 1 != 0,
                bytes: i & 2 != 0,
                words: i & 4 != 0,
            };
            i += 1;
        }
        all
    };

    fn apply(self, addr: SocketAddr) -> SocketAddr {
        let port = if self.port {
            addr.port().swap_bytes()
        } else {
            addr.port()
        };
        let ip = match addr.ip() {
            IpAddr::V4(ip) => {
                let mut octets = ip.octets();
                if self.bytes {
                    octets.reverse();
                }
                IpAddr::from(octets)
            }
            IpAddr::V6(ip) => {
                let mut words: Vec<[u8; 4]> = ip
                    .octets()
                    .chunks(4)
                    .map(|c| [c[0], c[1], c[2], c[3]])
                    .collect();
                if self.bytes {
                    words.iter_mut().for_each(|w| w.reverse());
                }
                if self.words {
                    words.reverse();
                }
                let octets: Vec<u8> = words.concat();
                IpAddr::V6(Ipv6Addr::from(
                    <[u8; 16]>::try_from(octets).expect("16 bytes"),
                ))
            }
        };
        SocketAddr::new(ip, port)
    }
}

/// A socket as `ss` shows it: (fd, tcp or udp, state, local, peer or `None`).
type SsRow = (u32, String, String, String, Option<String>);

/// Compares the truth with `ss -tuanp`, where `ss` is installed; says so and agrees where not.
fn compare_with_ss(pid: i32, truth: &[SocketRow]) -> Result<(), String> {
    let Some(seen) = ss_rows(pid)? else {
        eprintln!("note: `ss` is not installed: the sockstat checks compare with /proc only");
        return Ok(());
    };
    let wanted: Vec<SsRow> = truth
        .iter()
        .map(|r| {
            (
                r.fd,
                r.proto.trim_end_matches('6').to_string(),
                r.state.to_string(),
                r.local.to_string(),
                r.remote.map(|a| a.to_string()),
            )
        })
        .collect();
    if seen == wanted {
        Ok(())
    } else {
        Err(format!("ss shows {seen:?}, /proc shows {wanted:?}"))
    }
}

/// `ss -H -tuanp`'s lines about `pid`, one per descriptor, sorted; `None` without `ss`.
fn ss_rows(pid: i32) -> Result<Option<Vec<SsRow>>, String> {
    let ss = Subject {
        exe: "ss".into(),
        shown_as: "ss".into(),
    };
    let args: Vec<String> = vec!["-H".into(), "-tuanp".into()];
    let run = match Run::start(&ss, &args, Input::Lines(vec![])) {
        Ok(run) => run,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot run ss: {e}")),
    };
    let outcome = run.finish(Instant::now() + FINISH);
    if outcome.ending != Ending::Exited(0) {
        return Err(format!("ss failed: {}", outcome.stderr_text()));
    }
    let mut rows = Vec::new();
    let marker = format!("pid={pid},fd=");
    for line in outcome.stdout_lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [netid, state, _, _, local, peer, process @ ..] = fields.as_slice() else {
            continue;
        };
        let peer = (!peer.ends_with(":*")).then(|| peer.to_string());
        for part in process.join(" ").split(&marker).skip(1) {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(fd) = digits.parse() {
                rows.push((
                    fd,
                    netid.to_string(),
                    state.to_string(),
                    local.to_string(),
                    peer.clone(),
                ));
            }
        }
    }
    rows.sort();
    Ok(Some(rows))
}

fn the_socket_zoo(subject: &Subject) -> Result<(), Box<Failure>> {
    let decoys = Decoys::open()?;
    let zoo = start_support("socket-zoo", &[], "ready")?;
    judge_table(
        subject,
        "the support socket zoo holds TCP and UDP sockets on IPv4 and IPv6: listeners, both ends \
         of connections (one from an IPv6 socket to an IPv4 listener), a half-closed one \
         (FIN-WAIT-2, CLOSE-WAIT), one stuck in SYN-SENT, UDP bound and connected, a duplicated \
         descriptor, and Unix sockets",
        zoo.pid(),
        &decoys,
    )
}

fn a_tcp_server_with_a_client(subject: &Subject) -> Result<(), Box<Failure>> {
    let decoys = Decoys::open()?;
    let server = start_support("tcp-server", &["--port", "0"], "listening on")?;
    let line = server.stdout_so_far().join("\n");
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| setup(format!("tcp-server announced {line:?}")))?;
    // The grader's end of the connection is the grader's, not the server's: it must not show.
    let mut client = TcpStream::connect(addr)
        .map_err(|e| setup(format!("cannot connect to the tcp-server: {e}")))?;
    // One reply proves the server has accepted the connection (and holds its socket).
    client
        .set_read_timeout(Some(READY))
        .and_then(|()| client.write_all(b"hello\n"))
        .map_err(|e| setup(format!("cannot talk to the tcp-server: {e}")))?;
    let mut reply = String::new();
    BufReader::new(&client)
        .read_line(&mut reply)
        .map_err(|e| setup(format!("no reply from the tcp-server: {e}")))?;
    judge_table(
        subject,
        "the support tcp-server listens on 127.0.0.1 and has accepted one client (the grader)",
        server.pid(),
        &decoys,
    )
}

fn a_process_with_no_sockets(subject: &Subject) -> Result<(), Box<Failure>> {
    let decoys = Decoys::open()?;
    let sleep = Subject {
        exe: "sleep".into(),
        shown_as: "sleep".into(),
    };
    let sleeper = Run::start(&sleep, &["600".into()], Input::Open)
        .map_err(|e| setup(format!("cannot start sleep: {e}")))?;
    judge_table(
        subject,
        "`sleep 600` holds no socket at all, while other processes (the grader) hold some",
        sleeper.pid(),
        &decoys,
    )
}

fn no_such_process(subject: &Subject) -> Result<(), Box<Failure>> {
    // The pid of a process that has exited and been reaped: no /proc/PID any more.
    let mut child = std::process::Command::new("true")
        .spawn()
        .map_err(|e| setup(format!("cannot start true: {e}")))?;
    let pid = child.id() as i32;
    child
        .wait()
        .map_err(|e| setup(format!("cannot reap true: {e}")))?;
    let outcome = run_sockstat(subject, pid)?;
    let stderr_lines = outcome.stderr.len();
    let ok = outcome.ending == Ending::Exited(1) && outcome.stdout.is_empty() && stderr_lines == 1;
    if ok {
        return Ok(());
    }
    let hint = general_hint(&outcome, CH_SEEING).unwrap_or(match outcome.ending {
        Ending::StillRunning => Hint::Hung { chapter: CH_SEEING },
        _ => Hint::ErrorNotReported { chapter: CH_SEEING },
    });
    Err(Box::new(Failure {
        scenario: format!("process {pid} has exited: /proc/{pid} does not exist"),
        command: outcome.command.clone(),
        transcript: Transcript::of(&outcome),
        expected: "one line on standard error, nothing on standard output, exit status 1".into(),
        actual: format!(
            "{}; {} on standard error",
            describe(&outcome),
            crate::failure::plural(stderr_lines, "line", "lines")
        ),
        hint,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misreadings_change_what_they_should() {
        let v4: SocketAddr = "127.0.0.1:4660".parse().unwrap(); // 4660 = 0x1234
        let bytes = Misreading {
            port: true,
            bytes: true,
            words: false,
        };
        assert_eq!(show(bytes.apply(v4)), "1.0.0.127:13330"); // 0x3412
        let v6: SocketAddr = "[::1]:4660".parse().unwrap();
        let words = Misreading {
            port: false,
            bytes: false,
            words: true,
        };
        assert_eq!(show(words.apply(v6)), "[0:1::]:4660");
        assert_eq!(show(bytes.apply(v6)), "[::100:0]:13330");
        assert_eq!(show(Misreading::ALL[0].apply(v6)), "[::1]:4660");
    }
}
