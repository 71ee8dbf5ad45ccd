//! The TCP line server, on real sockets on port 0.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use socket2::SockRef;
use support::journal::Stamped;
use support::running::Running;
use support::sock_diag::SockDiag;
use support::tcp_server::{Pace, TcpEvent, TcpFault, TcpLineServer, TcpOptions};

const DEADLINE: Duration = Duration::from_secs(5);

fn start(addr: &str, options: TcpOptions) -> Running<TcpEvent> {
    TcpLineServer::bind(addr.parse().unwrap(), options)
        .and_then(TcpLineServer::spawn)
        .unwrap()
}

fn with_faults(faults: Vec<TcpFault>) -> TcpOptions {
    TcpOptions {
        faults,
        ..TcpOptions::uppercase(None)
    }
}

/// A connected client whose reads give up after the deadline instead of hanging the test.
fn connect(server: &Running<TcpEvent>) -> TcpStream {
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream
}

fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    stream
        .read_to_end(&mut all)
        .expect("the server closes in time");
    all
}

/// Reads until `want` bytes have come.
fn read_n(stream: &mut TcpStream, want: usize) -> Vec<u8> {
    let mut got = vec![0u8; want];
    stream.read_exact(&mut got).expect("enough bytes in time");
    got
}

/// Sends all lines, half-closes, and returns everything the server sent until it closed.
fn conversation(server: &Running<TcpEvent>, input: &[u8]) -> Vec<u8> {
    let mut stream = connect(server);
    stream.write_all(input).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    read_to_end(&mut stream)
}

fn events(server: &Running<TcpEvent>) -> Vec<TcpEvent> {
    server
        .journal()
        .snapshot()
        .into_iter()
        .map(|s| s.event)
        .collect()
}

fn wait_for(server: &Running<TcpEvent>, done: impl FnMut(&[Stamped<TcpEvent>]) -> bool) {
    assert!(
        server.journal().wait_until(Instant::now() + DEADLINE, done),
        "timed out; journal: {:?}",
        events(server)
    );
}

fn has(event: TcpEvent) -> impl FnMut(&[Stamped<TcpEvent>]) -> bool {
    move |events| events.iter().any(|e| e.event == event)
}

#[test]
fn replies_per_line_then_farewell_after_the_half_close() {
    let server = start("127.0.0.1:0", TcpOptions::uppercase(Some("demo".into())));
    let mut stream = connect(&server);
    let me = stream.local_addr().unwrap();
    stream.write_all(b"hello\n").unwrap();
    assert_eq!(read_n(&mut stream, 11), b"demo HELLO\n");
    // A last line without '\n' is still a line.
    stream.write_all(b"wor").unwrap();
    stream.write_all(b"ld").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        read_to_end(&mut stream),
        b"demo WORLD\nreceived 2 lines\nbye\n"
    );
    wait_for(&server, has(TcpEvent::Closed { conn: 1 }));
    let sent = |s: &str| TcpEvent::Sent {
        conn: 1,
        bytes: s.as_bytes().to_vec(),
    };
    assert_eq!(
        events(&server),
        vec![
            TcpEvent::Accepted { conn: 1, peer: me },
            TcpEvent::Received {
                conn: 1,
                line: b"hello".to_vec()
            },
            sent("demo HELLO\n"),
            TcpEvent::PeerHalfClosed { conn: 1 },
            TcpEvent::Received {
                conn: 1,
                line: b"world".to_vec()
            },
            sent("demo WORLD\n"),
            sent("received 2 lines\n"),
            sent("bye\n"),
            TcpEvent::Closed { conn: 1 },
        ]
    );
}

#[test]
fn conn_ids_count_connections_and_seq_counts_lines() {
    let options = TcpOptions {
        replies: Arc::new(|r| format!("{}.{}", r.conn, r.seq).into_bytes()),
        farewell: Arc::new(|f| vec![format!("{} {}", f.conn, f.lines_received).into_bytes()]),
        ..TcpOptions::uppercase(None)
    };
    let server = start("[::1]:0", options);
    assert_eq!(conversation(&server, b"a\nb\n"), b"1.1\n1.2\n1 2\n");
    assert_eq!(conversation(&server, b"c\n"), b"2.1\n2 1\n");
}

#[test]
fn trickle_peer_drained_makes_every_read_a_single_byte() {
    let server = start(
        "127.0.0.1:0",
        with_faults(vec![TcpFault::Trickle(Pace::PeerDrained {
            at_most: Duration::from_secs(2),
        })]),
    );
    let mut stream = connect(&server);
    stream.write_all(b"one\ntwo\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut reads = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        reads.push(buf[..n].to_vec());
    }
    let all: Vec<u8> = reads.concat();
    assert_eq!(all, b"ONE\nTWO\nreceived 2 lines\nbye\n");
    assert!(
        reads.iter().all(|r| r.len() == 1),
        "reads: {:?}",
        reads
            .iter()
            .map(|r| String::from_utf8_lossy(r))
            .collect::<Vec<_>>()
    );
    // The journal still has one record per line, however it was written.
    wait_for(&server, has(TcpEvent::Closed { conn: 1 }));
    let sent = events(&server)
        .into_iter()
        .filter(|e| matches!(e, TcpEvent::Sent { .. }))
        .count();
    assert_eq!(sent, 4);
}

#[test]
fn trickle_every_keeps_the_bytes_in_order() {
    let server = start(
        "127.0.0.1:0",
        with_faults(vec![TcpFault::Trickle(Pace::Every(Duration::from_millis(
            1,
        )))]),
    );
    assert_eq!(
        conversation(&server, b"slow\n"),
        b"SLOW\nreceived 1 line\nbye\n"
    );
}

#[test]
fn close_before_reply_closes_cleanly_without_a_word() {
    let server = start("127.0.0.1:0", with_faults(vec![TcpFault::CloseBeforeReply]));
    let mut stream = connect(&server);
    stream.write_all(b"first\n").unwrap();
    // End of stream (FIN), not a reset, and not one byte of reply.
    assert_eq!(read_to_end(&mut stream), b"");
    // The server discards what still comes, so later lines do not turn the close into a reset.
    stream.write_all(b"second\n").unwrap();
    drop(stream);
    wait_for(&server, has(TcpEvent::Closed { conn: 1 }));
    let events = events(&server);
    assert!(!events.iter().any(|e| matches!(e, TcpEvent::Sent { .. })));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, TcpEvent::Received { .. }))
            .count(),
        1
    );
}

#[test]
fn survives_garbage_and_oversized_lines_and_keeps_serving_that_client() {
    let options = TcpOptions {
        max_line: 10,
        ..TcpOptions::uppercase(None)
    };
    let server = start("127.0.0.1:0", options);
    let mut stream = connect(&server);
    stream.write_all(b"\xff\x00abc\xc3\n").unwrap();
    assert_eq!(read_n(&mut stream, 7), b"\xff\x00ABC\xc3\n");
    // Too long, in several writes: the error comes as soon as the line passes the limit.
    stream.write_all(b"0123456789").unwrap();
    stream.write_all(b"0123456789").unwrap();
    let error = b"error: line longer than 10 bytes\n";
    assert_eq!(read_n(&mut stream, error.len()), error);
    stream.write_all(b"rest of the long line\nok\n").unwrap();
    assert_eq!(read_n(&mut stream, 3), b"OK\n");
    // Too long and complete in one write.
    stream.write_all(b"abcdefghijklmnop\nfine\n").unwrap();
    assert_eq!(read_n(&mut stream, error.len()), error);
    assert_eq!(read_n(&mut stream, 5), b"FINE\n");
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut stream), b"received 3 lines\nbye\n");
    wait_for(&server, has(TcpEvent::Closed { conn: 1 }));
    let oversized = events(&server)
        .into_iter()
        .filter(|e| matches!(e, TcpEvent::Oversized { .. }))
        .count();
    assert_eq!(oversized, 2);
}

#[test]
fn a_reset_client_is_forgotten_and_new_clients_are_served() {
    let server = start("127.0.0.1:0", TcpOptions::uppercase(None));
    let mut stream = connect(&server);
    stream.write_all(b"hi\nhalf a li").unwrap();
    assert_eq!(read_n(&mut stream, 3), b"HI\n");
    // SO_LINGER 0, then close: the kernel sends RST instead of FIN.
    SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
    wait_for(&server, has(TcpEvent::Closed { conn: 1 }));
    let events = events(&server);
    assert!(
        events.contains(&TcpEvent::PeerReset { conn: 1 }),
        "{events:?}"
    );
    assert!(!events.contains(&TcpEvent::PeerHalfClosed { conn: 1 }));
    assert_eq!(
        conversation(&server, b"next\n"),
        b"NEXT\nreceived 1 line\nbye\n"
    );
}

#[test]
fn a_client_that_never_reads_blocks_no_one_and_stopping_is_still_prompt() {
    let server = start("127.0.0.1:0", TcpOptions::uppercase(None));
    let stalled = connect(&server);
    // Flood the server with lines and never read the replies: once the buffers between fill
    // up, the server's write to this client blocks.
    let writer = {
        let mut stalled = stalled.try_clone().unwrap();
        thread::spawn(move || {
            let line = [b"x".repeat(999), b"\n".to_vec()].concat();
            for _ in 0..32_000 {
                if stalled.write_all(&line).is_err() {
                    return;
                }
            }
        })
    };
    // Wait until the server's side holds replies the client has not taken and requests it has
    // not read: it is stuck in `write`. The kernel sends no event for that, so this looks again
    // every millisecond, up to the deadline.
    let diag = SockDiag::new().unwrap();
    let (theirs, ours) = (stalled.peer_addr().unwrap(), stalled.local_addr().unwrap());
    let deadline = Instant::now() + DEADLINE;
    loop {
        let q = diag
            .lookup(theirs, ours)
            .unwrap()
            .expect("the server's socket");
        if q.tx_queue > 1 << 20 && q.rx_queue > 1 << 14 {
            break;
        }
        assert!(Instant::now() < deadline, "the server never blocked: {q:?}");
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        conversation(&server, b"me too\n"),
        b"ME TOO\nreceived 1 line\nbye\n"
    );
    let started = Instant::now();
    server.stop();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopping took {:?}",
        started.elapsed()
    );
    // Stopping closed the server's end, so the flooding writer fails (or finishes) and ends.
    let _ = stalled.shutdown(Shutdown::Both);
    writer.join().unwrap();
}

#[test]
fn stopping_is_prompt_with_a_stalled_client_connected() {
    let server = start(
        "127.0.0.1:0",
        with_faults(vec![TcpFault::Trickle(Pace::Every(Duration::from_secs(
            60,
        )))]),
    );
    // One client stalls mid-line (the server blocks in read), one mid-reply (in a long pause).
    let mut mid_line = connect(&server);
    mid_line.write_all(b"no newline yet").unwrap();
    let mut mid_reply = connect(&server);
    mid_reply.write_all(b"hello\n").unwrap();
    assert_eq!(read_n(&mut mid_reply, 1), b"H");
    wait_for(&server, |e| {
        e.iter()
            .filter(|e| matches!(e.event, TcpEvent::Accepted { .. }))
            .count()
            == 2
    });
    let journal = server.journal().clone();
    let addr: SocketAddr = server.local_addr();
    let started = Instant::now();
    server.stop();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopping took {:?}",
        started.elapsed()
    );
    let closed = journal
        .snapshot()
        .iter()
        .filter(|e| matches!(e.event, TcpEvent::Closed { .. }))
        .count();
    assert_eq!(closed, 2, "every connection closed");
    // Both clients see the end of the stream, and the port is free again.
    assert_eq!(read_to_end(&mut mid_line), b"");
    assert!(TcpStream::connect(addr).is_err());
}

/// `--dual-stack`: one listener, `[::]` with IPV6_V6ONLY off, accepts an IPv4 client and an IPv6
/// client alike; the IPv4 one is accepted as a mapped address (`::ffff:127.0.0.1`).
#[test]
fn dual_stack_accepts_ipv4_and_ipv6_on_one_listener() {
    let server = TcpLineServer::bind_dual_stack(0, TcpOptions::uppercase(None))
        .and_then(TcpLineServer::spawn)
        .unwrap();
    let port = server.local_addr().port();
    assert_eq!(server.local_addr().to_string(), format!("[::]:{port}"));
    let mut clients = Vec::new();
    for ip in ["127.0.0.1", "::1"] {
        let mut stream = TcpStream::connect((ip, port)).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.write_all(b"hi\n").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&mut stream), b"HI\nreceived 1 line\nbye\n");
        clients.push(stream.local_addr().unwrap());
    }
    let peers: Vec<SocketAddr> = server
        .journal()
        .snapshot()
        .into_iter()
        .filter_map(|Stamped { event, .. }| match event {
            TcpEvent::Accepted { peer, .. } => Some(peer),
            _ => None,
        })
        .collect();
    let mapped = format!("[::ffff:127.0.0.1]:{}", clients[0].port());
    assert_eq!(peers, vec![mapped.parse().unwrap(), clients[1]]);
}
