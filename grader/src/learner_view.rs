//! What an ordinary user can see of a program, also when the grader runs as root.
//!
//! A learner reads `/proc/PID/fd` of their own program unless it made itself not dumpable
//! (`prctl(PR_SET_DUMPABLE, 0)`): its entries are then root's, and [`crate::watch::readable`]
//! tells by their owner. Root's own programs are root's either way, and root reads everything
//! (CAP_SYS_PTRACE), so the owner says nothing. Linux does tell a process without that capability:
//! it may read a non-dumpable process of its user only if it holds every capability the target
//! holds, and CAP_SYS_PTRACE besides. So, as root, a program is started without CAP_SYS_PTRACE
//! ([`run`]), and looked at from a thread that has given it up too ([`hidden`]): what that
//! thread cannot read, a learner could not either.

use std::io;
use std::thread;

use crate::program::Run;

/// The capability that lets root read any process's descriptors.
const CAP_SYS_PTRACE: u32 = 19;
/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Starts a program with `start` and hands it to `body`; as root, all of it on a thread of its
/// own whose bounding set lacks CAP_SYS_PTRACE, so that the program (which inherits the thread's
/// credentials) lacks it too. Credentials are per thread on Linux: the grader's other threads
/// keep theirs. The program's whole life is spent inside `body`, on the thread that started it:
/// a child asked to die with its parent (`PR_SET_PDEATHSIG`) dies with that very thread.
pub fn run<T: Send>(
    start: impl FnOnce() -> io::Result<Run> + Send,
    body: impl FnOnce(Run) -> T + Send,
) -> io::Result<T> {
    if !is_root() {
        return Ok(body(start()?));
    }
    thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: prctl with integer arguments, changing this thread's credentials only.
                let dropped = unsafe {
                    libc::prctl(
                        libc::PR_CAPBSET_DROP,
                        CAP_SYS_PTRACE as libc::c_ulong,
                        0,
                        0,
                        0,
                    )
                };
                if dropped != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(body(start()?))
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the program's thread panicked")))
    })
}

/// As root, for a program started by [`run`]: whether a learner could not read its
/// descriptors, judged by trying from a thread without CAP_SYS_PTRACE. `None` when there is
/// nothing to judge this way (not root, or a program started with every capability).
pub fn hidden(pid: i32) -> Option<bool> {
    if !is_root() || holds_ptrace_capability(pid)? {
        return None;
    }
    thread::scope(|scope| {
        scope
            .spawn(|| {
                give_up_ptrace_capability().ok()?;
                let mut entries = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
                Some(match entries.next() {
                    Some(Ok(entry)) => std::fs::read_link(entry.path()).is_err(),
                    _ => true,
                })
            })
            .join()
            .ok()
            .flatten()
    })
}

/// Whether the process's permitted set holds CAP_SYS_PTRACE (`CapPrm` in its status).
fn holds_ptrace_capability(pid: i32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let permitted = status.lines().find_map(|l| l.strip_prefix("CapPrm:"))?;
    let bits = u64::from_str_radix(permitted.trim(), 16).ok()?;
    Some(bits & (1 << CAP_SYS_PTRACE) != 0)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Takes CAP_SYS_PTRACE out of this thread's effective set (its other threads keep theirs).
fn give_up_ptrace_capability() -> io::Result<()> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget and capset read and write exactly one header and two data words.
    unsafe {
        if libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        data[0].effective &= !(1 << CAP_SYS_PTRACE);
        if libc::syscall(libc::SYS_capset, &header, data.as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
