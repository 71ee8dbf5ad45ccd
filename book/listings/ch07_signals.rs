//! Chapter 7: signals. What the Rust runtime does with `SIGPIPE`, a call interrupted by a signal
//! (`EINTR`), and a server that stops cleanly on Ctrl-C.
//!
//! `cargo run -q -p book --example ch07_signals -- sigpipe` writes to a closed peer;
//! `-- sigpipe-default` does the same with `SIGPIPE` back to its default action (it dies);
//! `-- eintr` shows a blocking read cut short by a signal;
//! `-- serve` listens on 127.0.0.1 (any port) until Ctrl-C or `kill`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

fn main() -> io::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("sigpipe") => sigpipe(),
        Some("sigpipe-default") => {
            // SAFETY: the default action is no handler: nothing of ours runs in it.
            unsafe { nix::sys::signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) }?;
            sigpipe()
        }
        Some("eintr") => eintr(),
        Some("serve") => serve(),
        _ => {
            eprintln!("usage: ch07_signals sigpipe | sigpipe-default | eintr | serve");
            std::process::exit(2);
        }
    }
}

// ANCHOR: sigpipe
fn sigpipe() -> io::Result<()> {
    // /proc/self/status lists the signals this process ignores, as a bit mask in hexadecimal:
    // bit 0 is signal 1, so SIGPIPE (13) is bit 12.
    let status = std::fs::read_to_string("/proc/self/status")?;
    let ignored = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .map(|mask| u64::from_str_radix(mask.trim(), 16).unwrap_or(0))
        .unwrap_or(0);
    println!("SIGPIPE ignored: {}", ignored & (1 << 12) != 0);

    let (mut ours, theirs) = UnixStream::pair()?;
    drop(theirs); // the peer closes
    // Rust's sockets send with the flag MSG_NOSIGNAL: the kernel refuses the write with EPIPE,
    // and raises no signal.
    match ours.write_all(b"anyone there?\n") {
        Ok(()) => println!("send: ok"),
        Err(e) => println!("send to a closed peer: {e} [{:?}]", e.kind()),
    }
    // A plain write(2), as C programs do (and as Rust does on pipes and files): the kernel
    // refuses it with EPIPE *and* raises SIGPIPE, whose default action ends the process.
    match nix::unistd::write(&ours, b"anyone there?\n") {
        Ok(n) => println!("write: {n} bytes"),
        Err(e) => println!("write to a closed peer: {} [{e:?}]", io::Error::from(e)),
    }
    Ok(())
}
// ANCHOR_END: sigpipe

extern "C" fn on_alarm(_: nix::libc::c_int) {
    // Nothing: the point is only that a handler ran.
}

// ANCHOR: eintr
fn eintr() -> io::Result<()> {
    // A handler for SIGALRM, without SA_RESTART: a blocking call that the signal interrupts
    // returns EINTR instead of being started again.
    let action = SigAction::new(
        SigHandler::Handler(on_alarm),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler does nothing, which is always safe in a signal handler.
    unsafe { sigaction(Signal::SIGALRM, &action) }?;
    nix::unistd::alarm::set(1); // SIGALRM in one second

    let (mut ours, _theirs) = UnixStream::pair()?; // no one will ever write to us
    let mut buffer = [0u8; 64];
    match ours.read(&mut buffer) {
        Ok(n) => println!("read {n} bytes"),
        Err(e) => println!("read: {e} [{:?}]", e.kind()),
    }
    Ok(())
}
// ANCHOR_END: eintr

// ANCHOR: serve
fn serve() -> io::Result<()> {
    // Block SIGINT and SIGTERM before any thread starts: every thread inherits the mask, so the
    // signals stay pending until a thread asks for them with sigwait.
    let mut stop_signals = SigSet::empty();
    stop_signals.add(Signal::SIGINT);
    stop_signals.add(Signal::SIGTERM);
    stop_signals.thread_block()?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening on {}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_ok() {
                let _ = (&stream).write_all(line.to_uppercase().as_bytes());
            }
        }
    });

    // The main thread sleeps here until Ctrl-C (SIGINT) or `kill PID` (SIGTERM). It is an
    // ordinary thread, not a handler, so it may do anything: print, remove files, flush logs.
    let signal = stop_signals.wait()?;
    println!("got {signal}, stopping");
    Ok(()) // exit status 0: stopped on request, not killed
}
// ANCHOR_END: serve
