//! The programs in `src/bin/`, run as child processes the way a learner runs them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::process::{ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::tcp_server::{TcpLineServer, TcpOptions};
use support::udp_server::{UdpOptions, UdpServer};

const DEADLINE: Duration = Duration::from_secs(10);

/// A child process that is killed and reaped when dropped, even when a test fails.
///
/// A thread of its own waits for the child (`waitpid`), so waiting for the exit with a deadline
/// is waiting on a channel, not checking again and again.
struct Guard {
    pid: Pid,
    exited: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    stdin: Option<ChildStdin>,
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
    fn start(program: &str, args: &[&str]) -> Guard {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
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
            stdin,
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

    fn feed(&mut self, input: &[u8]) {
        let mut stdin = self.stdin.take().unwrap();
        stdin.write_all(input).unwrap();
        // Dropping stdin closes the pipe: the program reads end of input.
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

/// Every remaining line, until the program closes its standard output.
fn rest(lines: &mpsc::Receiver<String>) -> Vec<String> {
    let mut all = Vec::new();
    while let Ok(line) = lines.recv_timeout(DEADLINE) {
        all.push(line);
    }
    all
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
    let mut server = Guard::start(
        env!("CARGO_BIN_EXE_udp-server"),
        &["--port", "0", "--tag", "demo"],
    );
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
    let mut server = Guard::start(env!("CARGO_BIN_EXE_tcp-server"), &["--host", "::1"]);
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
    let mut client = Guard::start(
        env!("CARGO_BIN_EXE_udp-client"),
        &["127.0.0.1", &port, "--wait-ms", "200"],
    );
    let lines = client.stdout_lines();
    client.feed(b"hello\nworld\n");
    assert!(next_line(&lines).starts_with("bound to 0.0.0.0:"));
    assert_eq!(
        rest(&lines),
        vec![
            format!("from {addr}: demo HELLO"),
            format!("from {addr}: demo WORLD"),
        ]
    );
    assert!(client.wait().success());
}

#[test]
fn tcp_client_shows_each_read_the_half_close_and_the_close() {
    let server = TcpLineServer::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::uppercase(None))
        .and_then(TcpLineServer::spawn)
        .unwrap();
    let addr = server.local_addr();
    let port = addr.port().to_string();
    let mut client = Guard::start(env!("CARGO_BIN_EXE_tcp-client"), &["localhost", &port]);
    let lines = client.stdout_lines();
    client.feed(b"hello\nworld\n");
    let first = next_line(&lines);
    assert!(
        first.starts_with("connected 127.0.0.1:") && first.ends_with(&format!(" -> {addr}")),
        "{first}"
    );
    let rest = rest(&lines);
    assert!(
        rest.contains(&"sent FIN (half-close)".to_string()),
        "{rest:?}"
    );
    assert_eq!(rest.last().map(String::as_str), Some("peer closed"));
    // However the stream was cut into reads, together they are exactly what the server sent.
    let received: String = rest
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
    assert!(client.wait().success());
}

#[test]
fn tcp_client_reports_a_refused_connection_in_one_line() {
    // A port that was free a moment ago: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut client = Guard::start(env!("CARGO_BIN_EXE_tcp-client"), &["127.0.0.1", &port]);
    client.feed(b"");
    let status = client.wait();
    assert_eq!(status.code(), Some(1));
    let stderr = client.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[test]
fn servers_report_a_bad_host_in_one_line() {
    for program in [
        env!("CARGO_BIN_EXE_udp-server"),
        env!("CARGO_BIN_EXE_tcp-server"),
    ] {
        let mut server = Guard::start(program, &["--host", "no such host.invalid"]);
        assert_eq!(server.wait().code(), Some(1));
        assert_eq!(server.stderr().lines().count(), 1);
    }
}

#[test]
fn every_program_explains_itself_with_help() {
    for program in [
        env!("CARGO_BIN_EXE_udp-server"),
        env!("CARGO_BIN_EXE_udp-client"),
        env!("CARGO_BIN_EXE_tcp-server"),
        env!("CARGO_BIN_EXE_tcp-client"),
    ] {
        let output = Command::new(program).arg("--help").output().unwrap();
        assert!(output.status.success(), "{program} --help");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("Usage:"), "{program}: {text}");
        assert!(text.contains("--help"), "{program}: {text}");
    }
}
