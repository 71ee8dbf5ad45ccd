//! What a child prints, line by line, as it prints it: a thread per stream reads the pipe into a
//! shared list of time-stamped lines that the grader can wait on.

use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Instant;

/// A line printed by the child, and when the grader read it.
#[derive(Clone, Debug)]
pub struct Printed {
    pub at: Instant,
    pub text: String,
}

/// Lines a stream has printed so far, shared between its reader thread and the grader.
#[derive(Default)]
pub(crate) struct Lines {
    state: Mutex<LinesState>,
    changed: Condvar,
}

#[derive(Default)]
pub(crate) struct LinesState {
    lines: Vec<Printed>,
    /// Bytes after the last newline.
    partial: Vec<u8>,
    closed: bool,
}

impl Lines {
    pub(crate) fn pump(self: Arc<Self>, mut from: impl Read + Send + 'static) {
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = from.read(&mut buf).unwrap_or(0);
                let mut state = self.state.lock().unwrap();
                if n == 0 {
                    // End of the pipe: every holder of its write end has exited or closed it.
                    if !state.partial.is_empty() {
                        let text = String::from_utf8_lossy(&state.partial).into_owned();
                        state.partial.clear();
                        state.lines.push(Printed {
                            at: Instant::now(),
                            text,
                        });
                    }
                    state.closed = true;
                    self.changed.notify_all();
                    return;
                }
                state.partial.extend_from_slice(&buf[..n]);
                while let Some(nl) = state.partial.iter().position(|&b| b == b'\n') {
                    let mut line: Vec<u8> = state.partial.drain(..=nl).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    let text = String::from_utf8_lossy(&line).into_owned();
                    state.lines.push(Printed {
                        at: Instant::now(),
                        text,
                    });
                }
                self.changed.notify_all();
            }
        });
    }

    pub(crate) fn wait_for(&self, count: usize, deadline: Instant) -> bool {
        let mut state = self.state.lock().unwrap();
        while state.lines.len() < count && !state.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
        state.lines.len() >= count
    }

    /// Waits a little for the reader to reach the end of the pipe, so that what a process wrote
    /// just before exiting is not lost.
    pub(crate) fn wait_closed(&self, deadline: Instant) {
        let mut state = self.state.lock().unwrap();
        while !state.closed {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
    }

    /// Whether every writer of the pipe has closed it.
    #[cfg(test)]
    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().unwrap().closed
    }

    pub(crate) fn snapshot_len(&self) -> usize {
        self.state.lock().unwrap().lines.len()
    }

    pub(crate) fn snapshot(&self) -> Vec<Printed> {
        let state = self.state.lock().unwrap();
        let mut lines = state.lines.clone();
        if !state.partial.is_empty() {
            lines.push(Printed {
                at: Instant::now(),
                text: String::from_utf8_lossy(&state.partial).into_owned(),
            });
        }
        lines
    }
}
