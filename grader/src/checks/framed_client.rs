//! Checks for `framed_client HOST PORT` (chapter 5).
//!
//! Every check starts a `support` framed server in this process, with one fault switched on. Its
//! replies carry a secret, so a program cannot print them without receiving them; its journal
//! says which frames it received and sent, whether the client broke a frame, and how the client
//! ended. The scenarios that `tcp_client` shares are in [`crate::stream_scenarios`]; this file
//! holds the server and the scenarios of frames: pieces, glue, size, and broken frames.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use support::framed_server::{FrameEvent, FrameFault, FramedOptions, FramedServer, OVER_LIMIT};
use support::running::Running;

use crate::exchange::{Conversation, Diagnosis, Protocol, Seen, ServerEvent, Symptom, settled};
use crate::failure::{Failure, quote, quote_lines};
use crate::hint::{CH_FRAMING, Hint};
use crate::manifest::Check;
use crate::program::{FINISH, Input, Subject};
use crate::stream_scenarios::{self as shared, run_client};
use crate::words;

pub const CHECKS: &[Check] = &[
    Check {
        name: "plain_exchange",
        run: plain_exchange,
    },
    Check {
        name: "frames_one_byte_at_a_time",
        run: frames_one_byte_at_a_time,
    },
    Check {
        name: "frames_sliced_at_random",
        run: frames_sliced_at_random,
    },
    Check {
        name: "frames_glued_together",
        run: frames_glued_together,
    },
    Check {
        name: "a_large_frame",
        run: a_large_frame,
    },
    Check {
        name: "each_frame_leaves_at_once",
        run: |s| shared::each_line_leaves_at_once(&FRAMES, s),
    },
    Check {
        name: "replies_before_the_next_line",
        run: |s| shared::replies_before_the_next_line(&FRAMES, s),
    },
    Check {
        name: "reply_comes_late",
        run: |s| shared::reply_comes_late(&FRAMES, s),
    },
    Check {
        name: "server_on_ipv6",
        run: |s| shared::server_on_ipv6(&FRAMES, s),
    },
    Check {
        name: "server_by_name",
        run: |s| shared::server_by_name(&FRAMES, s),
    },
    Check {
        name: "one_socket_and_no_leak_over_1000_lines",
        run: |s| shared::one_socket_and_no_leak(&FRAMES, s),
    },
    Check {
        name: "several_clients_at_once",
        run: |s| shared::several_clients_at_once(&FRAMES, s, 4),
    },
    Check {
        name: "server_closes_before_replying",
        run: |s| shared::server_closes_before_replying(&FRAMES, s),
    },
    Check {
        name: "connection_refused",
        run: |s| shared::connection_refused(&FRAMES, s),
    },
    Check {
        name: "connection_closes_inside_a_frame",
        run: connection_closes_inside_a_frame,
    },
    Check {
        name: "length_over_the_limit",
        run: length_over_the_limit,
    },
    Check {
        name: "usage_errors",
        run: |s| shared::usage_errors(s, CH_FRAMING),
    },
];

/// The framed protocol, for the shared scenarios.
const FRAMES: Protocol<FrameEvent> = Protocol {
    chapter: CH_FRAMING,
    unit: "frame",
    request_rule: "one frame per input line (a 4-byte big-endian length, then the line without \
                   its newline), in order",
    no_whole_request: "the server never received a whole frame: the program sent nothing, or a \
                       header that announced more bytes than followed",
    one_read: Hint::FramedOneReadOneFrame,
    start: |setup| {
        let holds = setup
            .holds
            .iter()
            .map(|(seq, gate)| FrameFault::Hold {
                seq: *seq,
                gate: gate.clone(),
            })
            .collect();
        start_server(setup.bind, setup.farewell, holds)
    },
    particular: framing_mistake,
};

/// A large frame: over 1 MiB, so that it takes many reads and more than one socket buffer.
const LARGE: usize = 1536 * 1024;

impl ServerEvent for FrameEvent {
    fn conn(&self) -> u64 {
        FrameEvent::conn(self)
    }

    fn seen(&self) -> Seen<'_> {
        match self {
            FrameEvent::Accepted { peer, .. } => Seen::Accepted(*peer),
            FrameEvent::Received { payload, .. } => Seen::Received(payload),
            FrameEvent::Sent { payload, .. } => Seen::Sent(payload),
            FrameEvent::Holding { seq, .. } => Seen::Holding(*seq),
            FrameEvent::PeerHalfClosed { .. } => Seen::EndOfStream,
            FrameEvent::PeerReset { .. } => Seen::Reset,
            FrameEvent::Closed { .. } => Seen::Closed,
            FrameEvent::SentBroken { .. } | FrameEvent::PeerBrokeFrame { .. } => Seen::Other,
        }
    }

    fn shown(&self) -> String {
        match self {
            FrameEvent::Accepted { peer, .. } => format!("accepted a connection from {peer}"),
            FrameEvent::Received { payload, .. } => format!("got frame {}", quote(payload)),
            FrameEvent::Sent { payload, .. } => format!("sent frame {}", quote(payload)),
            FrameEvent::SentBroken {
                announced, sent, ..
            } => format!("sent a header announcing {announced} bytes, then only {sent}"),
            FrameEvent::Holding { seq, .. } => format!("holds its reply to frame {seq} back"),
            FrameEvent::PeerHalfClosed { .. } => {
                "read end of stream: the program half-closed (or closed)".into()
            }
            FrameEvent::PeerBrokeFrame { .. } => {
                "read a broken frame: a length that makes no sense, or a frame cut short".into()
            }
            FrameEvent::PeerReset { .. } => "the connection was reset".into(),
            FrameEvent::Closed { .. } => "closed the connection".into(),
        }
    }
}

/// What only a framed client gets wrong about its requests: the length's byte order, and the
/// newline it should have left out.
fn framing_mistake(conversation: &Conversation<'_, FrameEvent>) -> Option<Diagnosis> {
    let received = conversation.received();
    if conversation.any(|e| matches!(e, FrameEvent::PeerBrokeFrame { .. })) && received.is_empty() {
        return Some(Diagnosis::plain(Hint::FramedByteOrder));
    }
    let with_newline: Vec<&Vec<u8>> = received.iter().filter(|p| p.ends_with(b"\n")).collect();
    (!with_newline.is_empty()).then(|| {
        Diagnosis::because(
            Hint::WrongRequests {
                chapter: CH_FRAMING,
            },
            format!(
                "the server received frames that end in a newline ({}): send the line without \
                 its newline, which only ended it on standard input",
                quote_lines(&with_newline)
            ),
        )
    })
}

fn start_server(
    bind: &str,
    farewell: usize,
    faults: Vec<FrameFault>,
) -> Result<Running<FrameEvent>, Box<Failure>> {
    let secret = words::token(6);
    let last_secret = secret.clone();
    let options = FramedOptions {
        replies: Arc::new(move |request| {
            let mut reply = format!("{secret}.{} ", request.seq).into_bytes();
            reply.extend(request.payload.to_ascii_uppercase());
            reply
        }),
        farewell: Arc::new(move |received| {
            (1..=farewell)
                .map(|i| {
                    format!(
                        "{last_secret} last words {i} of {farewell}: you sent {received} frames"
                    )
                    .into_bytes()
                })
                .collect()
        }),
        faults,
        trace: false,
    };
    let addr: SocketAddr = bind.parse().expect("a literal address");
    FramedServer::bind(addr, options)
        .and_then(FramedServer::spawn)
        .map_err(|e| {
            Failure::setup(
                CH_FRAMING,
                format!("could not start the reference framed server on {bind}: {e}"),
            )
        })
}

/// A server with `faults` and `farewell` last frames; one client with `lines` lines.
fn exchange(
    subject: &Subject,
    scenario: &str,
    (lines, farewell): (usize, usize),
    faults: Vec<FrameFault>,
) -> Result<(), Box<Failure>> {
    let server = start_server("127.0.0.1:0", farewell, faults)?;
    let host = ("127.0.0.1", lines);
    shared::converse(&FRAMES, subject, scenario, server, host, FINISH)
}

fn plain_exchange(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "a framed server answers each frame with one frame, and sends 2 more after the \
         program's end of stream; the program sends 3 lines",
        (3, 2),
        vec![],
    )
}

fn frames_one_byte_at_a_time(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "the server sends every frame one byte per write, each byte read before the next is sent",
        (3, 2),
        vec![FrameFault::Trickle],
    )
}

fn frames_sliced_at_random(subject: &Subject) -> Result<(), Box<Failure>> {
    let seed = fastrand::u64(..);
    exchange(
        subject,
        &format!(
            "the server cuts every frame into pieces of 1 to 7 bytes at random (seed {seed}; \
             `framed-server --slice --seed {seed}` replays it), one write each"
        ),
        (3, 3),
        vec![FrameFault::Slice { seed }],
    )
}

fn frames_glued_together(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        "after the program's end of stream, the server sends 5 frames in one single write",
        (2, 5),
        vec![FrameFault::Coalesce],
    )
}

fn a_large_frame(subject: &Subject) -> Result<(), Box<Failure>> {
    exchange(
        subject,
        &format!("the server's reply to the first frame is {LARGE} bytes long"),
        (2, 1),
        vec![FrameFault::Large { bytes: LARGE }],
    )
}

/// The server breaks its reply to the first frame with `fault`; the program must say so, and
/// print nothing of it.
fn broken_reply(
    subject: &Subject,
    scenario: &str,
    fault: FrameFault,
    (what, mistake): (&str, impl Fn(Symptom) -> Option<Hint>),
    deadline: Duration,
) -> Result<(), Box<Failure>> {
    let lines = words::lines(2);
    let server = start_server("127.0.0.1:0", 1, vec![fault])?;
    let port = server.local_addr().port();
    let input = Input::Lines(lines.clone());
    let run = run_client(subject, CH_FRAMING, "127.0.0.1", port, input)?;
    let outcome = run.finish(std::time::Instant::now() + deadline);
    let events = settled(server.journal());
    Conversation::new(&FRAMES, scenario, &outcome, &events, &lines, None)
        .expect_reported_error(what, mistake)
}

fn connection_closes_inside_a_frame(subject: &Subject) -> Result<(), Box<Failure>> {
    broken_reply(
        subject,
        "the server answers the first frame with a header and half the payload, then closes",
        FrameFault::CloseMidFrame,
        (
            "the program to say that the connection closed inside a frame",
            |symptom| (symptom == Symptom::Printed).then_some(Hint::FramedPrintedBrokenFrame),
        ),
        FINISH,
    )
}

fn length_over_the_limit(subject: &Subject) -> Result<(), Box<Failure>> {
    broken_reply(
        subject,
        &format!(
            "the server answers the first frame with a header announcing {OVER_LIMIT} bytes \
             (over the 16 MiB limit), then sends nothing more and keeps the connection open"
        ),
        FrameFault::OverLimit,
        (
            "the program to refuse the length at once",
            // Allocating what the header announced aborts; waiting for it never ends.
            |symptom| (symptom != Symptom::Printed).then_some(Hint::FramedNoLimit),
        ),
        // It has nothing to wait for: a correct program is done in milliseconds.
        Duration::from_secs(4),
    )
}
