//! The four echo servers of chapter 6 (`iterative-server`, `fork-server`, `thread-server`,
//! `poll-server`), run as child processes and proved on real sockets: they echo, survive
//! garbage, oversized lines and resets, leak no descriptor after thousands of connections, leave
//! no zombie (fork), and serve a stalled client and an active one at the same time, except the
//! iterative one, which cannot.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use socket2::SockRef;

/// How long any one step may take before the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(20);
/// Connections in the leak test.
const MANY: usize = 2000;

/// A server started as a child process; killed (its whole process group, children included) and
/// reaped when dropped, even when the test fails.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: mpsc::Receiver<String>,
}

impl Server {
    fn start(program: &str) -> Server {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(program)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group, so that dropping the guard also kills a forking server's children.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let (tx, first) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let (tx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let line = first
            .recv_timeout(DEADLINE)
            .expect("the first line in time");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {line:?}"))
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            stderr,
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn connect(&self) -> Client {
        Client::new(TcpStream::connect(self.addr).expect("connect"))
    }

    /// The server process's socket descriptors (not those of its children).
    fn sockets(&self) -> usize {
        sockets_of(self.pid())
    }

    /// Waits until the server has printed a standard-error line containing `text`.
    fn wait_log(&self, text: &str) -> bool {
        let deadline = Instant::now() + DEADLINE;
        while let Ok(line) = self
            .stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if line.contains(text) {
                return true;
            }
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = nix::sys::signal::killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn sockets_of(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

/// The processes whose parent is `pid`, with their state letter (`Z` for a zombie).
fn children_of(pid: i32) -> BTreeMap<i32, char> {
    let mut children = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // Read once: a process may end between two reads, and its file vanish.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // "PID (COMM) STATE PPID ...": COMM may hold spaces, so split after its last ')'.
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let mut fields = rest.split(' ');
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        if fields.next().and_then(|p| p.parse::<i32>().ok()) == Some(pid) {
            children.insert(child, state);
        }
    }
    children
}

/// Waits for a state of the system that the server reaches on its own (a descriptor closed, a
/// child reaped). The kernel has no event for these, so this looks again every few
/// milliseconds, until the deadline.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn new(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Client { stream, reader }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a line in time");
        line
    }

    fn half_close(&self) {
        self.stream.shutdown(Shutdown::Write).unwrap();
    }

    /// Everything left until the server closes.
    fn rest(&mut self) -> String {
        let mut rest = String::new();
        self.reader
            .read_to_string(&mut rest)
            .expect("the end in time");
        rest
    }

    /// Closes with a reset (RST) instead of an orderly FIN.
    fn reset(self) {
        SockRef::from(&self.stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    }
}

fn echoes_and_closes_after_half_close(program: &str) {
    let server = Server::start(program);
    let mut client = server.connect();
    client.send(b"hello\n");
    assert_eq!(client.line(), "hello\n");
    client.send(b"two\nlines\nand a tail");
    client.half_close();
    assert_eq!(client.rest(), "two\nlines\nand a tail\n");
}

fn survives_garbage_oversized_lines_and_resets(program: &str) {
    let server = Server::start(program);
    let mut client = server.connect();
    let garbage: Vec<u8> = (0..=255u8).filter(|&b| b != b'\n').chain([b'\n']).collect();
    client.send(&garbage);
    let mut echoed = Vec::new();
    client.reader.read_until(b'\n', &mut echoed).unwrap();
    assert_eq!(echoed, garbage);
    client.send(&vec![b'x'; 200_000]);
    client.send(b"\nstill here\n");
    assert_eq!(client.line(), "error: line longer than 65536 bytes\n");
    assert_eq!(client.line(), "still here\n");
    // A reset in the middle of a line, and one with echoes unread.
    client.send(b"half a li");
    client.reset();
    let mut unread = server.connect();
    unread.send(b"never read\n");
    unread.reset();
    let mut after = server.connect();
    after.send(b"after the resets\n");
    assert_eq!(after.line(), "after the resets\n");
}

/// A client that sent half a line and stalls, and one that never reads what it is sent, do not
/// keep another client waiting.
fn serves_a_stalled_client_and_an_active_one(program: &str) {
    let server = Server::start(program);
    let mut stalled = server.connect();
    stalled.send(b"half a line, and then nothing");
    let mut never_reads = server.connect();
    // Far more than the socket buffers on both sides hold: the server's writes to it block.
    let flood = vec![b'y'; 1000];
    let flooder = {
        let mut stream = never_reads.stream.try_clone().unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        thread::spawn(move || {
            for _ in 0..20_000 {
                if stream.write_all(&flood).is_err() || stream.write_all(b"\n").is_err() {
                    return;
                }
            }
        })
    };
    // Both are accepted before the active client comes.
    assert!(server.wait_log("conn 2: accepted"));
    let mut active = server.connect();
    for i in 0..10 {
        let line = format!("active {i}\n");
        active.send(line.as_bytes());
        assert_eq!(active.line(), line);
    }
    // And the stalled one is still served when it goes on.
    stalled.send(b" more\n");
    assert_eq!(stalled.line(), "half a line, and then nothing more\n");
    never_reads.send(b"");
    let _ = flooder.join();
}

fn no_descriptor_leak_after_thousands_of_connections(program: &str) -> Server {
    let server = Server::start(program);
    let addr = server.addr;
    // The baseline is taken after one whole conversation, not at `listening on`: a server may
    // make its own sockets once it serves (the fork server's self-pipe is a socket pair made
    // in `serve`), and counting at start raced with that. When `rest` has read the end of
    // stream, the server has closed its side of this connection.
    let mut first = Client::new(TcpStream::connect(addr).unwrap());
    first.send(b"first\n");
    assert_eq!(first.line(), "first\n");
    first.half_close();
    assert_eq!(first.rest(), "");
    let baseline = server.sockets();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            thread::spawn(move || {
                for i in (w..MANY).step_by(8) {
                    let mut client = Client::new(TcpStream::connect(addr).unwrap());
                    let line = format!("client {i}\n");
                    client.send(line.as_bytes());
                    if i % 10 == 0 {
                        // Some leave with a reset, their echo unread.
                        client.reset();
                        continue;
                    }
                    assert_eq!(client.line(), line);
                    client.half_close();
                    assert_eq!(client.rest(), "");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("every client served");
    }
    // At most: a server may still have been closing the first connection when the baseline was
    // taken. A leak is one socket per client, thousands here, so this cannot hide one.
    eventually(
        "the server holds no more sockets than after its first client",
        || server.sockets() <= baseline,
    );
    server
}

fn the_iterative_server_cannot_serve_two_at_once() {
    let server = Server::start(env!("CARGO_BIN_EXE_iterative-server"));
    let mut stalled = server.connect();
    stalled.send(b"half a line");
    let mut other = server.connect();
    other.send(b"hello\n");
    // The server is stuck reading the first client: no reply can come, however long we wait.
    // Half a second stands for "ever"; on a slow machine this can only pass more easily.
    other
        .stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut line = String::new();
    let waited = other.reader.read_line(&mut line);
    assert!(
        waited.is_err(),
        "the second client got {line:?} while the first one stalled"
    );
    // The moment the first client leaves, the second is served.
    other.stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stalled.half_close();
    assert_eq!(stalled.rest(), "half a line\n");
    assert_eq!(other.line(), "hello\n");
}

macro_rules! model_tests {
    ($model:ident, $bin:literal) => {
        mod $model {

            #[test]
            fn echoes_and_closes_after_half_close() {
                super::echoes_and_closes_after_half_close(env!(concat!("CARGO_BIN_EXE_", $bin)));
            }

            #[test]
            fn survives_garbage_oversized_lines_and_resets() {
                super::survives_garbage_oversized_lines_and_resets(env!(concat!(
                    "CARGO_BIN_EXE_",
                    $bin
                )));
            }

            #[test]
            fn no_descriptor_leak_after_thousands_of_connections() {
                super::no_descriptor_leak_after_thousands_of_connections(env!(concat!(
                    "CARGO_BIN_EXE_",
                    $bin
                )));
            }
        }
    };
}

model_tests!(iterative, "iterative-server");
model_tests!(fork, "fork-server");
model_tests!(threads, "thread-server");
model_tests!(poll, "poll-server");

#[test]
fn iterative_cannot_serve_a_stalled_client_and_an_active_one() {
    the_iterative_server_cannot_serve_two_at_once();
}

#[test]
fn fork_serves_a_stalled_client_and_an_active_one() {
    serves_a_stalled_client_and_an_active_one(env!("CARGO_BIN_EXE_fork-server"));
}

#[test]
fn threads_serve_a_stalled_client_and_an_active_one() {
    serves_a_stalled_client_and_an_active_one(env!("CARGO_BIN_EXE_thread-server"));
}

#[test]
fn poll_serves_a_stalled_client_and_an_active_one() {
    serves_a_stalled_client_and_an_active_one(env!("CARGO_BIN_EXE_poll-server"));
}

#[test]
fn fork_leaves_no_zombie_and_the_parent_keeps_no_client_socket() {
    let server =
        no_descriptor_leak_after_thousands_of_connections(env!("CARGO_BIN_EXE_fork-server"));
    eventually("every child has exited and been reaped", || {
        children_of(server.pid()).is_empty()
    });
    // While a client is being served, its socket is the child's alone.
    let baseline = server.sockets();
    let mut client = server.connect();
    client.send(b"hi\n");
    assert_eq!(client.line(), "hi\n");
    let children = children_of(server.pid());
    assert_eq!(children.len(), 1, "one child per client: {children:?}");
    assert_eq!(
        server.sockets(),
        baseline,
        "the parent kept its copy of the client socket"
    );
    client.half_close();
    assert_eq!(client.rest(), "");
    eventually("the child has exited and been reaped", || {
        children_of(server.pid()).is_empty()
    });
}

#[test]
fn fork_stops_its_children_on_sigterm() {
    let server = Server::start(env!("CARGO_BIN_EXE_fork-server"));
    let mut client = server.connect();
    client.send(b"hi\n");
    assert_eq!(client.line(), "hi\n");
    kill(Pid::from_raw(server.pid()), Signal::SIGTERM).unwrap();
    // The child serving us is stopped too: the connection ends.
    assert_eq!(client.rest(), "");
}
