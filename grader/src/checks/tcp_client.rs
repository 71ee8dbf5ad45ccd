//! Checks for `tcp_client HOST PORT` (chapter 3).
//!
//! Every check starts a `support` TCP line server in this process. Its replies and its last words
//! (the lines it sends only after the client's end of stream) carry a secret the program cannot
//! guess. Its journal tells, per connection, what it received, what it sent, and how the client
//! ended: an orderly end of stream (a half-close), a reset, or nothing at all. The scenarios that
//! `framed_client` shares are in [`crate::stream_scenarios`]; this file holds the server and the
//! scenarios of lines.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use support::running::Running;
use support::tcp_server::{Pace, TcpEvent, TcpFault, TcpLineServer, TcpOptions};

use crate::exchange::{Protocol, Seen, ServerEvent, ServerSetup};
use crate::failure::{Failure, quote};
use crate::hint::{CH_TCP, Hint};
use crate::manifest::Check;
use crate::program::{FINISH, Subject};
use crate::stream_scenarios as shared;
use crate::words;

pub const CHECKS: &[Check] = &[
    Check {
        name: "plain_exchange",
        run: plain_exchange,
    },
    Check {
        name: "replies_one_byte_at_a_time",
        run: replies_one_byte_at_a_time,
    },
    Check {
        name: "lines_after_the_half_close",
        run: lines_after_the_half_close,
    },
    Check {
        name: "each_line_leaves_at_once",
        run: |s| shared::each_line_leaves_at_once(&LINES, s),
    },
    Check {
        name: "replies_before_the_next_line",
        run: |s| shared::replies_before_the_next_line(&LINES, s),
    },
    Check {
        name: "reply_comes_late",
        run: |s| shared::reply_comes_late(&LINES, s),
    },
    Check {
        name: "server_on_ipv6",
        run: |s| shared::server_on_ipv6(&LINES, s),
    },
    Check {
        name: "server_by_name",
        run: |s| shared::server_by_name(&LINES, s),
    },
    Check {
        name: "server_closes_before_replying",
        run: |s| shared::server_closes_before_replying(&LINES, s),
    },
    Check {
        name: "connection_refused",
        run: |s| shared::connection_refused(&LINES, s),
    },
    Check {
        name: "several_clients_at_once",
        run: |s| shared::several_clients_at_once(&LINES, s, 5),
    },
    Check {
        name: "one_socket_and_no_leak_over_1000_lines",
        run: |s| shared::one_socket_and_no_leak(&LINES, s),
    },
    Check {
        name: "usage_errors",
        run: |s| shared::usage_errors(s, CH_TCP),
    },
];

/// The line protocol, for the shared scenarios.
const LINES: Protocol<TcpEvent> = Protocol {
    chapter: CH_TCP,
    unit: "line",
    request_rule: "each input line with its newline, in order",
    no_whole_request: "the server never received a whole line: the program sent nothing, or sent \
                       its lines without the newline that ends each one",
    one_read: Hint::TcpOneReadOneMessage,
    start: |setup| {
        let holds = setup
            .holds
            .iter()
            .map(|(seq, gate)| TcpFault::Hold {
                seq: *seq,
                gate: gate.clone(),
            })
            .collect();
        start_server(setup, holds)
    },
    particular: |_| None,
};

impl ServerEvent for TcpEvent {
    fn conn(&self) -> u64 {
        match self {
            TcpEvent::Accepted { conn, .. }
            | TcpEvent::Received { conn, .. }
            | TcpEvent::Oversized { conn }
            | TcpEvent::Sent { conn, .. }
            | TcpEvent::Holding { conn, .. }
            | TcpEvent::PeerHalfClosed { conn }
            | TcpEvent::PeerReset { conn }
            | TcpEvent::Closed { conn } => *conn,
        }
    }

    fn seen(&self) -> Seen<'_> {
        match self {
            TcpEvent::Accepted { peer, .. } => Seen::Accepted(*peer),
            TcpEvent::Received { line, .. } => Seen::Received(line),
            // One record per line, with its newline.
            TcpEvent::Sent { bytes, .. } => Seen::Sent(bytes.strip_suffix(b"\n").unwrap_or(bytes)),
            TcpEvent::Holding { seq, .. } => Seen::Holding(*seq),
            TcpEvent::PeerHalfClosed { .. } => Seen::EndOfStream,
            TcpEvent::PeerReset { .. } => Seen::Reset,
            TcpEvent::Closed { .. } => Seen::Closed,
            TcpEvent::Oversized { .. } => Seen::Other,
        }
    }

    fn shown(&self) -> String {
        match self {
            TcpEvent::Accepted { peer, .. } => format!("accepted a connection from {peer}"),
            TcpEvent::Received { line, .. } => format!("got line {}", quote(line)),
            TcpEvent::Oversized { .. } => "got a line too long to keep".to_string(),
            TcpEvent::Sent { bytes, .. } => format!("sent {}", quote(bytes)),
            TcpEvent::Holding { seq, .. } => format!("holds its reply to line {seq} back"),
            TcpEvent::PeerHalfClosed { .. } => {
                "read end of stream: the program half-closed (or closed)".to_string()
            }
            TcpEvent::PeerReset { .. } => "the connection was reset".to_string(),
            TcpEvent::Closed { .. } => "closed the connection".to_string(),
        }
    }
}

/// The trickled conversation takes well under a second on an idle machine, but each of its
/// bytes waits for the program to be scheduled: give a loaded machine room.
const TRICKLE_FINISH: Duration = Duration::from_secs(20);

/// A server on `setup.bind` that replies `SECRET.N LINE-IN-CAPITALS` and, after the client's end
/// of stream, `setup.farewell` last lines that carry the secret and the number of lines received.
fn start_server(
    setup: &ServerSetup<'_>,
    faults: Vec<TcpFault>,
) -> Result<Running<TcpEvent>, Box<Failure>> {
    let secret = words::token(6);
    let last_secret = secret.clone();
    let last_lines = setup.farewell;
    let options = TcpOptions {
        replies: Arc::new(move |request| {
            let mut reply = format!("{secret}.{} ", request.seq).into_bytes();
            reply.extend(request.line.to_ascii_uppercase());
            reply
        }),
        farewell: Arc::new(move |farewell| {
            (1..=last_lines)
                .map(|i| {
                    format!(
                        "{last_secret} last words, line {i} of {last_lines}: you sent {} lines",
                        farewell.lines_received
                    )
                    .into_bytes()
                })
                .collect()
        }),
        faults,
        max_line: 65536,
        trace: false,
    };
    let addr: SocketAddr = setup.bind.parse().expect("a literal address");
    TcpLineServer::bind(addr, options)
        .and_then(TcpLineServer::spawn)
        .map_err(|e| {
            Failure::setup(
                CH_TCP,
                format!(
                    "could not start the reference TCP server on {}: {e}",
                    setup.bind
                ),
            )
        })
}

/// A server with `faults` and `farewell` last lines; one client with `lines` lines.
fn exchange(
    subject: &Subject,
    scenario: &str,
    (lines, farewell): (usize, usize),
    faults: Vec<TcpFault>,
    finish: Duration,
) -> Result<(), Box<Failure>> {
    let setup = ServerSetup {
        bind: "127.0.0.1:0",
        farewell,
        holds: Vec::new(),
    };
    let server = start_server(&setup, faults)?;
    shared::converse(
        &LINES,
        subject,
        scenario,
        server,
        ("127.0.0.1", lines),
        finish,
    )
}

fn plain_exchange(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "a TCP line server on 127.0.0.1 answers each line with one line, and sends 2 more after \
         the program's end of stream; the program sends 3 lines",
        (3, 2),
        vec![],
        FINISH,
    )
}

fn replies_one_byte_at_a_time(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "the server sends every reply one byte per write, and waits until the program has read \
         each byte before it sends the next",
        // Short replies: every byte is a round trip between two processes, which a loaded
        // machine can stretch to many milliseconds.
        (3, 1),
        vec![TcpFault::Trickle(Pace::PeerDrained {
            at_most: Duration::from_millis(50),
        })],
        TRICKLE_FINISH,
    )
}

fn lines_after_the_half_close(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "the server sends 5 lines only after it has read the program's end of stream; the \
         program sends 1 line",
        (1, 5),
        vec![],
        FINISH,
    )
}
