//! What a failing check tells the learner: the scenario, the command, a short transcript of both
//! sides, expected against actual, and one hint.

use std::fmt;
use std::time::Instant;

use crate::hint::{Chapter, Hint};
use crate::program::{Ending, Outcome};

/// A failed check, ready to print.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What the check set up, in one sentence.
    pub scenario: String,
    /// The command line that ran.
    pub command: String,
    pub transcript: Transcript,
    pub expected: String,
    pub actual: String,
    pub hint: Hint,
}

impl Failure {
    /// A failure of the grader's own set-up, not of the learner's program.
    pub fn setup(chapter: Chapter, message: String) -> Box<Failure> {
        Box::new(Failure {
            scenario: "setting up the check".into(),
            command: String::new(),
            transcript: Transcript::default(),
            expected: "the grader's reference side to start".into(),
            actual: message,
            hint: Hint::Setup { chapter },
        })
    }
}

/// What one run of a client showed: the parts every client check's failure is made of.
pub struct RunReport<'a> {
    pub scenario: &'a str,
    pub outcome: &'a Outcome,
    /// The lines the program was given on standard input.
    pub lines: &'a [String],
    /// What the grader saw of the program's sockets while it ran, if it looked.
    pub seen: Option<&'a str>,
}

impl RunReport<'_> {
    /// The failure of this run: its command with its input, and `transcript` of both sides.
    pub fn fail(
        &self,
        transcript: Transcript,
        expected: String,
        mut actual: String,
        hint: Hint,
    ) -> Box<Failure> {
        if let Some(seen) = self.seen {
            actual.push_str("; ");
            actual.push_str(seen);
        }
        Box::new(Failure {
            scenario: self.scenario.to_string(),
            command: format!(
                "{}   (standard input: {})",
                self.outcome.command,
                quote_lines(self.lines)
            ),
            transcript,
            expected,
            actual,
            hint,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scenario: {}", self.scenario)?;
        writeln!(f, "command:  {}", self.command)?;
        if !self.transcript.entries.is_empty() {
            writeln!(f, "transcript (ms since the program started):")?;
            write!(f, "{}", self.transcript)?;
        }
        writeln!(f, "expected: {}", self.expected)?;
        writeln!(f, "actual:   {}", self.actual)?;
        write!(f, "hint:     {}", self.hint)
    }
}

/// Who did something, in a transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Stdin,
    Server,
    Stdout,
    Stderr,
    Exit,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Stdin => "stdin ",
            Side::Server => "server",
            Side::Stdout => "stdout",
            Side::Stderr => "stderr",
            Side::Exit => "exit  ",
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    /// Milliseconds since the program started; `None` for standard input, written at once.
    pub at_ms: Option<u128>,
    pub side: Side,
    pub text: String,
}

/// Both sides of a run, in time order, cut to a readable length.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    entries: Vec<Entry>,
    started: Option<Instant>,
}

/// At most this many lines are shown; the middle of a longer transcript is left out.
const MAX_LINES: usize = 24;
/// At most this many lines of standard input are shown in a transcript.
const MAX_INPUT_LINES: usize = 5;
/// Longer texts are cut, with their length said.
const MAX_TEXT: usize = 90;

impl Transcript {
    /// The program's side: its input, what it printed and how it ended.
    pub fn of(outcome: &Outcome) -> Transcript {
        let mut t = Transcript {
            entries: Vec::new(),
            started: Some(outcome.started),
        };
        // A long input is its first and last lines: what happened to the program matters more
        // than a thousand lines it was given.
        let input = &outcome.stdin;
        let cut = input.len() > MAX_INPUT_LINES;
        for (i, line) in input.iter().enumerate() {
            let text = if !cut || i < MAX_INPUT_LINES - 2 || i == input.len() - 1 {
                quote(line.as_bytes())
            } else if i == MAX_INPUT_LINES - 2 {
                format!(
                    "… ({} more lines of input)",
                    input.len() - MAX_INPUT_LINES + 1
                )
            } else {
                continue;
            };
            t.entries.push(Entry {
                at_ms: None,
                side: Side::Stdin,
                text,
            });
        }
        for p in &outcome.stdout {
            t.add(p.at, Side::Stdout, quote(p.text.as_bytes()));
        }
        for p in &outcome.stderr {
            t.add(p.at, Side::Stderr, p.text.clone());
        }
        let ending = match outcome.ending {
            Ending::Exited(code) => format!("status {code}"),
            Ending::Signalled(signal) => format!("killed by signal {signal}"),
            Ending::StillRunning => "still running: the grader stopped it here".to_string(),
        };
        t.add(outcome.started + outcome.elapsed, Side::Exit, ending);
        t
    }

    /// Adds something the server side did.
    pub fn server(&mut self, at: Instant, text: impl Into<String>) {
        self.add(at, Side::Server, text.into());
    }

    fn add(&mut self, at: Instant, side: Side, text: String) {
        let at_ms = self
            .started
            .map(|start| at.saturating_duration_since(start).as_millis());
        self.entries.push(Entry { at_ms, side, text });
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries = self.entries.clone();
        // Stable: what happened at the same millisecond keeps its order of recording.
        entries.sort_by_key(|e| (e.at_ms.map_or(0, |ms| ms + 1), e.side == Side::Exit));
        let shown: Vec<Option<&Entry>> = if entries.len() > MAX_LINES {
            let head = MAX_LINES - 8;
            entries[..head]
                .iter()
                .map(Some)
                .chain(std::iter::once(None))
                .chain(entries[entries.len() - 7..].iter().map(Some))
                .collect()
        } else {
            entries.iter().map(Some).collect()
        };
        for entry in shown {
            match entry {
                Some(e) => {
                    let at = e.at_ms.map_or("     ".to_string(), |ms| format!("{ms:>5}"));
                    writeln!(f, "  {at}  {}  {}", e.side.label(), e.text)?;
                }
                None => writeln!(
                    f,
                    "         ...    ({} more lines)",
                    entries.len() - MAX_LINES + 1
                )?,
            }
        }
        Ok(())
    }
}

/// Bytes as a quoted, escaped string, cut when long.
pub fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let chars = text.chars().count();
    if chars > MAX_TEXT {
        let head: String = text.chars().take(MAX_TEXT - 20).collect();
        format!("\"{}\"… ({} bytes)", head.escape_debug(), bytes.len())
    } else {
        format!("\"{}\"", text.escape_debug())
    }
}

/// A list of lines, quoted, for "expected" and "actual".
pub fn quote_lines<S: AsRef<[u8]>>(lines: &[S]) -> String {
    if lines.is_empty() {
        return "nothing".to_string();
    }
    let count = if lines.len() == 1 {
        "1 line".to_string()
    } else {
        format!("{} lines", lines.len())
    };
    // The first lines and the last one, with a count of what is left out between them.
    if lines.len() > 6 {
        let head: Vec<String> = lines[..4].iter().map(|l| quote(l.as_ref())).collect();
        let last = quote(lines[lines.len() - 1].as_ref());
        format!(
            "{count}: {}, … ({} more) …, {last}",
            head.join(", "),
            lines.len() - 5
        )
    } else {
        let shown: Vec<String> = lines.iter().map(|l| quote(l.as_ref())).collect();
        format!("{count}: {}", shown.join(", "))
    }
}

/// "1 reply", "3 replies".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// How the program ended and what it printed, in one line.
pub fn describe(outcome: &Outcome) -> String {
    let ending = match outcome.ending {
        Ending::Exited(code) => format!(
            "exit status {code} after {:.1} s",
            outcome.elapsed.as_secs_f64()
        ),
        Ending::Signalled(signal) => format!("killed by signal {signal}"),
        Ending::StillRunning => format!("still running after {} s", outcome.elapsed.as_secs()),
    };
    format!(
        "{ending}; standard output: {}",
        quote_lines(&outcome.stdout_lines())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_keep_their_ends_and_say_what_is_left_out() {
        let lines: Vec<String> = (1..=1000).map(|i| format!("line {i}")).collect();
        let shown = quote_lines(&lines);
        assert!(shown.starts_with("1000 lines: \"line 1\""), "{shown}");
        assert!(shown.contains("(995 more)"), "{shown}");
        assert!(shown.ends_with("\"line 1000\""), "{shown}");
        assert_eq!(quote_lines(&lines[..2]), "2 lines: \"line 1\", \"line 2\"");
    }
}
