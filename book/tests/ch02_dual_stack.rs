//! The dual-stack section's listing does what the section says: a name resolves to a list, a
//! refused address is passed over for the next, one `[::]` socket with IPV6_V6ONLY off hears an
//! IPv4 and an IPv6 client (the IPv4 one mapped), a mapped sender equals the IPv4 server only
//! after `to_canonical()`, and a link-local address carries its scope id. Every socket is on
//! loopback on a port the kernel picks.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

#[path = "parts/deadline.rs"]
mod deadline;

/// The listing ends by itself within a second or so (its link-local connects have a 1 s limit).
const DEADLINE: Duration = Duration::from_secs(20);

fn run_listing() -> String {
    let exe = std::env::current_exe().expect("the test's own path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from TARGET/PROFILE/deps")
        .join("examples")
        .join("ch02_dual_stack");
    let mut child = Command::new(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ch02_dual_stack runs (cargo test -p book builds it first)");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let status = deadline::wait_or_kill(&mut child, DEADLINE, "ch02_dual_stack");
    let text = reader.join().expect("the stdout reader");
    assert!(status.success(), "ch02_dual_stack failed: {status}\n{text}");
    text
}

#[test]
fn dual_stack_listing_shows_each_step() {
    let out = run_listing();
    let lines: Vec<&str> = out.lines().collect();
    let has = |prefix: &str, rest: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(prefix) && l.ends_with(rest))
    };
    // localhost resolves to loopback addresses only.
    assert!(has("localhost -> [", "]"), "{out}");
    // 127.0.0.1 is refused, ::1 takes the connection.
    assert!(has(
        "  127.0.0.1:",
        "Connection refused (os error 111), trying the next address"
    ));
    assert!(has("  connected to [::1]:", ""), "{out}");
    assert!(has("dual-stack socket bound to [::]:", ""), "{out}");
    // The IPv4 client is seen mapped, and to_canonical gives its real address back.
    let v4 = lines
        .iter()
        .find(|l| l.starts_with("from [::ffff:127.0.0.1]:"))
        .unwrap_or_else(|| panic!("no mapped sender in:\n{out}"));
    let (_, rest) = v4.split_once(": canonical ").unwrap();
    let (canonical, client) = rest.split_once(", client is ").unwrap();
    assert_eq!(canonical, client, "{out}");
    assert!(has("from [::1]:", ""), "{out}");
    // The trip: equal only once canonical.
    assert!(has("expected 127.0.0.1:", ""), "{out}");
    assert!(lines.contains(&"  from == expected: false"), "{out}");
    assert!(lines.contains(&"  canonical == expected: true"), "{out}");
    // Scope ids: lo is interface 1 on Linux.
    assert!(
        lines.contains(&"fe80::1%lo -> [fe80::1%1]:7000, scope_id 1"),
        "{out}"
    );
    assert!(lines.contains(&"by hand -> [fe80::1%1]:7000"), "{out}");
    assert!(
        lines.contains(&"connect to [fe80::1]:7000: Invalid argument (os error 22)"),
        "{out}"
    );
}
