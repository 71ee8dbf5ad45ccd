//! The UDP reference server, on real sockets on port 0.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::journal::Stamped;
use support::running::Running;
use support::udp_server::{UdpEvent, UdpFault, UdpOptions, UdpServer};

const DEADLINE: Duration = Duration::from_secs(5);

fn start(addr: &str, options: UdpOptions) -> Running<UdpEvent> {
    UdpServer::bind(addr.parse().unwrap(), options)
        .and_then(UdpServer::spawn)
        .unwrap()
}

fn with_faults(faults: Vec<UdpFault>) -> UdpOptions {
    UdpOptions {
        faults,
        ..UdpOptions::uppercase(None)
    }
}

/// A client socket whose reads give up after the deadline instead of hanging the test.
fn client(server: &Running<UdpEvent>) -> UdpSocket {
    let ip = server.local_addr().ip();
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    socket
}

fn recv(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 65536];
    let (n, from) = socket.recv_from(&mut buf).expect("a datagram in time");
    (buf[..n].to_vec(), from)
}

fn events(server: &Running<UdpEvent>) -> Vec<UdpEvent> {
    server
        .journal()
        .snapshot()
        .into_iter()
        .map(|s| s.event)
        .collect()
}

fn wait_for(server: &Running<UdpEvent>, done: impl FnMut(&[Stamped<UdpEvent>]) -> bool) {
    assert!(
        server.journal().wait_until(Instant::now() + DEADLINE, done),
        "timed out; journal: {:?}",
        events(server)
    );
}

#[test]
fn replies_in_capitals_with_the_tag_and_journals_both_ways() {
    let server = start("127.0.0.1:0", UdpOptions::uppercase(Some("demo".into())));
    let socket = client(&server);
    let me = socket.local_addr().unwrap();
    socket.send_to(b"hello", server.local_addr()).unwrap();
    assert_eq!(recv(&socket), (b"demo HELLO".to_vec(), server.local_addr()));
    wait_for(&server, |e| e.len() == 2);
    assert_eq!(
        events(&server),
        vec![
            UdpEvent::Received {
                from: me,
                payload: b"hello".to_vec()
            },
            UdpEvent::Replied {
                to: me,
                payload: b"demo HELLO".to_vec()
            },
        ]
    );
}

#[test]
fn seq_counts_answers_per_peer_and_any_bytes_work() {
    let options = UdpOptions {
        replies: Arc::new(|r| {
            let mut reply = format!("{} ", r.seq).into_bytes();
            reply.extend_from_slice(r.payload);
            reply
        }),
        ..UdpOptions::uppercase(None)
    };
    let server = start("127.0.0.1:0", options);
    let (a, b) = (client(&server), client(&server));
    let garbage = [0xff, 0x00, b'\n', 0xc3];
    a.send_to(&garbage, server.local_addr()).unwrap();
    assert_eq!(recv(&a).0, [b"1 ".as_slice(), &garbage].concat());
    a.send_to(b"x", server.local_addr()).unwrap();
    assert_eq!(recv(&a).0, b"2 x");
    b.send_to(b"y", server.local_addr()).unwrap();
    assert_eq!(recv(&b).0, b"1 y");
    // The largest datagrams fit whole, both ways.
    let big = vec![b'z'; 65000];
    a.send_to(&big, server.local_addr()).unwrap();
    assert_eq!(recv(&a).0.len(), 65000 + 2);
}

#[test]
fn drop_first_copy_drops_exactly_the_first_copy() {
    let server = start(
        "127.0.0.1:0",
        with_faults(vec![UdpFault::DropFirstCopy { only: None }]),
    );
    let socket = client(&server);
    let me = socket.local_addr().unwrap();
    socket.send_to(b"one", server.local_addr()).unwrap();
    wait_for(&server, |e| {
        e.iter()
            .any(|s| matches!(s.event, UdpEvent::Dropped { .. }))
    });
    socket.send_to(b"one", server.local_addr()).unwrap();
    assert_eq!(recv(&socket).0, b"ONE");
    socket.send_to(b"one", server.local_addr()).unwrap();
    assert_eq!(
        recv(&socket).0,
        b"ONE",
        "only the very first copy is dropped"
    );
    let received = |payload: &[u8]| UdpEvent::Received {
        from: me,
        payload: payload.to_vec(),
    };
    let replied = UdpEvent::Replied {
        to: me,
        payload: b"ONE".to_vec(),
    };
    wait_for(&server, |e| e.len() == 6);
    assert_eq!(
        events(&server),
        vec![
            received(b"one"),
            UdpEvent::Dropped {
                from: me,
                payload: b"one".to_vec()
            },
            received(b"one"),
            replied.clone(),
            received(b"one"),
            replied,
        ]
    );
}

#[test]
fn drop_first_copy_can_target_one_payload() {
    let server = start(
        "127.0.0.1:0",
        with_faults(vec![UdpFault::DropFirstCopy {
            only: Some(b"lost".to_vec()),
        }]),
    );
    let socket = client(&server);
    socket.send_to(b"kept", server.local_addr()).unwrap();
    assert_eq!(recv(&socket).0, b"KEPT");
    socket.send_to(b"lost", server.local_addr()).unwrap();
    wait_for(&server, |e| {
        e.iter()
            .any(|s| matches!(s.event, UdpEvent::Dropped { .. }))
    });
    socket.send_to(b"lost", server.local_addr()).unwrap();
    assert_eq!(recv(&socket).0, b"LOST");
}

#[test]
fn stranger_sends_a_decoy_from_another_port_before_the_reply() {
    let server = start("127.0.0.1:0", with_faults(vec![UdpFault::Stranger]));
    let socket = client(&server);
    socket.send_to(b"hi", server.local_addr()).unwrap();
    let (decoy, decoy_from) = recv(&socket);
    let (reply, reply_from) = recv(&socket);
    assert_eq!(reply, b"HI");
    assert_eq!(reply_from, server.local_addr());
    assert_eq!(decoy_from.ip(), server.local_addr().ip());
    assert_ne!(decoy_from.port(), server.local_addr().port());
    assert_ne!(decoy, reply);
    wait_for(&server, |e| e.len() == 3);
    let events = events(&server);
    assert!(matches!(&events[1], UdpEvent::StrangerSent { from, .. } if *from == decoy_from));
    assert!(matches!(&events[2], UdpEvent::Replied { .. }));
}

#[test]
fn silent_receives_and_never_replies() {
    let server = start("[::1]:0", with_faults(vec![UdpFault::Silent]));
    let socket = client(&server);
    for _ in 0..2 {
        socket.send_to(b"anyone?", server.local_addr()).unwrap();
    }
    wait_for(&server, |e| e.len() == 4);
    assert!(
        !events(&server)
            .iter()
            .any(|e| matches!(e, UdpEvent::Replied { .. }))
    );
    // Stopped (by drop) while waiting for datagrams: must return promptly.
}

#[test]
fn survives_a_port_unreachable_error_and_keeps_serving() {
    // The reply to "slow" waits until the test has closed the client's socket, so the reply
    // hits a closed port: the kernel answers with ICMP, and the server's next recv fails.
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let options = UdpOptions {
        replies: Arc::new(move |r| {
            if r.payload == b"slow" {
                let _ = released.lock().unwrap().recv_timeout(DEADLINE);
            }
            r.payload.to_ascii_uppercase()
        }),
        ..UdpOptions::uppercase(None)
    };
    let server = start("127.0.0.1:0", options);
    let gone = client(&server);
    gone.send_to(b"slow", server.local_addr()).unwrap();
    wait_for(&server, |e| !e.is_empty());
    drop(gone);
    release.send(()).unwrap();
    wait_for(&server, |e| e.len() == 2);
    let socket = client(&server);
    socket
        .send_to(b"still there?", server.local_addr())
        .unwrap();
    assert_eq!(recv(&socket).0, b"STILL THERE?");
}

#[test]
fn stopping_is_prompt() {
    let server = start("127.0.0.1:0", UdpOptions::uppercase(None));
    let addr = server.local_addr();
    let started = Instant::now();
    server.stop();
    assert!(started.elapsed() < Duration::from_secs(1));
    // The port is free again: the socket was closed.
    UdpSocket::bind(addr).unwrap();
}

/// `--dual-stack`: one socket, `[::]` with IPV6_V6ONLY off, answers an IPv4 client and an IPv6
/// client alike; the IPv4 one shows up mapped (`::ffff:127.0.0.1`) in the journal, and its reply
/// comes back to it from plain `127.0.0.1`.
#[test]
fn dual_stack_answers_ipv4_and_ipv6_on_one_socket() {
    let server = UdpServer::bind_dual_stack(0, UdpOptions::uppercase(None))
        .and_then(UdpServer::spawn)
        .unwrap();
    let port = server.local_addr().port();
    assert_eq!(server.local_addr().to_string(), format!("[::]:{port}"));
    let mut senders = Vec::new();
    for (ip, payload) in [("127.0.0.1", &b"four"[..]), ("::1", &b"six"[..])] {
        let socket = UdpSocket::bind((ip, 0)).unwrap();
        socket.set_read_timeout(Some(DEADLINE)).unwrap();
        socket.send_to(payload, (ip, port)).unwrap();
        let (reply, from) = recv(&socket);
        assert_eq!(reply, payload.to_ascii_uppercase());
        // The reply comes from the address the client sent to, in the client's own family.
        assert_eq!(from, SocketAddr::new(ip.parse().unwrap(), port));
        senders.push(socket.local_addr().unwrap());
    }
    let seen: Vec<SocketAddr> = server
        .journal()
        .snapshot()
        .into_iter()
        .filter_map(|Stamped { event, .. }| match event {
            UdpEvent::Received { from, .. } => Some(from),
            _ => None,
        })
        .collect();
    let v4 = senders[0];
    let mapped = format!("[::ffff:127.0.0.1]:{}", v4.port());
    assert_eq!(seen, vec![mapped.parse().unwrap(), senders[1]]);
    assert_eq!(support::dual_stack::canonical(seen[0]), v4);
}
