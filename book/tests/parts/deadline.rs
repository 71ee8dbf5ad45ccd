//! Waiting for a listing to end, with a deadline: a listing that hangs is killed and fails its
//! test, instead of hanging the test run.

use std::process::{Child, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

/// Waits for `child` to exit within `limit`; kills it, reaps it and panics at the deadline.
pub fn wait_or_kill(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => {
                // std has no wait with a timeout on a child: polled, bounded by the deadline.
                thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not end within {} s", limit.as_secs());
            }
            Err(e) => panic!("cannot wait for {what}: {e}"),
        }
    }
}
