//! Chapter 5's listings do what the chapter says: the short-read reader gets the messages wrong
//! and the NUL reader gets them right; the frame reader finds every frame however the bytes are
//! cut, and says so when a stream ends inside a frame or announces too much. The framed server
//! here is a small one in this test, on port 0, that writes its reply frames one byte at a time.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

#[path = "parts/deadline.rs"]
mod deadline;

/// How long a listing may take: it ends by itself within milliseconds.
const DEADLINE: Duration = Duration::from_secs(20);
use std::thread;

/// The path of a built example (`cargo test -p book` builds them before the tests).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from TARGET/PROFILE/deps")
        .join("examples")
        .join(name)
}

/// Runs a listing to its end. Each one ends by itself: it reads until its peer closes.
fn run(name: &str, args: &[&str]) -> Output {
    let mut child = Command::new(example(name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    // Read both pipes on threads of their own, so a full pipe cannot stall the listing.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let status = deadline::wait_or_kill(&mut child, DEADLINE, name);
    Output {
        status,
        stdout: out.join().expect("the stdout reader"),
        stderr: err.join().expect("the stderr reader"),
    }
}

/// What the test server sends back for the client's frames.
enum Reply {
    /// Each payload in capitals, then `bye`, every byte in a write of its own.
    Trickled,
    /// A header announcing 10 bytes, then 3 of them, then the end.
    Cut,
    /// A header announcing 2 GiB, then the end.
    TooLong,
}

/// Serves one connection on a thread and returns the address to connect to.
fn serve_once(reply: Reply) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_nodelay(true).unwrap();
        // The client sends all its frames and half-closes before it reads.
        let mut request = Vec::new();
        stream.read_to_end(&mut request).unwrap();
        let mut out = Vec::new();
        match reply {
            Reply::Trickled => {
                let mut rest = request.as_slice();
                while rest.len() >= 4 {
                    let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
                    out.extend_from_slice(&rest[..4]);
                    out.extend(rest[4..4 + len].to_ascii_uppercase());
                    rest = &rest[4 + len..];
                }
                out.extend_from_slice(&3u32.to_be_bytes());
                out.extend_from_slice(b"bye");
            }
            Reply::Cut => {
                out.extend_from_slice(&10u32.to_be_bytes());
                out.extend_from_slice(b"abc");
            }
            Reply::TooLong => out.extend_from_slice(&0x7fff_ffffu32.to_be_bytes()),
        }
        for byte in out {
            // The client may be gone already when it refused what it read: that is its right.
            if stream.write_all(&[byte]).is_err() {
                return;
            }
        }
        let _ = stream.shutdown(Shutdown::Write);
    });
    (addr, server)
}

#[test]
fn a_short_read_is_not_the_end_of_a_message_but_the_nul_is() {
    let output = run("ch05_short_read", &[]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "wrong reader (a short read ends the message):\n  message \"hel\"\n  message \"lo\"\n  \
         message \"one\\0two\"\nright reader (up to the NUL byte):\n  message \"hello\"\n  \
         message \"one\"\n  message \"two\"\n"
    );
}

#[test]
fn frames_are_found_however_the_bytes_arrive() {
    let (addr, server) = serve_once(Reply::Trickled);
    let output = run("ch05_frames", &[&addr.to_string(), "hello", "framed world"]);
    server.join().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "frame of 5 bytes: HELLO\nframe of 12 bytes: FRAMED WORLD\nframe of 3 bytes: bye\n\
         end of stream, between two frames\n"
    );
}

#[test]
fn a_frame_cut_short_or_too_long_is_one_line_and_status_1() {
    for (reply, says) in [
        (Reply::Cut, "the connection closed inside a frame"),
        (Reply::TooLong, "over the limit"),
    ] {
        let (addr, server) = serve_once(reply);
        let output = run("ch05_frames", &[&addr.to_string(), "hello"]);
        server.join().unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}

#[test]
fn peek_shows_the_bytes_of_every_read() {
    let (addr, server) = serve_once(Reply::Trickled);
    let output = run("ch05_peek", &[&addr.to_string(), "hi"]);
    server.join().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    // The reply frames, 00 00 00 02 H I and 00 00 00 03 b y e, in order, however they were cut.
    let hex: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(": ")?.1.split_once("  |").map(|(h, _)| h))
        .flat_map(str::split_whitespace)
        .collect();
    assert_eq!(
        hex,
        [
            "00", "00", "00", "02", "48", "49", "00", "00", "00", "03", "62", "79", "65"
        ],
        "{text}"
    );
    assert!(text.ends_with("end of stream\n"), "{text}");
}
