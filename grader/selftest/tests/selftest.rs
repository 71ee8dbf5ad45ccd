//! The grader is graded: every solution passes every check, every untouched exercise fails with
//! "not done yet", every known-bad program fails with the hint for its mistake, and correct
//! programs written in another style pass.
//!
//! The known-bad and other-style programs are this package's binaries (`src/bin/`), so Cargo
//! builds them for this test. Exercises and solutions are built the way the grader builds them.

use std::process::ExitCode;
use std::thread;

use grader::exercise::{Exercise, catalog};
use grader::failure::Failure;
use grader::hint::{CH_FRAMING, CH_SEEING, CH_TCP, CH_UDP, Hint};
use grader::program::Subject;
use grader::target::{self, Target};
use libtest_mimic::{Arguments, Failed, Trial};

/// Each trial runs all the checks of one program at once: keep the number of programs at once low
/// so that a loaded two-core machine still keeps every timing a correct program needs.
const DEFAULT_THREADS: usize = 3;

/// One of this package's binaries, which Cargo builds for this test.
macro_rules! program {
    ($bin:literal) => {
        Subject {
            exe: env!(concat!("CARGO_BIN_EXE_", $bin)).into(),
            shown_as: concat!("grader/selftest/src/bin/", $bin, ".rs").to_string(),
        }
    };
}

/// Known-bad programs, each with the one hint its mistake must earn.
fn known_bad() -> Vec<(&'static str, Subject, Hint)> {
    vec![
        ("udp_client", program!("udp_no_retry"), Hint::UdpNoRetry),
        ("udp_client", program!("udp_no_timeout"), Hint::UdpNoTimeout),
        ("udp_client", program!("udp_fixed_port"), Hint::UdpFixedPort),
        (
            "udp_client",
            program!("udp_any_sender"),
            Hint::UdpAcceptsStrangers,
        ),
        (
            "udp_client",
            program!("udp_small_buffer"),
            Hint::UdpTruncated,
        ),
        (
            "udp_client",
            program!("udp_ipv4_only"),
            Hint::AddressFamily { chapter: CH_UDP },
        ),
        (
            "udp_client",
            program!("udp_fake"),
            Hint::MadeUpReplies { chapter: CH_UDP },
        ),
        (
            "udp_client",
            program!("udp_leaks_fd"),
            Hint::DescriptorLeak { chapter: CH_UDP },
        ),
        (
            "udp_client",
            program!("udp_stray_socket"),
            Hint::SocketsHeld { chapter: CH_UDP },
        ),
        (
            "tcp_client",
            program!("tcp_one_read"),
            Hint::TcpOneReadOneMessage,
        ),
        (
            "tcp_client",
            program!("tcp_connect_per_line"),
            Hint::TcpConnectionPerLine,
        ),
        (
            "tcp_client",
            program!("tcp_no_half_close"),
            Hint::TcpNoHalfClose,
        ),
        (
            "tcp_client",
            program!("tcp_exit_at_eof"),
            Hint::TcpLeftEarly,
        ),
        (
            "tcp_client",
            program!("tcp_fake"),
            Hint::MadeUpReplies { chapter: CH_TCP },
        ),
        (
            "tcp_client",
            program!("tcp_panics"),
            Hint::Panicked { chapter: CH_TCP },
        ),
        (
            "tcp_client",
            program!("tcp_silent_error"),
            Hint::ErrorNotReported { chapter: CH_TCP },
        ),
        (
            "tcp_client",
            program!("tcp_ipv4_only"),
            Hint::AddressFamily { chapter: CH_TCP },
        ),
        (
            "tcp_client",
            program!("tcp_leaks_fd"),
            Hint::DescriptorLeak { chapter: CH_TCP },
        ),
        (
            "tcp_client",
            program!("tcp_stray_socket"),
            Hint::SocketsHeld { chapter: CH_TCP },
        ),
        ("tcp_client", program!("tcp_reset_at_end"), Hint::TcpReset),
        (
            "framed_client",
            program!("framed_one_read"),
            Hint::FramedOneReadOneFrame,
        ),
        (
            "framed_client",
            program!("framed_little_endian"),
            Hint::FramedByteOrder,
        ),
        (
            "framed_client",
            program!("framed_no_limit"),
            Hint::FramedNoLimit,
        ),
        (
            "framed_client",
            program!("framed_prints_partial"),
            Hint::FramedPrintedBrokenFrame,
        ),
        (
            "framed_client",
            program!("framed_leaks_fd"),
            Hint::DescriptorLeak {
                chapter: CH_FRAMING,
            },
        ),
        (
            "framed_client",
            program!("framed_no_half_close"),
            Hint::TcpNoHalfClose,
        ),
        (
            "framed_client",
            program!("framed_stray_socket"),
            Hint::SocketsHeld {
                chapter: CH_FRAMING,
            },
        ),
        (
            "framed_client",
            program!("framed_reset_at_end"),
            Hint::TcpReset,
        ),
        (
            "daemon_check",
            program!("daemon_recipe"),
            Hint::DaemonEpermMeansAlive,
        ),
        (
            "daemon_check",
            program!("daemon_trusts_port"),
            Hint::DaemonConnectProvesNothing,
        ),
        (
            "daemon_check",
            program!("daemon_never_closes"),
            Hint::DaemonProbeLeftOpen,
        ),
        (
            "daemon_check",
            program!("daemon_kill_only"),
            Hint::DaemonAliveIsNotListening,
        ),
        (
            "echo_server",
            program!("echo_one_at_a_time"),
            Hint::EchoOneAtATime,
        ),
        (
            "echo_server",
            program!("echo_never_closes"),
            Hint::EchoNeverCloses,
        ),
        (
            "echo_server",
            program!("echo_leaks_fd"),
            Hint::EchoLeaksDescriptors,
        ),
        (
            "echo_server",
            program!("echo_reads_to_end"),
            Hint::EchoWaitsForEnd,
        ),
        (
            "echo_server",
            program!("echo_dies_on_reset"),
            Hint::EchoDiesOnReset,
        ),
        (
            "sockstat",
            program!("sockstat_ipv4_only"),
            Hint::SockstatIpv4Only,
        ),
        ("sockstat", program!("sockstat_no_udp"), Hint::SockstatNoUdp),
        (
            "sockstat",
            program!("sockstat_byte_order"),
            Hint::SockstatByteOrder,
        ),
        (
            "sockstat",
            program!("sockstat_ipv6_word_order"),
            Hint::SockstatIpv6WordOrder,
        ),
        (
            "sockstat",
            program!("sockstat_all_sockets"),
            Hint::SockstatNotOwnSockets,
        ),
        (
            "sockstat",
            program!("sockstat_states_off_by_one"),
            Hint::SockstatStateNames,
        ),
        (
            "sockstat",
            program!("sockstat_sorted_as_text"),
            Hint::WrongOutput { chapter: CH_SEEING },
        ),
        (
            "sockstat",
            program!("sockstat_per_inode"),
            Hint::WrongOutput { chapter: CH_SEEING },
        ),
        (
            "sockstat",
            program!("sockstat_silent_when_missing"),
            Hint::ErrorNotReported { chapter: CH_SEEING },
        ),
    ]
}

/// Correct programs, written differently from the solutions.
fn other_styles() -> Vec<(&'static str, Subject)> {
    vec![
        ("udp_client", program!("udp_connected")),
        ("tcp_client", program!("tcp_send_all_first")),
        ("tcp_client", program!("tcp_read_exact_style")),
        ("framed_client", program!("framed_read_exact_style")),
        ("framed_client", program!("framed_manual_loop")),
        ("echo_server", program!("echo_poll_style")),
        ("echo_server", program!("echo_copy_style")),
        ("sockstat", program!("sockstat_other_style")),
    ]
}

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    args.test_threads.get_or_insert(DEFAULT_THREADS);
    let mut trials = Vec::new();
    for exercise in catalog() {
        trials.push(Trial::test(
            format!("solution_passes::{}", exercise.name),
            move || {
                let subject = build(Target::Solutions, exercise.name)?;
                expect_pass(exercise, &subject)
            },
        ));
        trials.push(Trial::test(
            format!("untouched_exercise_fails::{}", exercise.name),
            move || {
                let subject = build(Target::Exercises, exercise.name)?;
                expect_not_done(exercise, &subject)
            },
        ));
        trials.push(Trial::test(
            format!("headers_match::{}", exercise.name),
            move || same_header(exercise.name),
        ));
    }
    for (exercise_name, subject, hint) in known_bad() {
        let name = format!("known_bad_is_rejected::{}", bin_name(&subject));
        trials.push(Trial::test(name, move || {
            expect_hint(exercise(exercise_name), &subject, &hint)
        }));
    }
    for (exercise_name, subject) in other_styles() {
        let name = format!("other_style_passes::{}", bin_name(&subject));
        trials.push(Trial::test(name, move || {
            expect_pass(exercise(exercise_name), &subject)
        }));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let leftovers = leftover_processes();
    if !leftovers.is_empty() {
        eprintln!("selftest: processes left running after the checks: {leftovers:?}");
        return ExitCode::FAILURE;
    }
    conclusion.exit_code()
}

/// Processes still running a program the checks started: every one must have been killed and
/// reaped, whatever the check's result.
fn leftover_processes() -> Vec<(u32, std::path::PathBuf)> {
    let mine = [
        target::workspace_root().join("target").join("socklab"),
        std::path::PathBuf::from(env!("CARGO_BIN_EXE_udp_fake"))
            .parent()
            .expect("a folder")
            .to_path_buf(),
    ];
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
            (pid != me && mine.iter().any(|dir| exe.starts_with(dir))).then_some((pid, exe))
        })
        .collect()
}

fn exercise(name: &str) -> &'static Exercise {
    catalog()
        .into_iter()
        .find(|e| e.name == name)
        .expect("a known exercise")
}

fn build(target: Target, name: &str) -> Result<Subject, Failed> {
    target::build(target.package(), name, target.source_file(name))
        .map_err(|compiler| Failed::from(format!("{name} does not build:\n{compiler}")))
}

fn bin_name(subject: &Subject) -> String {
    subject
        .exe
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Runs every check of `exercise` at once and returns each one's result.
fn run_all(
    exercise: &Exercise,
    subject: &Subject,
) -> Vec<(&'static str, Result<(), Box<Failure>>)> {
    thread::scope(|scope| {
        let handles: Vec<_> = exercise
            .checks
            .iter()
            .map(|check| scope.spawn(move || (check.name, (check.run)(subject))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a check panicked"))
            .collect()
    })
}

fn expect_pass(exercise: &Exercise, subject: &Subject) -> Result<(), Failed> {
    let failures: Vec<String> = run_all(exercise, subject)
        .into_iter()
        .filter_map(|(name, result)| result.err().map(|f| format!("---- {name} ----\n{f}")))
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} should pass every check:\n{}",
            subject.shown_as,
            failures.join("\n")
        )
        .into())
    }
}

fn expect_not_done(exercise: &Exercise, subject: &Subject) -> Result<(), Failed> {
    let results = run_all(exercise, subject);
    let mut passed = Vec::new();
    for (name, result) in &results {
        match result {
            Ok(()) => passed.push(*name),
            Err(failure) => {
                if let Hint::NotDone { location, .. } = &failure.hint {
                    let file = format!("exercises/{}.rs:", exercise.name);
                    if !location.starts_with(&file) {
                        return Err(format!(
                            "{name}: the TODO's place should be in {file}, not {location}"
                        )
                        .into());
                    }
                }
            }
        }
    }
    if !passed.is_empty() {
        return Err(format!("the untouched {} passes {passed:?}", subject.shown_as).into());
    }
    match &results[0].1 {
        Err(failure) if matches!(failure.hint, Hint::NotDone { .. }) => Ok(()),
        Err(failure) => {
            Err(format!("the first check should say \"not done yet\", it said:\n{failure}").into())
        }
        Ok(()) => unreachable!("no check passed"),
    }
}

fn expect_hint(exercise: &Exercise, subject: &Subject, hint: &Hint) -> Result<(), Failed> {
    let results = run_all(exercise, subject);
    let hints: Vec<(&str, Hint)> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|f| (*name, f.hint.clone())))
        .collect();
    if hints.iter().any(|(_, h)| h == hint) {
        return Ok(());
    }
    let seen: Vec<String> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|f| format!("---- {name} ----\n{f}")))
        .collect();
    Err(format!(
        "{} should fail with the hint {hint:?}; it failed {} checks with other hints: {:?}\n{}",
        subject.shown_as,
        hints.len(),
        hints,
        seen.join("\n")
    )
    .into())
}

/// An exercise and its solution start with the same header, contract included.
fn same_header(name: &str) -> Result<(), Failed> {
    let root = target::workspace_root();
    let header = |package: &str| -> Result<String, Failed> {
        let text = std::fs::read_to_string(root.join(package).join(format!("{name}.rs")))
            .map_err(|e| Failed::from(format!("{package}/{name}.rs: {e}")))?;
        Ok(text
            .lines()
            .take_while(|l| l.starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n"))
    };
    let (exercise, solution) = (header("exercises")?, header("solutions")?);
    if exercise.is_empty() || !exercise.contains("ANCHOR: contract") {
        return Err(format!("exercises/{name}.rs has no header with its contract").into());
    }
    if exercise != solution {
        return Err(
            format!("the headers of exercises/{name}.rs and solutions/{name}.rs differ").into(),
        );
    }
    Ok(())
}
