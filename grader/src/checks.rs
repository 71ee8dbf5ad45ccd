//! One file of scenarios per exercise. Each sets up its reference servers and faults, runs the
//! learner's program, hands the outcome to [`crate::diagnose`], and adds only what is particular
//! to its exercise. A helper that two exercises need lives a level up, not here.

pub mod daemon_check;
pub mod echo_server;
pub mod framed_client;
pub mod sockstat;
pub mod tcp_client;
pub mod udp_client;
