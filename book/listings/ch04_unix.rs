//! Chapter 4: Unix domain sockets: a stream socket at a path, one in the abstract namespace, a
//! datagram socket, and a pair from `socketpair`.
//!
//! Run it with `cargo run -q -p book --example ch04_unix -- /tmp/socklab.sock`; the path must not
//! exist yet. With a second argument (`wait`), it stops before cleaning up, until you press Enter,
//! so that you can look at its sockets with `ss -x` and `lsof -U`.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/socklab.sock".into()));
    let wait = args.next().as_deref() == Some("wait");
    println!("pid {}", std::process::id());

    // ANCHOR: path
    // A Unix stream socket is named by a path in the file system. `bind` creates the file;
    // it fails with "Address already in use" if anything is already there.
    let listener = UnixListener::bind(&path)?;
    println!("listening on {:?}", listener.local_addr()?);
    let mut client = UnixStream::connect(&path)?;
    let (mut served, peer) = listener.accept()?;
    // The client did not bind, so it has no name: Unix sockets have no port to pick.
    println!("accepted a client named {peer:?}");
    client.write_all(b"hello over a path\n")?;
    let mut line = String::new();
    BufReader::new(&mut served).read_line(&mut line)?;
    print!("server read: {line}");
    // ANCHOR_END: path

    // ANCHOR: abstract
    // Linux only: a name in the abstract namespace starts with a zero byte. It is no file;
    // it goes away with the last socket that holds it.
    let name = SocketAddr::from_abstract_name(format!("socklab-{}", std::process::id()))?;
    let abstract_listener = UnixListener::bind_addr(&name)?;
    let _abstract_client = UnixStream::connect_addr(&name)?;
    let (_abstract_served, _) = abstract_listener.accept()?;
    println!("abstract: {:?}", abstract_listener.local_addr()?);
    // ANCHOR_END: abstract

    // ANCHOR: datagram
    // A datagram pair: like UDP, each send is one message, read whole; unlike UDP, nothing is
    // lost or reordered, because it never leaves this machine's kernel.
    let (left, right) = UnixDatagram::pair()?;
    left.send(b"one")?;
    left.send(b"two")?;
    let mut buffer = [0u8; 64];
    for _ in 0..2 {
        let n = right.recv(&mut buffer)?;
        println!("datagram: {:?}", String::from_utf8_lossy(&buffer[..n]));
    }
    // ANCHOR_END: datagram

    // ANCHOR: pair
    // socketpair(): two stream sockets already connected to each other, with no name at all.
    // A process makes the pair, then gives one end to a child or a thread.
    let (mut parent_end, mut child_end) = UnixStream::pair()?;
    let child = std::thread::spawn(move || -> std::io::Result<()> {
        let mut request = String::new();
        child_end.read_to_string(&mut request)?; // until the parent shuts down its side
        child_end.write_all(request.to_uppercase().as_bytes())
    });
    parent_end.write_all(b"hello from the parent")?;
    parent_end.shutdown(std::net::Shutdown::Write)?;
    let mut reply = String::new();
    parent_end.read_to_string(&mut reply)?;
    child.join().expect("the child thread does not panic")?;
    println!("pair: {reply}");
    // ANCHOR_END: pair

    if wait {
        println!("press Enter to end");
        std::io::stdin().lock().read_line(&mut String::new())?;
    }
    // ANCHOR: cleanup
    // Closing the listener does not remove its file: a later bind to the same path would fail.
    drop(listener);
    println!("after close, the path exists: {}", path.exists());
    std::fs::remove_file(&path)?;
    // ANCHOR_END: cleanup
    Ok(())
}
