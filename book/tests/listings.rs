//! Runs the book's listings (the package's examples) and checks that they do what the chapters
//! say. Servers run on port 0; every wait has a deadline; every child is killed and reaped.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long any one step may take before the test fails instead of hanging.
#[path = "parts/deadline.rs"]
mod deadline;

const DEADLINE: Duration = Duration::from_secs(20);

/// The path of a built example. `cargo test -p book` builds the examples before running tests.
fn example(name: &str) -> PathBuf {
    // This test runs from TARGET/debug/deps/; examples are built to TARGET/debug/examples/.
    let exe = std::env::current_exe().expect("the test's own path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from TARGET/PROFILE/deps")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test -p book`, which builds the examples first",
        path.display()
    );
    path
}

/// A child process that is killed and reaped when the guard goes, even when a check fails.
struct Running {
    child: Child,
}

impl Running {
    fn start(name: &str, args: &[&str]) -> Self {
        let child = Command::new(example(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running { child }
    }

    fn stdout(&mut self) -> ChildStdout {
        self.child.stdout.take().expect("stdout is piped once")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server listing and returns it with the address from its `listening on ADDR` line.
fn start_server(name: &str, address: &str) -> (Running, String) {
    let mut server = Running::start(name, &[address]);
    let mut stdout = BufReader::new(server.stdout());
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{name} printed no `listening on` line"));
    let address = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{name}'s first line is {line:?}, not `listening on ADDR`"))
        .to_string();
    (server, address)
}

/// Runs a listing to its end and returns everything it printed on standard output.
fn run_to_end(name: &str, args: &[&str]) -> String {
    let mut running = Running::start(name, args);
    let mut stdout = running.stdout();
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = sender.send(text);
    });
    let text = receiver
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{name} {args:?} did not finish"));
    let status = deadline::wait_or_kill(&mut running.child, DEADLINE, name);
    assert!(status.success(), "{name} {args:?} failed: {status}\n{text}");
    text
}

#[test]
fn udp_hello_client_gets_the_servers_reply() {
    for any_port in ["127.0.0.1:0", "[::1]:0"] {
        let (_server, address) = start_server("ch02_udp_hello_server", any_port);
        let output = run_to_end("ch02_udp_hello_client", &[&address, "hello"]);
        let last = output.lines().last().unwrap_or_default();
        assert_eq!(last, format!("from {address}: HELLO"), "output:\n{output}");
        assert!(output.starts_with("bound to "), "output:\n{output}");
    }
}

#[test]
fn tcp_hello_client_talks_then_half_closes() {
    let (_server, address) = start_server("ch03_tcp_hello_server", "127.0.0.1:0");
    // Two clients one after the other: the server serves the next one after the first.
    for _ in 0..2 {
        let output = run_to_end("ch03_tcp_hello_client", &[&address, "hello", "world"]);
        let lines: Vec<&str> = output.lines().collect();
        assert!(
            lines[0].starts_with("connected ") && lines[0].ends_with(&format!(" -> {address}")),
            "output:\n{output}"
        );
        assert_eq!(
            lines[1..],
            [
                "reply: HELLO",
                "reply: WORLD",
                "sent FIN (half-close)",
                "after half-close: received 2 lines",
                "server closed",
            ],
            "output:\n{output}"
        );
    }
}

#[test]
fn datagrams_keep_their_boundaries_and_are_cut_by_a_small_buffer() {
    let output = run_to_end("ch02_datagrams", &[]);
    for expected in [
        ": \"one\"",
        ": \"two\"",
        ": \"three\"",
        "small buffer: \"a datagram\"",
        "next read: \"next\"",
    ] {
        assert!(output.contains(expected), "no {expected:?} in:\n{output}");
    }
}

#[test]
fn failures_show_each_error() {
    let output = run_to_end("ch03_failures", &[]);
    for expected in [
        "bind again: Address already in use (os error 98) [AddrInUse]",
        "read after the peer closed: Ok(0)",
        "read after a reset: Connection reset by peer (os error 104) [ConnectionReset]",
        "write after a reset: Broken pipe (os error 32) [BrokenPipe]",
        "Connection refused (os error 111) [ConnectionRefused]",
    ] {
        assert!(output.contains(expected), "no {expected:?} in:\n{output}");
    }
}

#[test]
fn addresses_and_byte_order() {
    let output = run_to_end("ch01_addresses", &[]);
    assert!(output.contains("[::1]:7000: ip ::1, port 7000, IPv4? false, loopback? true"));
    assert!(output.contains("in network byte order: [1b, 58]"));
}

#[test]
fn a_socket_is_a_descriptor() {
    // Standard input is empty, so the listing does not wait for Enter.
    let output = run_to_end("ch01_descriptor", &[]);
    assert!(output.contains("-> socket:["), "output:\n{output}");
}

#[test]
fn unix_sockets_by_path_abstract_name_datagram_and_pair() {
    let dir = std::env::temp_dir().join(format!("socklab-book-unix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("listing.sock");
    let output = run_to_end("ch04_unix", &[path.to_str().expect("a UTF-8 path")]);
    let result = std::fs::remove_dir_all(&dir);
    for expected in [
        format!("listening on {:?} (pathname)", path),
        "accepted a client named (unnamed)".to_string(),
        "server read: hello over a path".to_string(),
        "\" (abstract)".to_string(),
        "datagram: \"one\"\ndatagram: \"two\"".to_string(),
        "pair: HELLO FROM THE PARENT".to_string(),
        "after close, the path exists: true".to_string(),
    ] {
        assert!(output.contains(&expected), "no {expected:?} in:\n{output}");
    }
    assert!(!path.exists(), "the listing removes its socket file");
    result.expect("the temporary directory is removed");
}

#[test]
fn sigpipe_is_ignored_so_writes_to_a_closed_peer_fail_with_epipe() {
    let output = run_to_end("ch07_signals", &["sigpipe"]);
    for expected in [
        "SIGPIPE ignored: true",
        "send to a closed peer: Broken pipe (os error 32) [BrokenPipe]",
        "write to a closed peer: Broken pipe (os error 32) [EPIPE]",
    ] {
        assert!(output.contains(expected), "no {expected:?} in:\n{output}");
    }
}

#[test]
fn sigpipe_at_its_default_kills_at_the_plain_write() {
    use std::os::unix::process::ExitStatusExt;
    let mut running = Running::start("ch07_signals", &["sigpipe-default"]);
    let mut stdout = running.stdout();
    let status = deadline::wait_or_kill(&mut running.child, DEADLINE, "ch07_signals");
    let mut output = String::new();
    let _ = stdout.read_to_string(&mut output);
    assert_eq!(
        status.signal(),
        Some(13),
        "not killed by SIGPIPE:\n{output}"
    );
    assert!(output.contains("SIGPIPE ignored: false\nsend to a closed peer: Broken pipe"));
    assert!(
        !output.contains("write"),
        "the plain write returned:\n{output}"
    );
}

#[test]
fn a_signal_interrupts_a_blocking_read_with_eintr() {
    let output = run_to_end("ch07_signals", &["eintr"]);
    assert_eq!(
        output,
        "read: Interrupted system call (os error 4) [Interrupted]\n"
    );
}

#[test]
fn the_server_stops_cleanly_on_sigint_and_sigterm() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::io::Write;
    use std::net::TcpStream;
    for (signal, name) in [(Signal::SIGINT, "SIGINT"), (Signal::SIGTERM, "SIGTERM")] {
        let mut server = Running::start("ch07_signals", &["serve"]);
        let stdout = server.stdout();
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let first = receiver
            .recv_timeout(DEADLINE)
            .expect("a `listening on` line");
        let address = first
            .strip_prefix("listening on ")
            .expect("`listening on ADDR`");
        // It serves before the signal...
        let mut client = TcpStream::connect(address).expect("the server accepts");
        client.write_all(b"hi\n").expect("the server reads");
        let mut reply = String::new();
        client
            .set_read_timeout(Some(DEADLINE))
            .expect("a read timeout");
        BufReader::new(&client)
            .read_line(&mut reply)
            .expect("a reply");
        assert_eq!(reply, "HI\n");
        // ...and stops on it, saying so, with status 0.
        let pid = Pid::from_raw(server.child.id() as i32);
        kill(pid, signal).expect("the server can be signalled");
        let status = deadline::wait_or_kill(&mut server.child, DEADLINE, "ch07_signals serve");
        assert!(status.success(), "stopped by {name}: {status}");
        let last = receiver.recv_timeout(DEADLINE).expect("a last line");
        assert_eq!(last, format!("got {name}, stopping"));
    }
}
