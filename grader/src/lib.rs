//! The socklab grader.
//!
//! `cargo test -p grader` runs `tests/grade.rs`, which builds every exercise, then runs each
//! check below as a test. A check starts real reference servers from the `support` crate on
//! ephemeral ports, in this process so it can script their faults and read their journals, runs
//! the learner's program as a child process, and compares both sides: what the program printed,
//! what the server received and sent, and how the program ended. A failure names the mistake
//! ([`hint::Hint`]) and the chapter that explains it.
//!
//! The layout:
//! - [`target`]: which package is graded, and building its programs;
//! - [`program`]: running a program as a child, watching its output, killing and reaping it;
//! - [`exercise`]: the catalogue of exercises and checks, and the mistakes any program can make;
//! - [`udp_client`], [`tcp_client`]: the checks of each exercise;
//! - [`failure`], [`hint`]: what a learner reads when a check fails;
//! - [`words`]: requests and secrets that no program can guess.

pub mod exercise;
pub mod failure;
pub mod hint;
pub mod program;
pub mod target;
pub mod tcp_client;
pub mod udp_client;
pub mod words;
