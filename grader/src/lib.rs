//! The socklab grader.
//!
//! `cargo test -p grader` runs `tests/grade.rs`, which builds every exercise, then runs each
//! check as a test. A check starts real reference servers from the `support` crate on ephemeral
//! ports, in this process so it can script their faults and read their journals, runs the
//! learner's program as a child process, and compares both sides: what the program printed, what
//! the server received and sent, and how the program ended. A failure names the mistake
//! ([`hint::Hint`]), the chapter and the section that explain it.
//!
//! # Where things are
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`manifest`] | the one list of exercises: name, chapter, section, checks |
//! | [`target`] | which package is graded, where the repository is, building each program before any clock starts |
//! | [`program`] | a program as a child: start, feed, watch its output, end it, reap it |
//! | [`inspect`] | one process's descriptors and sockets, read once from `/proc`, as `ss` would |
//! | [`watch`] | a program over time: one socket of the right kind, no leak, what it held when stopped |
//! | [`diagnose`] | the shared diagnosis rules, most basic cause first |
//! | [`failure`] | what a learner reads: scenario, command, transcript, expected, actual, hint |
//! | [`hint`] | the mistakes by name, each with its chapter and section |
//! | [`words`] | requests and secrets no program can guess |
//! | [`usage`] | the usage check every program shares: one line on standard error, exit 2 |
//! | [`exchange`] | one conversation over one TCP connection: the server's journal in shared words, both sides as a transcript, expected against actual, the diagnosis by progress |
//! | [`stream_scenarios`] | the scenarios every stream client (`tcp_client`, `framed_client`) shares |
//! | [`checks`] | one file of scenarios per exercise |
//!
//! # Adding an exercise
//!
//! Copy an existing one, file for file:
//! 1. `exercises/NAME.rs` and `solutions/NAME.rs`: the same header (the task, the contract between
//!    `// ANCHOR: contract` lines, the chapter), `// TODO:` and `todo!("…")` where the learner
//!    works; a `[[bin]]` entry for each in `exercises/Cargo.toml` and `solutions/Cargo.toml`.
//! 2. `grader/src/checks/NAME.rs`: `pub const CHECKS: &[Check]`, each check a
//!    `fn(&Subject) -> Result<(), Box<Failure>>` that starts reference servers from `support`,
//!    runs the program with [`program::Run`], and fails with a [`failure::Failure`] whose hint
//!    names the mistake. Ask [`diagnose`] first on every outcome; add the module to [`checks`].
//! 3. One entry in [`manifest::EXERCISES`], in the book's order. New mistakes get a
//!    [`hint::Hint`] variant, with its section.
//! 4. `grader/selftest/src/bin/`: one known-bad program per mistake and correct programs in other
//!    styles; each file's first line says which exercise it is for and the hint it must earn
//!    (see `grader/selftest/tests/selftest.rs`).
//! 5. The book chapter includes the contract from the exercise file and ends with
//!    `cargo test -p grader -- NAME`.

pub mod checks;
pub mod diagnose;
pub mod exchange;
pub mod failure;
pub mod hint;
pub mod inspect;
pub mod manifest;
pub mod program;
pub mod stream_scenarios;
pub mod target;
pub mod usage;
pub mod watch;
pub mod words;
