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
//! - [`udp_client`], [`tcp_client`], [`framed_client`], [`echo_server`]: the checks of each exercise;
//! - [`sockstat`]: the checks of chapter 4's `sockstat`, against [`inspect`] and `ss`;
//! - [`inspect`]: a running program's descriptors and sockets, read from `/proc` as `ss` does;
//! - [`failure`], [`hint`]: what a learner reads when a check fails;
//! - [`words`]: requests and secrets that no program can guess.
//!
//! # Adding an exercise
//!
//! Copy an existing one, file for file:
//! 1. `exercises/NAME.rs` and `solutions/NAME.rs`: the same header (the task, the contract between
//!    `// ANCHOR: contract` lines, the chapter), `// TODO:` and `todo!("…")` where the learner
//!    works; a `[[bin]]` entry for each in `exercises/Cargo.toml` and `solutions/Cargo.toml`.
//! 2. `grader/src/NAME.rs`: `pub const EXERCISE: Exercise` and its checks, each a
//!    `fn(&Subject) -> Result<(), Box<Failure>>` that starts reference servers from `support`,
//!    runs the program with [`program::Run`], and fails with a [`failure::Failure`] whose hint
//!    names the mistake. Run [`exercise::general_hint`] first on every outcome: it turns an
//!    untouched `todo!()` into "not done yet" and a panic into its hint. Add the module here and
//!    the exercise to [`exercise::catalog`]; new mistakes get a [`hint::Hint`] variant.
//! 3. `grader/selftest/src/bin/`: one known-bad program per mistake, and correct programs in
//!    other styles; list them in `grader/selftest/tests/selftest.rs` with the hint each must earn.
//! 4. The book chapter includes the contract from the exercise file and ends with
//!    `cargo test -p grader -- NAME`.

pub mod daemon_check;
pub mod echo_server;
pub mod exercise;
pub mod failure;
pub mod framed_client;
pub mod hint;
pub mod inspect;
pub mod program;
pub mod sockstat;
pub mod target;
pub mod tcp_client;
pub mod udp_client;
pub mod words;
