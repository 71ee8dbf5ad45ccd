//! One daemon at a time: take a lock that lives as long as the process, and only then write the
//! pid file, atomically. It "serves" until its standard input ends (Ctrl-D), then cleans up.
//!
//! Run: `cargo run -q -p book --example ch07_single -- /tmp/single.pid`

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// `PIDFILE` + `suffix`, in the same folder.
fn beside(pidfile: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(pidfile.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

// ANCHOR: lock
/// Takes the exclusive lock on `PIDFILE.lock`, or `None` when another process holds it. The
/// lock lasts as long as the returned value: the kernel releases it when the file is closed,
/// which happens when the process exits, however it exits (even `kill -9`).
fn take_lock(pidfile: &Path) -> io::Result<Option<Flock<File>>> {
    // Create the lock file if need be, but never truncate or remove it: the lock is on this
    // very file (its inode), and everyone must lock the same one.
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(beside(pidfile, ".lock"))?;
    // LOCK_EX | LOCK_NB: exclusive, and fail at once instead of waiting for the holder.
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(e.into()),
    }
}
// ANCHOR_END: lock

// ANCHOR: atomic
/// Writes `PID;PORT\n` so that a reader sees the old file or the whole new one, never a part:
/// a temporary file in the same folder, flushed to disk, then renamed over the pid file.
fn write_pid_file(pidfile: &Path, pid: u32, port: u16) -> io::Result<()> {
    let temporary = beside(pidfile, &format!(".tmp.{pid}"));
    let mut file = File::create(&temporary)?;
    file.write_all(format!("{pid};{port}\n").as_bytes())?;
    file.sync_all()?;
    // rename(2) swaps the name in one step; it cannot cross file systems, hence the same folder.
    fs::rename(&temporary, pidfile)
}
// ANCHOR_END: atomic

fn run(pidfile: &Path) -> io::Result<ExitCode> {
    // ANCHOR: main
    let Some(_lock) = take_lock(pidfile)? else {
        println!("another instance holds the lock: not starting");
        return Ok(ExitCode::FAILURE);
    };
    // We are the only one now: nobody else can be between "check" and "write".
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    write_pid_file(pidfile, std::process::id(), port)?;
    println!("listening on {}", listener.local_addr()?);
    // A real daemon would serve here. This one waits for the end of its standard input.
    io::stdin().read_to_end(&mut Vec::new())?;
    fs::remove_file(pidfile)?;
    println!("stopped; removed {}", pidfile.display());
    Ok(ExitCode::SUCCESS)
    // `_lock` is dropped here, after the pid file is gone: the lock is released.
    // ANCHOR_END: main
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pidfile] = args.as_slice() else {
        eprintln!("usage: ch07_single PIDFILE");
        return ExitCode::from(2);
    };
    run(Path::new(pidfile)).unwrap_or_else(|e| {
        eprintln!("ch07_single: {e}");
        ExitCode::FAILURE
    })
}
