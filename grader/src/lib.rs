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
//! | **The course and a grading run** | |
//! | [`manifest`] | the one list of exercises: name, chapter, section, checks |
//! | [`contracts`] | every sentence of every contract, and the checks that hold a program to it |
//! | [`grading`] | one grading run: build, run the checks, group failures by cause, the verdict last |
//! | [`target`] | which package is graded, where the repository is, building each program before any clock starts |
//! | **Running a program** | |
//! | [`program`] | a program as a child: start, feed, watch its output, end it, reap it |
//! | [`printed`] | what a child prints, line by line and time-stamped, to wait on |
//! | [`interrupt`] | Ctrl-C or SIGTERM during grading: every program it started is killed |
//! | **Looking at it from outside** | |
//! | [`inspect`] | one process's descriptors and sockets, read once from `/proc`, as `ss` would |
//! | [`watch`] | a program over time: one socket of the right kind, no leak, what it held when stopped |
//! | [`learner_view`] | what an ordinary user could see of a program, also when the grader runs as root |
//! | [`ss`] | `ss -tuanp` about one process, to cross-check [`inspect`] |
//! | [`misreading`] | the ways to misread an address of the kernel's tables, to name the mistake |
//! | **What a learner reads** | |
//! | [`diagnose`] | the shared diagnosis rules, most basic cause first |
//! | [`failure`] | what a learner reads: scenario, command, transcript, expected, actual, hint |
//! | [`hint`] | the mistakes by name, each with its chapter and section |
//! | **Stand-ins a scenario needs** | |
//! | [`words`] | requests and secrets no program can guess |
//! | [`other_user`] | "a process of another user", the same for root and for an ordinary user |
//! | [`processes`] | stand-in processes: a live one with no socket, the pid of a dead one |
//! | [`support_programs`] | the `support` programs as children: built once, started, waited for until ready |
//! | [`listeners`] | listeners in the grader: one that records how each connection ended, one with a full backlog |
//! | [`temp_dir`] | a folder of the grader's own, removed when dropped |
//! | [`meeting`] | a meeting point with a deadline for a check's client threads |
//! | **Checks every program shares** | |
//! | [`usage`] | the usage check every program shares: one line on standard error, exit 2 |
//! | [`listen_failure`] | the check every server shares: its port taken, one line on standard error with the reason, exit 1 |
//! | **Clients of a UDP server** | |
//! | [`datagram_client`] | a client of a UDP request-reply server, run against the grader's servers and judged |
//! | [`datagrams`] | a UDP conversation seen from the server's side: one client's events, its tries and waits, its transcript |
//! | [`strangers`] | look-alike replies from another port and another address, around each reply or every so often |
//! | [`udp_servers`] | the grader's UDP servers for a client check: secret replies, one port across a name's addresses, strangers |
//! | **Clients of a TCP stream** | |
//! | [`exchange`] | one conversation over one TCP connection: the server's journal in shared words, both sides as a transcript, expected against actual, the diagnosis by progress |
//! | [`stream_scenarios`] | the scenarios every stream client (`tcp_client`, `framed_client`) shares |
//! | **Servers under test** | |
//! | [`served`] | a server under test: started, its first line, its listening sockets, descriptors and child processes, stopped |
//! | [`line_client`] | the grader's own TCP client of a server under test: lines sent and read with deadlines, half-close, reset |
//! | **Each exercise's scenarios** | |
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
pub mod contracts;
pub mod datagram_client;
pub mod datagrams;
pub mod diagnose;
pub mod exchange;
pub mod failure;
pub mod grading;
pub mod hint;
pub mod inspect;
pub mod interrupt;
pub mod learner_view;
pub mod line_client;
pub mod listen_failure;
pub mod listeners;
pub mod manifest;
pub mod meeting;
pub mod misreading;
pub mod other_user;
pub mod printed;
pub mod processes;
pub mod program;
pub mod served;
pub mod ss;
pub mod strangers;
pub mod stream_scenarios;
pub mod support_programs;
pub mod target;
pub mod temp_dir;
pub mod udp_servers;
pub mod usage;
pub mod watch;
pub mod words;
