//! The `support` crate's programs as children of the grader, where a check needs a process of
//! its own (its pid, its descriptors): each built once per run, started, and waited for until it
//! says it is ready.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::program::{Input, Run, Subject};
use crate::target;

/// How long a support program may take to say it is ready.
pub const READY: Duration = Duration::from_secs(10);

/// The support program `bin`, built the first time a check asks for it.
pub fn program(bin: &'static str) -> Result<Subject, String> {
    // One build at a time: Cargo would wait for its lock anyway, and a program asked for by
    // several checks at once is built once.
    static BUILT: Mutex<Vec<(&str, Result<Subject, String>)>> = Mutex::new(Vec::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, result)) = built.iter().find(|(name, _)| *name == bin) {
        return result.clone();
    }
    let result = target::build("support", bin, format!("support/src/bin/{bin}.rs"))
        .map_err(|e| format!("cannot build the support program {bin}: {e}"));
    built.push((bin, result.clone()));
    result
}

/// Starts the support program `bin` with `args`, behind `wrapper` if it is not empty (a program
/// such as `unshare -n` that runs the rest of its command line), and waits for a line of
/// standard output that starts with `ready`.
pub fn start(
    wrapper: &[&str],
    bin: &'static str,
    args: &[&str],
    ready: &str,
) -> Result<Run, String> {
    let program = program(bin)?;
    let run = match wrapper.split_first() {
        None => {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            Run::start(&program, &args, Input::Open)
        }
        Some((first, rest)) => {
            let outer = Subject {
                exe: first.into(),
                shown_as: first.to_string(),
            };
            let mut all: Vec<String> = rest.iter().map(|a| a.to_string()).collect();
            all.push(program.exe.display().to_string());
            all.extend(args.iter().map(|a| a.to_string()));
            Run::start(&outer, &all, Input::Open)
        }
    }
    .map_err(|e| format!("cannot start {}{bin}: {e}", wrapped(wrapper)))?;
    let deadline = Instant::now() + READY;
    let mut seen = 0;
    loop {
        let more = run.wait_stdout_lines(seen + 1, deadline);
        let lines = run.stdout_so_far();
        if lines.iter().any(|l| l.starts_with(ready)) {
            return Ok(run);
        }
        if !more {
            let outcome = run.finish(Instant::now());
            return Err(format!(
                "{}{bin} did not print a line starting {ready:?} in time; it printed {:?} and \
                 on standard error {:?}",
                wrapped(wrapper),
                outcome.stdout_lines(),
                outcome.stderr_text()
            ));
        }
        seen = lines.len();
    }
}

fn wrapped(wrapper: &[&str]) -> String {
    if wrapper.is_empty() {
        String::new()
    } else {
        format!("{} ", wrapper.join(" "))
    }
}
