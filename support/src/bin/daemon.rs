//! `daemon`: a tiny daemon that writes `PID;PORT` to a pid file, for chapter 7. See `daemon --help`.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{
    ForkResult, chdir, close, dup2_stderr, dup2_stdin, dup2_stdout, fork, pipe, setsid,
};
use support::cli;
use support::daemon::{self, Verdict};

/// A daemon that listens on a loopback TCP port and says where it is in a pid file.
///
/// It writes `PID;PORT` and a newline to FILE (atomically: a temporary file, then a rename),
/// answers `status` with `running PID PORT` on its port, and removes FILE when it stops on
/// Ctrl-C or SIGTERM. It refuses to start while FILE names a daemon that runs.
///
/// In the foreground its first line is `listening on ADDR:PORT`, and each connection's end is
/// logged on standard error. With --detach it becomes a real daemon: it forks, starts a new
/// session, forks again, moves to `/`, and sends its standard streams to /dev/null; the command
/// returns once the pid file is written.
#[derive(Parser, Debug)]
#[command(name = "daemon", version)]
struct Args {
    /// The pid file to write.
    #[arg(long, value_name = "FILE")]
    pidfile: PathBuf,

    /// The port to listen on (on 127.0.0.1). 0 lets the system pick a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Detach from the terminal and run in the background.
    #[arg(long)]
    detach: bool,
}

fn main() -> ExitCode {
    cli::run_main("daemon", || {
        let args = Args::parse();
        // After `chdir("/")` a relative path would mean something else: fix it now.
        let pidfile = std::path::absolute(&args.pidfile)
            .with_context(|| format!("bad pid file name {}", args.pidfile.display()))?;
        refuse_if_running(&pidfile)?;
        if args.detach {
            detach(&pidfile, args.port)
        } else {
            run(&pidfile, args.port, &mut None)
        }
    })
}

fn refuse_if_running(pidfile: &Path) -> anyhow::Result<()> {
    match daemon::check(pidfile, Duration::from_secs(2)) {
        Ok(Verdict::Running { pid, port }) => bail!(
            "{} names a daemon that is running (pid {pid}, port {port}): not starting another",
            pidfile.display()
        ),
        // The check could not finish (say, the pid file or the process's descriptors cannot be
        // read): a daemon may be running that we cannot see into. Overwriting its pid file would
        // lose it, so refuse and let a person decide.
        Err(e) => bail!(
            "cannot tell whether {} names a running daemon ({e}): not starting; remove the file \
             if you are sure none runs",
            pidfile.display()
        ),
        // No file, or a stale one: ours will replace it.
        Ok(_) => Ok(()),
    }
}

/// The double fork. The first child calls `setsid` to leave our session and terminal; it is then
/// a session leader, which could acquire a terminal again by opening one, so it forks once more
/// and exits: the grandchild is in a session with no terminal and can never get one. We reap the
/// first child at once (no zombie), and wait on a pipe until the grandchild says it is ready (or
/// why it is not), so that the pid file exists when this command returns.
fn detach(pidfile: &Path, port: u16) -> anyhow::Result<()> {
    let (ready_read, ready_write) = pipe().context("cannot make a pipe")?;
    // SAFETY: no thread has been started yet, so the child is a full copy of a one-thread process.
    match unsafe { fork() }.context("cannot fork")? {
        ForkResult::Parent { child } => {
            drop(ready_write);
            waitpid(child, None).context("cannot wait for the first child")?;
            let mut report = String::new();
            File::from(ready_read)
                .read_to_string(&mut report)
                .context("cannot read the daemon's report")?;
            match report.strip_prefix("ok ") {
                Some(pid) => {
                    cli::say(format!("started daemon {}", pid.trim()))?;
                    Ok(())
                }
                None if report.is_empty() => bail!("the daemon died before it was ready"),
                None => bail!("{}", report.trim_end()),
            }
        }
        ForkResult::Child => {
            drop(ready_read);
            setsid().context("cannot start a new session")?;
            // SAFETY: still one thread.
            match unsafe { fork() }.context("cannot fork again")? {
                ForkResult::Parent { .. } => std::process::exit(0),
                ForkResult::Child => {}
            }
            let keep = ready_write.as_raw_fd();
            let mut ready = Some(File::from(ready_write));
            match become_daemon(keep).and_then(|()| run(pidfile, port, &mut ready)) {
                Ok(()) => Ok(()),
                Err(e) => {
                    // Standard error is /dev/null now: the launcher prints it.
                    if let Some(ready) = ready.as_mut() {
                        let _ = write!(ready, "{e:#}");
                    }
                    std::process::exit(1);
                }
            }
        }
    }
}

/// `chdir("/")` so that we keep no folder busy (and unmountable), standard streams to /dev/null
/// so that nothing we print reaches a terminal or a pipe somebody waits on, and every other
/// inherited descriptor (but `keep`, the pipe to the launcher) closed, so that we hold nothing
/// open on behalf of whoever started us.
fn become_daemon(keep: RawFd) -> anyhow::Result<()> {
    chdir("/").context("cannot change to /")?;
    let null: OwnedFd = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("cannot open /dev/null")?
        .into();
    dup2_stdin(&null).context("cannot redirect standard input")?;
    dup2_stdout(&null).context("cannot redirect standard output")?;
    dup2_stderr(&null).context("cannot redirect standard error")?;
    drop(null);
    let inherited: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .context("cannot list our descriptors")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2 && fd != keep)
        .collect();
    for fd in inherited {
        // Nothing in this one-thread process uses these; the one `read_dir` used is closed
        // already, and closing it again fails harmlessly with EBADF.
        let _ = close(fd);
    }
    Ok(())
}

/// Binds, writes the pid file, and serves until SIGTERM or SIGINT, which remove the pid file.
fn run(pidfile: &Path, port: u16, ready: &mut Option<File>) -> anyhow::Result<()> {
    // Blocked before any thread starts, so that every thread inherits the mask and only the
    // waiting thread below ever takes the signals (see `support::signals`).
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    signals.thread_block().context("cannot block signals")?;

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot bind {addr}"))?;
    let local = listener.local_addr()?;
    let pid = std::process::id() as i32;
    daemon::write_pid_file(pidfile, pid, local.port())
        .with_context(|| format!("cannot write {}", pidfile.display()))?;

    let file = pidfile.to_path_buf();
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let signal = signals.wait();
            let _ = daemon::remove_pid_file(&file, pid);
            eprintln!("daemon: stopping ({signal:?}); removed {}", file.display());
            std::process::exit(if signal.is_ok() { 0 } else { 1 });
        })
        .context("cannot start the signal thread")?;

    cli::announce(local)?;
    // Closing our end of the pipe (the drop) is what lets the launcher's read end.
    if let Some(mut ready) = ready.take() {
        write!(ready, "ok {pid}").context("cannot tell the launcher")?;
    }
    let served = daemon::serve(listener, pid).context("serving failed");
    let _ = daemon::remove_pid_file(pidfile, pid);
    served
}
