//! The load generator, run as a child process against the chapter's servers: it counts every
//! echo, catches wrong ones, measures the server's memory, and says plainly when a run asks for
//! more than the system allows.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::daemon::reserve_port;

const DEADLINE: Duration = Duration::from_secs(20);

/// A server child process, killed and reaped when dropped, even when the test fails.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(program: &str) -> Server {
        let mut child = Command::new(program)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(DEADLINE).expect("the first line in time");
        let port = line.trim().rsplit_once(':').unwrap().1.parse().unwrap();
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs loadgen to its end. It bounds itself with --timeout; the test's deadline, a little
/// later, kills it if that fails.
fn loadgen(args: &[String]) -> (Output, String) {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .args(["--timeout", "15"])
        .timeout(DEADLINE)
        .output()
        .expect("loadgen runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output, text)
}

fn args(port: u16, more: &[&str]) -> Vec<String> {
    ["--port", &port.to_string()]
        .iter()
        .chain(more)
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn every_echo_is_counted_and_the_memory_read() {
    let server = Server::start(env!("CARGO_BIN_EXE_poll-server"));
    let pid = server.child.id().to_string();
    let csv = std::env::temp_dir().join(format!("loadgen-test-{}.csv", std::process::id()));
    let _ = std::fs::remove_file(&csv);
    let csv_arg = csv.to_string_lossy().into_owned();
    let (output, text) = loadgen(&args(
        server.port,
        &[
            "-c",
            "100",
            "-m",
            "5",
            "--think-ms",
            "1",
            "--pid",
            &pid,
            "--csv",
            &csv_arg,
            "--label",
            "poll",
        ],
    ));
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("connections held at once: 100 of 100"),
        "{text}"
    );
    assert!(text.contains("replies: 500 of 500"), "{text}");
    assert!(text.contains("errors: 0"), "{text}");
    assert!(text.contains("server memory: RSS"), "{text}");
    let rows = std::fs::read_to_string(&csv).unwrap();
    let _ = std::fs::remove_file(&csv);
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 2, "{rows}");
    assert!(lines[1].starts_with("poll,100,5,1,100,"), "{rows}");
}

#[test]
fn a_wrong_echo_is_an_error() {
    // The chapter 3 server answers in capitals: not an echo.
    let server = Server::start(env!("CARGO_BIN_EXE_tcp-server"));
    let (output, text) = loadgen(&args(server.port, &["-c", "10", "-m", "3"]));
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("errors: 10 (10 wrong echo)"), "{text}");
}

#[test]
fn a_run_beyond_the_descriptor_limit_says_so() {
    // Bound, never listening: nothing answers there, should loadgen ever try.
    let (_reserved, port) = reserve_port().unwrap();
    let (output, text) = loadgen(&args(port, &["-c", "10000000"]));
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("descriptors"), "{text}");
    assert!(text.contains("ulimit -n"), "{text}");
}

#[test]
fn refused_connections_are_errors() {
    // A port nobody listens on: bound, never listening, and kept so while the test runs.
    let (_reserved, port) = reserve_port().unwrap();
    let (output, text) = loadgen(&args(port, &["-c", "5", "-m", "1"]));
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("5 connect failed"), "{text}");
}
