//! The hold faults of the TCP line server and the UDP server: a reply waits at a gate until the
//! test opens it, journaled as `Holding` first; stopping the server opens every gate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::journal::Stamped;
use support::running::Running;
use support::tcp_server::{TcpEvent, TcpFault, TcpLineServer, TcpOptions};
use support::udp_server::{UdpEvent, UdpFault, UdpOptions, UdpServer};

const DEADLINE: Duration = Duration::from_secs(5);

fn tcp_server(faults: Vec<TcpFault>) -> Running<TcpEvent> {
    let options = TcpOptions {
        faults,
        ..TcpOptions::uppercase(None)
    };
    TcpLineServer::bind("127.0.0.1:0".parse().unwrap(), options)
        .and_then(TcpLineServer::spawn)
        .unwrap()
}

fn udp_server(faults: Vec<UdpFault>) -> Running<UdpEvent> {
    let options = UdpOptions {
        faults,
        ..UdpOptions::uppercase(None)
    };
    UdpServer::bind("127.0.0.1:0".parse().unwrap(), options)
        .and_then(UdpServer::spawn)
        .unwrap()
}

fn wait_for<E: Clone + std::fmt::Debug>(
    server: &Running<E>,
    done: impl FnMut(&[Stamped<E>]) -> bool,
) {
    assert!(
        server.journal().wait_until(Instant::now() + DEADLINE, done),
        "timed out; journal: {:?}",
        server.journal().snapshot()
    );
}

fn tcp_sent(server: &Running<TcpEvent>) -> Vec<Vec<u8>> {
    server
        .journal()
        .snapshot()
        .into_iter()
        .filter_map(|s| match s.event {
            TcpEvent::Sent { bytes, .. } => Some(bytes),
            _ => None,
        })
        .collect()
}

#[test]
fn tcp_holds_the_reply_to_one_line_until_the_gate_opens() {
    let gate = Gate::new();
    let server = tcp_server(vec![TcpFault::Hold {
        seq: 2,
        gate: gate.clone(),
    }]);
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut replies = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    stream.write_all(b"one\ntwo\nthree\n").unwrap();
    replies.read_line(&mut line).unwrap();
    assert_eq!(line, "ONE\n");
    wait_for(&server, |events| {
        events
            .iter()
            .any(|e| matches!(e.event, TcpEvent::Holding { conn: 1, seq: 2 }))
    });
    // Held: nothing but the first reply has been sent, and line 3 waits behind line 2.
    assert_eq!(tcp_sent(&server), [b"ONE\n".to_vec()]);
    gate.open();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut rest = String::new();
    replies.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "TWO\nTHREE\nreceived 3 lines\nbye\n");
    let events: Vec<TcpEvent> = server
        .journal()
        .snapshot()
        .into_iter()
        .map(|s| s.event)
        .collect();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, TcpEvent::PeerReset { .. }))
    );
}

#[test]
fn tcp_stopping_opens_the_gate() {
    let server = tcp_server(vec![TcpFault::Hold {
        seq: 1,
        gate: Gate::new(),
    }]);
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.write_all(b"one\n").unwrap();
    wait_for(&server, |events| {
        events
            .iter()
            .any(|e| matches!(e.event, TcpEvent::Holding { .. }))
    });
    let started = Instant::now();
    server.stop();
    // The gate's own limit is 20 s: a stop that waited for it would show here.
    assert!(started.elapsed() < DEADLINE, "stop waited for the gate");
}

#[test]
fn udp_holds_a_reply_and_ignores_resent_copies_of_it() {
    let gate = Gate::new();
    let server = udp_server(vec![UdpFault::Hold {
        seq: 2,
        gate: gate.clone(),
    }]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    let to: SocketAddr = server.local_addr();
    let mut buf = vec![0u8; 65536];
    socket.send_to(b"a", to).unwrap();
    let recv = |buf: &mut Vec<u8>| {
        let (n, _) = socket.recv_from(buf).expect("a reply in time");
        buf[..n].to_vec()
    };
    assert_eq!(recv(&mut buf), b"A");
    socket.send_to(b"b", to).unwrap();
    wait_for(&server, |events| {
        events
            .iter()
            .any(|e| matches!(e.event, UdpEvent::Holding { seq: 2, .. }))
    });
    // A client that gave up waiting sends the same datagram again while the reply is held.
    socket.send_to(b"b", to).unwrap();
    gate.open();
    assert_eq!(recv(&mut buf), b"B");
    socket.send_to(b"c", to).unwrap();
    // The copy got no reply of its own: the next datagram is the answer to "c".
    assert_eq!(recv(&mut buf), b"C");
    let events: Vec<UdpEvent> = server
        .journal()
        .snapshot()
        .into_iter()
        .map(|s| s.event)
        .collect();
    let me = socket.local_addr().unwrap();
    assert!(events.contains(&UdpEvent::Dropped {
        from: me,
        payload: b"b".to_vec()
    }));
    let replies = events
        .iter()
        .filter(|e| matches!(e, UdpEvent::Replied { .. }))
        .count();
    assert_eq!(replies, 3);
}

#[test]
fn udp_stopping_opens_the_gate() {
    let server = udp_server(vec![UdpFault::Hold {
        seq: 1,
        gate: Gate::new(),
    }]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.send_to(b"a", server.local_addr()).unwrap();
    wait_for(&server, |events| {
        events
            .iter()
            .any(|e| matches!(e.event, UdpEvent::Holding { .. }))
    });
    let started = Instant::now();
    server.stop();
    assert!(started.elapsed() < DEADLINE, "stop waited for the gate");
}
