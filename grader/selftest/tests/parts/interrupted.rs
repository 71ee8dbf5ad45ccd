//! Ctrl-C in the middle of grading leaves nothing behind.
//!
//! The self-test starts a real grading run of the solutions (this very binary, in the role of
//! `cargo test -p grader`: both call `grader::grading::main`) in a process group of its own, waits
//! until that run has programs of its own running, sends SIGINT to its group as a terminal's
//! Ctrl-C would, and then looks for survivors. Every process a grading run starts inherits its
//! environment, so a token put there finds them all, also daemons that detached into a session of
//! their own.

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Set in the environment of a grading run that this binary runs on itself.
pub const ROLE: &str = "SOCKLAB_SELFTEST_ROLE";
const TOKEN: &str = "SOCKLAB_SELFTEST_RUN_TOKEN";

/// How long the grading run may take to build the solutions and start its first programs.
const STARTING: Duration = Duration::from_secs(120);
/// How long the kernel and init may take to make killed processes disappear.
const VANISHING: Duration = Duration::from_secs(10);

/// Processes (not zombies: those are dead, waiting for init to reap them) whose environment
/// holds `token`, other than `except`.
fn carrying(token: &str, except: u32) -> Vec<(u32, String)> {
    let needle = format!("{TOKEN}={token}");
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            if pid == except || pid == std::process::id() {
                return None;
            }
            let environ = fs::read(format!("/proc/{pid}/environ")).ok()?;
            let holds = environ
                .split(|&b| b == 0)
                .any(|var| var == needle.as_bytes());
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let zombie = stat.rsplit(')').next()?.trim_start().starts_with('Z');
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (holds && !zombie).then_some((pid, cmdline.trim().to_string()))
        })
        .collect()
}

/// The trial: interrupt a grading run half-way, then find no process of it left.
pub fn leaves_nothing_behind() -> Result<(), Failed> {
    let token = format!("{}-{}", std::process::id(), fastrand::u64(..));
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut command = Command::new(exe);
    // SAFETY: only async-signal-safe calls between fork and exec. The self-test blocks SIGINT in
    // all its threads; the grading run must start with it unblocked, as from a terminal.
    unsafe {
        command.pre_exec(|| {
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            Ok(())
        });
    }
    let mut child = command
        .args(["--test-threads", "8"])
        .env(ROLE, "grade")
        .env(TOKEN, &token)
        .env("SOCKLAB_TARGET", "solutions")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not start a grading run: {e}"))?;
    let group = Pid::from_raw(child.id() as i32);
    let outcome = (|| {
        // Half-way: once the run has several programs of its own.
        let deadline = Instant::now() + STARTING;
        while carrying(&token, child.id()).len() < 3 {
            if Instant::now() >= deadline {
                return Err(format!(
                    "the grading run started no programs within {} s",
                    STARTING.as_secs()
                ));
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "the grading run ended before it was interrupted: {status}"
                ));
            }
            // No event tells us a grandchild started; this poll is bounded by the deadline.
            thread::sleep(Duration::from_millis(20));
        }
        let running = carrying(&token, child.id()).len();
        killpg(group, Signal::SIGINT).map_err(|e| format!("SIGINT: {e}"))?;
        let status = wait_with_deadline(&mut child, VANISHING)
            .ok_or("the grading run did not end within 10 s of Ctrl-C")?;
        let deadline = Instant::now() + VANISHING;
        loop {
            let left = carrying(&token, child.id());
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "after Ctrl-C ({running} programs were running; the grader ended with \
                     {status}), these are still running: {left:?}"
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        if status.code() != Some(128 + Signal::SIGINT as i32) {
            return Err(format!(
                "the interrupted grading run should exit with status 130, as a shell reports \
                 Ctrl-C; it ended with {status}"
            ));
        }
        Ok(())
    })();
    // Whatever happened, nothing of this trial stays.
    let _ = killpg(group, Signal::SIGKILL);
    let _ = wait_with_deadline(&mut child, VANISHING);
    for (pid, _) in carrying(&token, child.id()) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
    outcome.map_err(Failed::from)
}

fn wait_with_deadline(child: &mut std::process::Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait().ok();
        }
        // std offers no wait with a timeout on a child; polled, bounded by the deadline.
        thread::sleep(Duration::from_millis(10));
    }
}
