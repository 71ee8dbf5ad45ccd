//! # `tcp_ipv4_only`: known-bad, IPv4 only
//!
//! Known-bad: the grader must reject it. It resolves HOST and connects only to its first IPv4
//! address, so an IPv6 literal such as ::1 (or a name with only IPv6 addresses) fails.
//!
//! The mistake: assuming IPv4. A host's addresses may be IPv6, and a client should try each of them
//! in turn, as `TcpStream::connect` does.
//!
//! Everything else is as the contract says. Symptom: given HOST = ::1, it prints "tcp_client: ::1
//! has no IPv4 address" and exits 1 at once, without connecting.
//!
//! Contract: `tcp_client HOST PORT`, as in `exercises/tcp_client.rs` (chapter 3, "TCP").
//!
//! selftest: tcp_client rejects with AddressFamily

mod tcp_parts;

fn main() -> std::process::ExitCode {
    tcp_parts::main(tcp_parts::Mistake::Ipv4Only)
}
