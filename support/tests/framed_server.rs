//! The framed server, on real sockets on port 0: each fault does what it says.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use support::framed::{self, Frame, MAX_FRAME};
use support::framed_server::{FrameFault, FramedOptions, FramedServer, OVER_LIMIT};
use support::running::Running;

fn start(faults: Vec<FrameFault>) -> Running<support::framed_server::FrameEvent> {
    let options = FramedOptions {
        faults,
        ..FramedOptions::uppercase()
    };
    FramedServer::bind("127.0.0.1:0".parse().unwrap(), options)
        .and_then(FramedServer::spawn)
        .unwrap()
}

/// Sends two frames, half-closes, and reads every frame until the end.
fn converse(server: &Running<support::framed_server::FrameEvent>) -> Vec<Frame> {
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    // A deadline on reads, so a broken server fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut frames = Vec::new();
    for payload in [&b"hello"[..], b"again"] {
        stream.write_all(&framed::encode(payload)).unwrap();
        let frame = framed::read_frame(&mut stream, MAX_FRAME).unwrap();
        let whole = matches!(frame, Frame::Whole(_));
        frames.push(frame);
        if !whole {
            return frames;
        }
    }
    stream.shutdown(Shutdown::Write).unwrap();
    loop {
        let frame = framed::read_frame(&mut stream, MAX_FRAME).unwrap();
        let end = frame == Frame::End;
        frames.push(frame);
        if end {
            return frames;
        }
    }
}

fn whole(payload: &str) -> Frame {
    Frame::Whole(payload.as_bytes().to_vec())
}

#[test]
fn every_fault_that_keeps_frames_whole_gives_the_same_frames() {
    let expected = vec![
        whole("HELLO"),
        whole("AGAIN"),
        whole("received 2 frames"),
        whole("bye"),
        Frame::End,
    ];
    for faults in [
        vec![],
        vec![FrameFault::Trickle],
        vec![FrameFault::Slice { seed: 42 }],
        vec![FrameFault::Coalesce],
    ] {
        let server = start(faults.clone());
        assert_eq!(converse(&server), expected, "with {faults:?}");
    }
}

#[test]
fn large_pads_the_first_reply() {
    let server = start(vec![FrameFault::Large { bytes: 2 << 20 }]);
    let frames = converse(&server);
    let Frame::Whole(first) = &frames[0] else {
        panic!("{:?}", frames[0]);
    };
    assert_eq!(first.len(), 2 << 20);
    assert!(first.starts_with(b"HELLO "));
}

#[test]
fn close_mid_frame_and_over_limit_break_the_first_reply() {
    let server = start(vec![FrameFault::CloseMidFrame]);
    assert!(matches!(converse(&server)[..], [Frame::Cut(_)]));
    let server = start(vec![FrameFault::OverLimit]);
    assert_eq!(converse(&server), [Frame::TooLong(OVER_LIMIT as u64)]);
}

#[test]
fn the_program_announces_its_port() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_framed-server"))
        .args(["--port", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Read on a thread of its own, so that the wait for the line has a deadline.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = [0u8; 13];
        let _ = tx.send(stdout.read_exact(&mut first).map(|()| first));
    });
    let first = rx.recv_timeout(Duration::from_secs(10));
    // Killing the server also ends the reading thread, should it still wait.
    let _ = child.kill();
    let _ = child.wait();
    let first = first.expect("the first line in time").unwrap();
    assert_eq!(&first, b"listening on ");
}
