//! Every sentence of every exercise's contract, and the checks that hold a program to it.
//!
//! A contract (the comment between `ANCHOR: contract` lines in `exercises/NAME.rs`) promises
//! "the grader checks exactly this, and nothing else". These tables are that promise, sentence
//! by sentence; the hint a check gives when the sentence is broken is in brackets. A test below
//! proves that every check they name exists, and that every check of the manifest is named: a
//! check that no sentence asks for would hold a program to more than its contract.
//!
//! ## `udp_client`
//!
//! | contract sentence | checks (hints) |
//! | --- | --- |
//! | send the line (without its newline) as one datagram to HOST:PORT | `plain_exchange` and every exchange (`WrongRequests`, `UdpNewlineSent`) |
//! | from one socket | every exchange (`UdpManySockets`); `one_socket_and_no_leak_over_1000_lines` (`SocketsHeld`, `DescriptorLeak`, `Uninspectable`) |
//! | on an ephemeral port | `several_clients_at_once` (`UdpFixedPort`) |
//! | print the reply datagram on its own line on standard output | `plain_exchange`, `long_replies` (`MadeUpReplies`, `UdpTruncated`, `UdpRepliesIgnored`) |
//! | as soon as it arrives | `slow_server` (`UdpLateReply`) |
//! | before reading the next line | `replies_before_the_next_line` (`NotInteractive`) |
//! | Only a datagram from the server's address and port is a reply | `ignores_strangers`, `strangers_do_not_stretch_the_wait` (`UdpAcceptsStrangers`) |
//! | After each try, wait 1 s for the reply | `server_never_answers` (`UdpTryWait`: 0.8 s to 1.6 s) |
//! | others' datagrams do not make that second longer | `strangers_do_not_stretch_the_wait` (`UdpStrangerRestartsWait`) |
//! | send the line again, 3 tries in all | `resends_a_lost_datagram` (`UdpNoRetry`, `UdpNoTimeout`, `UdpTimeoutIsError`); `server_never_answers` (`UdpTooManyTries`) |
//! | then say so on standard error and exit 1 | `server_never_answers`, `no_server` (`ErrorNotReported`, `Crashed`) |
//! | Exit 0 at the end of input | every exchange |
//! | HOST may be a name (any of its addresses will do) | `server_by_name` (`AddressFamily`) |
//! | an IPv4 or an IPv6 literal | every other check; `server_on_ipv6` (`AddressFamily`) |
//! | Wrong usage … exits 2 | `usage_errors` (`UsageNotReported`) |
//! | Errors are one readable line on standard error and exit status 1, never a panic | `server_never_answers`, `no_server`; every check (`Panicked`) |
//!
//! ## `tcp_client`
//!
//! | contract sentence | checks (hints) |
//! | --- | --- |
//! | connect once | every conversation, `several_clients_at_once` (`TcpConnectionPerLine`); `one_socket_and_no_leak_over_1000_lines` (`SocketsHeld`, `DescriptorLeak`, `Uninspectable`) |
//! | for each line of standard input, send it with its newline | `plain_exchange` (`WrongRequests`) |
//! | read the server's one reply line and print it | `plain_exchange`, `replies_one_byte_at_a_time` (`TcpOneReadOneMessage`, `MadeUpReplies`) |
//! | before waiting for the next line of input; Replies are printed as they arrive | `replies_before_the_next_line` (`NotInteractive`) |
//! | At the end of input, half-close, then print every further line until the server closes, and exit 0 | `lines_after_the_half_close`, `plain_exchange` (`TcpNoHalfClose`, `TcpLeftEarly`, `TcpReset`) |
//! | When the connection cannot be made … one line on standard error, exit 1 | `connection_refused` (`ErrorNotReported`) |
//! | or the server closes before replying | `server_closes_before_replying` |
//! | HOST may be a name (try each of its addresses in turn) | `server_by_name` (`AddressFamily`) |
//! | an IPv4 or an IPv6 literal | every other check; `server_on_ipv6` |
//! | Send each line and its newline in one write | `each_line_leaves_at_once` (`SplitWrites`) |
//! | A reply may come seconds after its line: wait for it, and print nothing in its place | `reply_comes_late` (`MadeUpReplies`, `FailedNeedlessly`) |
//! | Wrong usage … exits 2 | `usage_errors` (`UsageNotReported`) |
//! | Errors are one readable line on standard error, never a panic | `connection_refused`, `server_closes_before_replying`; every check (`Panicked`) |
//!
//! ## `sockstat`
//!
//! | contract sentence | checks (hints) |
//! | --- | --- |
//! | the header, then one line per socket descriptor, sorted, five columns | `the_socket_zoo`, `a_tcp_server_with_a_client` (compared with /proc and with ss: `SockstatTableDiffers`) |
//! | PROTO, LOCAL and REMOTE, STATE | `the_socket_zoo`, `a_tcp_server_with_a_client` (`SockstatIpv4Only`, `SockstatNoUdp`, `SockstatByteOrder`, `SockstatIpv6WordOrder`, `SockstatStateNames`) |
//! | Two descriptors of one socket are two lines; other descriptors are skipped | `the_socket_zoo` |
//! | of process PID; read `/proc` yourself (the process may live in another network namespace) | every table (`SockstatNotOwnSockets`); `a_process_in_another_network_namespace` (`SockstatOtherNamespace`) |
//! | Exit 0 | every table, `a_process_with_no_sockets` |
//! | A process that does not exist or whose descriptors cannot be read: one line on standard error, exit 1 | `no_such_process`, `another_users_process` (`ErrorNotReported`) |
//! | Wrong usage … exits 2 | `usage_errors` (`UsageNotReported`) |
//!
//! ## `framed_client`
//!
//! | contract sentence | checks (hints) |
//! | --- | --- |
//! | connect once | every conversation, `several_clients_at_once`; `one_socket_and_no_leak_over_1000_lines` |
//! | one frame per line: a 4-byte big-endian length, the line without its newline | `plain_exchange` (`FramedByteOrder`, `WrongRequests`) |
//! | read one reply frame, write its payload and a newline | `plain_exchange`, `frames_one_byte_at_a_time`, `frames_sliced_at_random`, `a_large_frame` (`FramedOneReadOneFrame`) |
//! | before waiting for the next line | `replies_before_the_next_line` (`NotInteractive`) |
//! | At the end of input, half-close, every further frame until the close, exit 0 | `frames_glued_together`, `plain_exchange` (`TcpNoHalfClose`, `TcpLeftEarly`, `TcpReset`) |
//! | A connection that closes inside a frame: one line, exit 1, nothing of it printed | `connection_closes_inside_a_frame` (`FramedPrintedBrokenFrame`) |
//! | a length over 16 MiB: one line, exit 1, no allocation | `length_over_the_limit` (`FramedNoLimit`) |
//! | When the connection cannot be made, or the server closes before replying | `connection_refused`, `server_closes_before_replying` |
//! | HOST may be a name, an IPv4 or an IPv6 literal | `server_by_name`, `server_on_ipv6` |
//! | Send each frame, header and payload, in one write | `each_frame_leaves_at_once` (`SplitWrites`) |
//! | A reply may come seconds after its line | `reply_comes_late` |
//! | Wrong usage … exits 2 | `usage_errors` (`UsageNotReported`) |
//!
//! ## `echo_server`
//!
//! | contract sentence | checks (hints) |
//! | --- | --- |
//! | listen on 127.0.0.1 port P (default 0), and on no other address | `first_line_and_port` (its own socket table: `EchoListensBeyondLoopback`, `EchoFirstLine`) |
//! | print `listening on 127.0.0.1:PORT` (the real port) as the first line | `first_line_and_port`; every check waits for it (`EchoLineNotFlushed`) |
//! | serve any number of clients at once, for as long as it runs | `fifty_clients_at_once`, `a_stalled_client_delays_no_one` (`EchoOneAtATime`, `EchoStopsServing`) |
//! | Every line … sent back to that client, byte for byte, as soon as the line is complete | `one_client`, `fifty_clients_at_once` (`EchoMixedUp`, `EchoAltersLines`, `EchoWaitsForEnd`) |
//! | When a client half-closes, send back what is left and close that connection | `half_close_gets_every_echo_then_the_end` (`EchoNeverCloses`) |
//! | When a client resets or vanishes, forget it and keep serving everyone else | `a_reset_client_takes_nothing_down` (`EchoDiesOnReset`) |
//! | Once a client has gone: no socket, no descriptor, no process (no zombie) | `nothing_left_when_all_have_gone` (`EchoLeaksDescriptors`, `EchoChildrenLeft`, `Uninspectable`) |
//! | Wrong usage … exits 2 | `usage_errors` (`UsageNotReported`) |
//! | When it cannot listen: one line on standard error with the system's reason, exit 1; never a panic | `cannot_listen_says_why` (`ErrorNotReported`, `Panicked`) |
//!
//! ## `daemon_check`
//!
//! | contract sentence | checks (hints) |
//! | --- | --- |
//! | PIDFILE holds `PID;PORT` (a trailing newline, `\r\n` or spaces are fine) | `healthy_listener`, and every other |
//! | anything else is malformed: PID is a positive pid, PORT is 1 to 65535 | `malformed_pid_files` (`DaemonMalformedAccepted`) |
//! | `running PID PORT`, exit 0, when the process exists, something accepts on 127.0.0.1:PORT, and the listening socket is the process's | `healthy_listener`, `accepts_and_never_answers`, `never_accepts`, `support_daemon`, `support_daemon_detached` (`DaemonNoProbe`) |
//! | `no pid file` | `no_pid_file` |
//! | `no such process` | `dead_pid`, `dead_pid_port_taken` (`DaemonEpermMeansAlive`, `DaemonWrongVerdict`) |
//! | `not listening` | `alive_not_listening`, `another_users_process`, `full_backlog` (`DaemonAliveIsNotListening`, `DaemonConnectNoTimeout`) |
//! | `port held by another process` | `pid_reused`, `port_held_by_another_process` (`DaemonConnectProvesNothing`) |
//! | The check connects and closes its connection cleanly, sends nothing, waits for nothing | every check with a watched listener (`DaemonProbeReset`, `DaemonProbeSentData`, `DaemonProbeLeftOpen`) |
//! | takes no more than 2 s in all: a connection not made by then counts as `not listening` | every check; `full_backlog` |
//! | Wrong usage … exits 2 | `usage_errors` (`UsageNotReported`) |
//! | When the check itself fails, it prints no verdict: one line on standard error, exit 1, never a panic | `descriptors_unreadable` (`DaemonGuessedOwner`) |

#[cfg(test)]
mod tests {
    use crate::manifest::EXERCISES;

    /// Per exercise (its `## \`NAME\`` heading), the snake_case names in the tables' second
    /// column that are written as code.
    fn named_checks() -> Vec<(String, Vec<String>)> {
        let mut found: Vec<(String, Vec<String>)> = Vec::new();
        for line in include_str!("contracts.rs").lines() {
            let line = line.trim_start_matches("//!").trim();
            if let Some(name) = line.strip_prefix("## `") {
                found.push((name.trim_end_matches('`').to_string(), Vec::new()));
                continue;
            }
            let Some(checks) = line.split(" | ").nth(1) else {
                continue;
            };
            let Some((_, names)) = found.last_mut() else {
                continue;
            };
            for word in checks.split('`').skip(1).step_by(2) {
                if word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    names.push(word.to_string());
                }
            }
        }
        found
    }

    #[test]
    fn every_check_answers_a_sentence_and_every_sentence_names_real_checks() {
        let tables = named_checks();
        for exercise in EXERCISES {
            let Some((_, named)) = tables.iter().find(|(n, _)| n == exercise.name) else {
                panic!("no table for {}", exercise.name);
            };
            for name in named {
                assert!(
                    exercise.checks.iter().any(|c| c.name == name),
                    "{}: the table names `{name}`, which is not one of its checks",
                    exercise.name
                );
            }
            for check in exercise.checks {
                assert!(
                    named.iter().any(|n| n == check.name),
                    "{}::{} answers no sentence of the contract's table",
                    exercise.name,
                    check.name
                );
            }
        }
    }
}
