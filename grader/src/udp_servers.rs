//! The grader's UDP servers for a client check: a secret in every reply, one server on each
//! address of a name (all on one port), or one with strangers ([`crate::strangers`]); a server
//! that cannot start is the grader's failure, never the learner's.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use support::running::Running;
use support::udp_server::{UdpEvent, UdpFault, UdpOptions, UdpReplyFn, UdpServer};

use crate::failure::Failure;
use crate::hint::CH_UDP;
use crate::strangers::{Decoys, WithStrangers};
use crate::words;

/// Replies `SECRET.N PAYLOAD-IN-CAPITALS`: readable, and impossible to make up. Two calls make
/// two secrets: the server's, and the strangers' look-alikes.
pub fn secret_replies() -> UdpReplyFn {
    let secret = words::token(6);
    Arc::new(move |request| {
        let mut reply = format!("{secret}.{} ", request.seq).into_bytes();
        reply.extend(request.payload.to_ascii_uppercase());
        reply
    })
}

pub fn setup_failure(message: String) -> Box<Failure> {
    Failure::setup(CH_UDP, message)
}

pub fn start_server(
    bind: SocketAddr,
    replies: UdpReplyFn,
    faults: Vec<UdpFault>,
) -> Result<Running<UdpEvent>, Box<Failure>> {
    let options = UdpOptions {
        replies,
        faults,
        trace: false,
    };
    UdpServer::bind(bind, options)
        .and_then(UdpServer::spawn)
        .map_err(|e| setup_failure(format!("could not start a UDP server on {bind}: {e}")))
}

pub fn start_with_strangers(
    faults: Vec<UdpFault>,
    decoys: Decoys,
) -> Result<WithStrangers, Box<Failure>> {
    WithStrangers::start(secret_replies(), secret_replies(), faults, decoys).map_err(|e| {
        setup_failure(format!(
            "could not start a UDP server on 127.0.0.1 with strangers on 127.0.0.2: {e}"
        ))
    })
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

/// One server on each of `addresses`, all on the same port (tried again while another program
/// holds the port on one of them).
pub fn servers_on_one_port(addresses: &[IpAddr]) -> Result<Vec<Running<UdpEvent>>, Box<Failure>> {
    let replies = secret_replies();
    let mut last = None;
    for _ in 0..20 {
        let first = start_server(SocketAddr::new(addresses[0], 0), replies.clone(), vec![])?;
        let port = first.local_addr().port();
        let mut servers = vec![first];
        for ip in &addresses[1..] {
            match start_server(SocketAddr::new(*ip, port), replies.clone(), vec![]) {
                Ok(server) => servers.push(server),
                Err(failure) => last = Some(failure),
            }
        }
        if servers.len() == addresses.len() {
            return Ok(servers);
        }
    }
    Err(last.unwrap_or_else(|| setup_failure("no common port for localhost's addresses".into())))
}
