//! The programs in `src/bin/`, run as child processes the way a learner runs them.
//!
//! A program that runs to its end (`--help`, wrong arguments, a client) is run with `assert_cmd`,
//! which kills it when the deadline passes. A server runs until stopped, so it is started as a
//! [`Guard`], which the test talks to while it runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use predicates::prelude::*;
use support::daemon::reserve_port;
use support::tcp_server::{TcpLineServer, TcpOptions};
use support::udp_server::{UdpOptions, UdpServer};

const DEADLINE: Duration = Duration::from_secs(10);

/// Every program, and the options its `--help` must mention.
const PROGRAMS: &[(&str, &[&str])] = &[
    ("daemon", &["--pidfile", "--port", "--detach"]),
    ("fork-server", SERVER_OPTIONS),
    (
        "framed-server",
        &[
            "--host",
            "--port",
            "--trace",
            "--trickle",
            "--slice",
            "--seed",
            "--coalesce",
            "--large",
            "--close-mid-frame",
            "--over-limit",
        ],
    ),
    ("iterative-server", SERVER_OPTIONS),
    (
        "loadgen",
        &[
            "--host",
            "--port",
            "--connections",
            "--messages",
            "--think-ms",
            "--size",
            "--timeout",
            "--connect-batch",
            "--pid",
            "--csv",
            "--label",
        ],
    ),
    ("plot", &["--out", "--table", "--title"]),
    ("poll-server", SERVER_OPTIONS),
    ("socket-zoo", &[]),
    ("tcp-client", &["--no-half-close"]),
    (
        "tcp-server",
        &[
            "--host",
            "--port",
            "--trace",
            "--tag",
            "--trickle-ms",
            "--close-early",
            "--max-line",
        ],
    ),
    ("thread-server", SERVER_OPTIONS),
    ("udp-client", &["--bind", "--wait-ms"]),
    (
        "udp-server",
        &[
            "--host",
            "--port",
            "--trace",
            "--tag",
            "--drop-first",
            "--stranger",
            "--silent",
        ],
    ),
];

/// The options of chapter 6's four servers.
const SERVER_OPTIONS: &[&str] = &["--host", "--port", "--trace", "--backlog", "--max-line"];

/// The programs that take `--host`, and fail on one that does not resolve.
const SERVERS: &[&str] = &[
    "udp-server",
    "tcp-server",
    "framed-server",
    "iterative-server",
    "fork-server",
    "thread-server",
    "poll-server",
];

/// Runs `program` to its end, with nothing on standard input; killed if it is not done by the
/// deadline (the assertions then fail on its status).
fn run(program: &str, args: &[&str]) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(cargo_bin(program));
    command.args(args).write_stdin("").timeout(DEADLINE);
    command
}

/// A child process that is killed and reaped when dropped, even when a test fails.
///
/// A thread of its own waits for the child (`waitpid`), so waiting for the exit with a deadline
/// is waiting on a channel, not checking again and again.
struct Guard {
    pid: Pid,
    exited: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.status.is_none() && self.exited.try_recv().is_err() {
            let _ = kill(self.pid, Signal::SIGKILL);
            // The waiting thread reaps it.
            let _ = self.exited.recv_timeout(DEADLINE);
        }
    }
}

impl Guard {
    fn start(program: &Path, args: &[&str]) -> Guard {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (tx, exited) = mpsc::channel();
        thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        Guard {
            pid,
            exited,
            status: None,
            stdout,
            stderr,
        }
    }

    fn signal(&self, signal: Signal) {
        kill(self.pid, signal).unwrap();
    }

    /// Lines of standard output, each delivered as soon as it is printed.
    fn stdout_lines(&mut self) -> mpsc::Receiver<String> {
        lines_of(self.stdout.take().unwrap())
    }

    fn wait(&mut self) -> ExitStatus {
        if self.status.is_none() {
            let status = self.exited.recv_timeout(DEADLINE);
            self.status = Some(status.expect("the program exits in time"));
        }
        self.status.unwrap()
    }

    /// All of standard error; call after the program has exited.
    fn stderr(&mut self) -> String {
        let mut text = String::new();
        self.stderr
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }
}

fn lines_of(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn next_line(lines: &mpsc::Receiver<String>) -> String {
    lines
        .recv_timeout(DEADLINE)
        .expect("a line on standard output in time")
}

/// The port announced by `listening on ADDR:PORT`.
fn announced_port(line: &str, host: &str) -> u16 {
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line {line:?}"));
    let (ip, port) = addr.rsplit_once(':').unwrap();
    assert_eq!(ip, host);
    let port: u16 = port.parse().unwrap();
    assert_ne!(port, 0, "the real port, not 0");
    port
}

#[test]
fn udp_server_announces_its_port_and_answers() {
    let mut server = Guard::start(&cargo_bin("udp-server"), &["--port", "0", "--tag", "demo"]);
    let lines = server.stdout_lines();
    let port = announced_port(&next_line(&lines), "127.0.0.1");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    socket.send_to(b"hello", ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 100];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"demo HELLO");
    assert_eq!(from.port(), port);
    // SIGTERM: a clean stop, status 0.
    server.signal(Signal::SIGTERM);
    assert!(server.wait().success());
    assert!(server.stderr().contains("stopping"));
}

#[test]
fn tcp_server_announces_its_port_and_answers_on_ipv6() {
    let mut server = Guard::start(&cargo_bin("tcp-server"), &["--host", "::1"]);
    let lines = server.stdout_lines();
    let port = announced_port(&next_line(&lines), "[::1]");
    let mut stream = TcpStream::connect(("::1", port)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream.write_all(b"hi\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "HI\nreceived 1 line\nbye\n");
    server.signal(Signal::SIGINT);
    assert!(server.wait().success());
}

/// `--dual-stack` on each server that has it: `listening on [::]:PORT`, and one socket answers
/// an IPv4 client and an IPv6 client.
#[test]
fn dual_stack_servers_announce_any_and_answer_both_families() {
    let mut server = Guard::start(&cargo_bin("udp-server"), &["--dual-stack", "--port", "0"]);
    let lines = server.stdout_lines();
    let port = announced_port(&next_line(&lines), "[::]");
    for ip in ["127.0.0.1", "::1"] {
        let socket = UdpSocket::bind((ip, 0)).unwrap();
        socket.set_read_timeout(Some(DEADLINE)).unwrap();
        socket.send_to(b"hello", (ip, port)).unwrap();
        let mut buf = [0u8; 100];
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"HELLO", "a reply to {ip}");
    }
    server.signal(Signal::SIGTERM);
    assert!(server.wait().success());

    for program in ["tcp-server", "framed-server"] {
        let mut server = Guard::start(&cargo_bin(program), &["--dual-stack"]);
        let lines = server.stdout_lines();
        let port = announced_port(&next_line(&lines), "[::]");
        for ip in ["127.0.0.1", "::1"] {
            // A connection is accepted (the handshake alone would be done by the kernel, but the
            // close-after-half-close shows the server itself served it).
            let mut stream = TcpStream::connect((ip, port)).unwrap();
            stream.set_read_timeout(Some(DEADLINE)).unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply).unwrap();
            assert!(!reply.is_empty(), "{program} said goodbye to {ip}");
        }
        server.signal(Signal::SIGTERM);
        assert!(server.wait().success());
    }
}

#[test]
fn udp_client_prints_what_arrives_and_from_where() {
    let server = UdpServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        UdpOptions::uppercase(Some("demo".into())),
    )
    .and_then(UdpServer::spawn)
    .unwrap();
    let addr = server.local_addr();
    let port = addr.port().to_string();
    let output = run("udp-client", &["127.0.0.1", &port, "--wait-ms", "200"])
        .write_stdin("hello\nworld\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(output).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("bound to 0.0.0.0:"), "{stdout}");
    assert_eq!(
        lines[1..],
        [
            format!("from {addr}: demo HELLO"),
            format!("from {addr}: demo WORLD"),
        ]
    );
}

#[test]
fn tcp_client_shows_each_read_the_half_close_and_the_close() {
    let server = TcpLineServer::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::uppercase(None))
        .and_then(TcpLineServer::spawn)
        .unwrap();
    let addr = server.local_addr();
    let port = addr.port().to_string();
    let output = run("tcp-client", &["localhost", &port])
        .write_stdin("hello\nworld\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(output).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let first = lines[0];
    assert!(
        first.starts_with("connected 127.0.0.1:") && first.ends_with(&format!(" -> {addr}")),
        "{first}"
    );
    assert!(lines.contains(&"sent FIN (half-close)"), "{stdout}");
    assert_eq!(lines.last(), Some(&"peer closed"));
    // However the stream was cut into reads, together they are exactly what the server sent.
    let received: String = lines
        .iter()
        .filter_map(|l| l.strip_prefix("recv "))
        .map(|l| {
            let (n, text) = l.split_once(" bytes: ").unwrap();
            let text = text.strip_prefix('"').unwrap().strip_suffix('"').unwrap();
            assert_eq!(n.parse::<usize>().unwrap(), text.replace("\\n", "\n").len());
            text.to_string()
        })
        .collect();
    assert_eq!(received, r"HELLO\nWORLD\nreceived 2 lines\nbye\n");
}

#[test]
fn tcp_client_reports_a_refused_connection_in_one_line() {
    // Bound and not listening: a connect is refused, and no other program can take the port
    // while the socket lives.
    let (_reserved, port) = reserve_port().unwrap();
    run("tcp-client", &["127.0.0.1", &port.to_string()])
        .assert()
        .code(1)
        .stderr(one_line().and(predicate::str::contains("cannot connect")));
}

#[test]
fn servers_report_a_bad_host_in_one_line() {
    for program in SERVERS {
        run(program, &["--host", "no such host.invalid"])
            .assert()
            .code(1)
            .stdout("")
            .stderr(one_line().and(no_panic()));
    }
}

#[test]
fn every_program_explains_itself_with_help() {
    for (program, options) in PROGRAMS {
        let assert = run(program, &["--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("Usage: {program}")));
        let text = String::from_utf8_lossy(&assert.get_output().stdout);
        for option in options.iter().chain(&["--help", "--version"]) {
            assert!(
                text.contains(option),
                "{program} --help does not mention {option}:\n{text}"
            );
        }
    }
}

/// Wrong usage is the caller's mistake, not the program's: exit status 2 and one message that
/// says what is wrong, with no panic and nothing on standard output.
#[test]
fn every_program_refuses_an_unknown_option_with_one_usage_message() {
    for (program, _) in PROGRAMS {
        run(program, &["--no-such-option"])
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                one_error()
                    .and(predicate::str::contains("--no-such-option"))
                    .and(predicate::str::contains(format!("Usage: {program}")).count(1))
                    .and(no_panic()),
            );
    }
}

#[test]
fn every_program_refuses_a_number_that_is_not_one() {
    let pidfile = std::env::temp_dir().join("never-written.pid");
    let pidfile = pidfile.to_str().unwrap();
    let mut cases: Vec<(&str, Vec<&str>)> = SERVERS
        .iter()
        .map(|program| (*program, vec!["--port", "notanumber"]))
        .collect();
    cases.extend([
        ("daemon", vec!["--pidfile", pidfile, "--port", "notanumber"]),
        ("loadgen", vec!["--port", "notanumber"]),
        ("tcp-client", vec!["127.0.0.1", "notanumber"]),
        ("udp-client", vec!["127.0.0.1", "notanumber"]),
        ("plot", vec!["--out", "x.svg", "--title"]),
    ]);
    for (program, args) in cases {
        let expected = if program == "plot" {
            "--title"
        } else {
            "notanumber"
        };
        run(program, &args).assert().code(2).stdout("").stderr(
            one_error()
                .and(predicate::str::contains(expected))
                .and(no_panic()),
        );
    }
}

/// Standard error is exactly one line.
fn one_line() -> impl Predicate<str> {
    predicate::function(|text: &str| text.lines().count() == 1)
}

/// Exactly one line of standard error says `error:` (clap adds usage and a hint around it).
fn one_error() -> impl Predicate<str> {
    predicate::function(|text: &str| text.lines().filter(|l| l.starts_with("error:")).count() == 1)
}

fn no_panic() -> impl Predicate<str> {
    predicate::str::contains("panicked").not()
}
