//! # socklab support
//!
//! The reference servers and poking clients of the socklab course, as a library and as programs.
//!
//! The same code serves two audiences:
//!
//! - **The learner** runs the programs in `src/bin/` by hand (`udp-server`, `udp-client`,
//!   `tcp-server`, `tcp-client`) and pokes them with `nc`, `ss`, `lsof` and `strace`.
//! - **The grader** starts the very same servers inside its own process, with faults switched on,
//!   and reads their [`journal`] to see what really crossed the wire.
//!
//! ## Layout
//!
//! | module | concern |
//! | --- | --- |
//! | [`journal`] | a shared, waitable log of what a server did, with a timestamp per event |
//! | [`running`] | a server running on its own thread, stopped and joined when dropped |
//! | [`stop`] | the stop signal a serving thread waits on next to its socket |
//! | [`udp_server`] | the UDP reply server and its faults (lost datagrams, strangers, silence) |
//! | [`tcp_server`] | the TCP line server and its faults (trickled bytes, early close) |
//! | `conn` (private) | what the TCP line server and the framed server share: listening, accepting, a thread per connection, journaling its life, stopping |
//! | [`line_protocol`] | chapter 6's echo protocol and what its four servers share |
//! | [`echo_iterative`], [`echo_fork`], [`echo_threads`], [`echo_poll`] | the four concurrency models: one client at a time, a process per client, a thread per client, an event loop |
//! | [`loadgen`] | the load generator: many connections, every reply checked, latency and memory measured |
//! | [`plot`] | drawing the measured comparison as an SVG chart |
//! | [`framed`] | length-prefixed frames: encoding, reading with a limit |
//! | [`framed_server`] | the framed server and its faults (trickle, slicing, coalescing, large, cut, over the limit) |
//! | [`gate`] | holding a server's reply back until the grader has looked at the client |
//! | [`proc_net`] | reading `/proc/net/tcp` and `tcp6`, the tables `ss` shows |
//! | [`sock_diag`] | asking the kernel about one TCP socket over netlink, the way `ss` does |
//! | [`socket_zoo`] | a process holding TCP and UDP sockets in many states, for chapter 4 |
//! | [`dual_stack`] | one socket for IPv4 and IPv6: `[::]` with `IPV6_V6ONLY` off, and telling mapped addresses apart |
//! | [`daemon`] | pid files, `kill(pid, 0)`, who listens on a port, and the chapter 7 daemon |
//! | [`cli`] | command-line pieces shared by the programs |
//! | [`trace`] | the tiny standard-error logger behind `--trace` |
//! | [`signals`] | stopping a program cleanly on Ctrl-C (`SIGINT`) and `SIGTERM` |
//!
//! The programs in `src/bin/` are thin: they parse arguments, build the options, and call into
//! these modules.

#[cfg(feature = "cli")]
pub mod cli;
mod conn;
pub mod daemon;
pub mod dual_stack;
pub mod echo_fork;
pub mod echo_iterative;
pub mod echo_poll;
pub mod echo_threads;
pub mod framed;
pub mod framed_server;
pub mod gate;
pub mod journal;
pub mod line_protocol;
pub mod loadgen;
pub mod plot;
pub mod proc_net;
pub mod running;
pub mod signals;
pub mod sock_diag;
pub mod socket_zoo;
pub mod stop;
pub mod tcp_server;
pub mod trace;
pub mod udp_server;
