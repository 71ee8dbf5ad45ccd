//! Known bad (echo_server): one thread, non-blocking sockets and `poll(2)`, but one buffer for
//! the line being read, shared by every connection: half a line from one client and the rest of
//! a line from another make one line, echoed to whichever client sent the newline.
//!
//! selftest: echo_server rejects with EchoMixedUp

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::ExitCode;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    eof: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = match args.as_slice() {
        [] => 0,
        [flag, port] if flag == "--port" => match port.parse() {
            Ok(port) => port,
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    match run(port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    listener.set_nonblocking(true)?;
    let mut conns: Vec<Conn> = Vec::new();
    let mut buf = [0u8; 4096];
    // The mistake: one line buffer for all the connections.
    let mut line: Vec<u8> = Vec::new();
    loop {
        let events: Vec<PollFlags> = {
            let mut fds = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            for c in &conns {
                let mut want = PollFlags::empty();
                if !c.eof {
                    want |= PollFlags::POLLIN;
                }
                if !c.out.is_empty() {
                    want |= PollFlags::POLLOUT;
                }
                fds.push(PollFd::new(c.stream.as_fd(), want));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            fds.iter()
                .map(|f| f.revents().unwrap_or(PollFlags::empty()))
                .collect()
        };
        let mut keep = Vec::with_capacity(conns.len());
        for (mut c, ev) in conns.drain(..).zip(events[1..].iter().copied()) {
            let mut broken = false;
            if !ev.is_empty() && !c.eof {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        c.eof = true;
                        c.out.append(&mut line);
                    }
                    Ok(n) => {
                        line.extend_from_slice(&buf[..n]);
                        while let Some(end) = line.iter().position(|&b| b == b'\n') {
                            c.out.extend(line.drain(..=end));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => broken = true,
                }
            }
            while !broken && !c.out.is_empty() {
                match c.stream.write(&c.out) {
                    Ok(n) => {
                        c.out.drain(..n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => broken = true,
                }
            }
            if broken {
                continue;
            }
            if c.eof && c.out.is_empty() {
                let _ = c.stream.shutdown(Shutdown::Write);
                continue;
            }
            keep.push(c);
        }
        conns = keep;
        if events[0].contains(PollFlags::POLLIN) {
            loop {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(true)?;
                        conns.push(Conn {
                            stream,
                            out: Vec::new(),
                            eof: false,
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        eprintln!("echo_server: accept: {e}");
                        break;
                    }
                }
            }
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: echo_server [--port P]");
    ExitCode::from(2)
}
