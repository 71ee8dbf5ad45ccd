//! The verdict on a [`Conversation`]: expected against actual, and the mistake named, most basic
//! cause first.

use crate::diagnose::{Stuck, error_explained, general_hint, split_writes};
use crate::failure::{Failure, describe, plural, quote_lines};
use crate::hint::Hint;
use crate::program::Ending;

use super::{Conversation, Diagnosis, ServerEvent, Symptom};

impl<E: ServerEvent> Conversation<'_, E> {
    /// One connection, every reply and last word printed, ended by a half-close (an orderly end
    /// of stream, not a reset), exit 0; and the server received each input line, in order.
    pub fn expect_success(&self) -> Result<(), Box<Failure>> {
        let sent = self.sent();
        let wanted: Vec<Vec<u8>> = self.lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        let ok = self.outcome.ending == Ending::Exited(0)
            && self.conns.len() == 1
            && self.outcome.stdout_lines() == sent
            && self.half_closed()
            && !self.reset()
            && !sent.is_empty()
            && self.received() == wanted;
        if ok {
            return Ok(());
        }
        let expected = format!(
            "one connection, on which the server receives {}, ended by a half-close; exit \
             status 0; and on standard output every {} the server sent: {}",
            self.protocol.request_rule,
            self.protocol.unit,
            quote_lines(&sent)
        );
        let received = self.received();
        let mut actual = format!(
            "{}, on which the server received {}; {}",
            plural(self.conns.len(), "connection", "connections"),
            self.counted(&received),
            describe(self.outcome)
        );
        if self.aborted() {
            actual.push_str("; the server read a reset (RST) instead of an end of stream");
        } else if self.reset() {
            actual.push_str(
                "; the server read an end of stream, then a reset (RST) when it wrote its last \
                 words to a program that had closed its socket",
            );
        } else if !self.half_closed() && !self.conns.is_empty() {
            actual.push_str("; the server read no end of stream while the program ran");
        }
        let diagnosis = self.diagnose();
        if let Some(why) = diagnosis.why {
            actual.push_str("; ");
            actual.push_str(&why);
        }
        Err(self.fail(expected, actual, diagnosis.hint))
    }

    /// The mistake, most basic cause first: how the program ended, whether it connected, what
    /// only this exercise can get wrong, what it printed that the server never sent, how far the
    /// conversation got, and last how it ended the conversation.
    pub fn diagnose(&self) -> Diagnosis {
        let chapter = self.chapter();
        if let Some(hint) = general_hint(self.outcome, chapter) {
            return Diagnosis::plain(hint);
        }
        let explained = error_explained(self.outcome);
        let printed = self.outcome.stdout_lines();
        let sent = self.sent();
        if self.conns.len() > 1 {
            return Diagnosis::plain(Hint::TcpConnectionPerLine { chapter });
        }
        if self.conns.is_empty() {
            let hint = if !printed.is_empty() {
                Hint::MadeUpReplies { chapter }
            } else if self.about_the_address {
                Hint::AddressFamily { chapter }
            } else {
                Hint::FailedNeedlessly { chapter }
            };
            return Diagnosis {
                hint,
                why: explained,
            };
        }
        if let Some(diagnosis) = (self.protocol.particular)(self) {
            return diagnosis;
        }
        let unsent_empty = |p: &&String| p.is_empty() && !sent.contains(p);
        if printed.iter().any(|p| unsent_empty(&p)) {
            let without: Vec<&String> = printed.iter().filter(|p| !unsent_empty(p)).collect();
            if without.iter().copied().eq(sent.iter()) {
                return Diagnosis::because(
                    Hint::WrongOutput { chapter },
                    "every reply is there, and empty lines besides: one newline per reply".into(),
                );
            }
        }
        // A piece of a reply (an empty piece too: a read that got only a newline or a header).
        let fragment =
            |p: &String| !sent.contains(p) && sent.iter().any(|s| s.contains(p.as_str()));
        if printed.iter().any(fragment) {
            return Diagnosis::plain(self.protocol.one_read.clone());
        }
        if printed.iter().any(|p| !sent.contains(p)) {
            return Diagnosis::plain(Hint::MadeUpReplies { chapter });
        }
        if let Some(stuck) = self.progress().stuck() {
            return self.stuck(stuck);
        }
        if self.outcome.ending != Ending::Exited(0) {
            return Diagnosis {
                hint: Hint::FailedNeedlessly { chapter },
                why: explained,
            };
        }
        if self.aborted() {
            return Diagnosis::plain(Hint::TcpReset { chapter });
        }
        let missing = sent.iter().any(|s| !printed.contains(s));
        // None of the last words printed: it left at the end of its input. Some: it left before
        // the server closed, unless it stayed to the close.
        let left = printed.len() <= self.lines.len() || !self.read_to_the_close();
        if missing && sent.starts_with(&printed) && left {
            return Diagnosis::plain(Hint::TcpLeftEarly { chapter });
        }
        if missing {
            // It read until the server closed, and still lost replies: ones that came in one
            // read with another, and were thrown away with the rest of it.
            return Diagnosis::plain(self.protocol.one_read.clone());
        }
        if self.received().len() != self.lines.len() || self.received() != self.lines_as_bytes() {
            return Diagnosis::plain(Hint::WrongRequests { chapter });
        }
        Diagnosis::plain(Hint::WrongOutput { chapter })
    }

    fn lines_as_bytes(&self) -> Vec<Vec<u8>> {
        self.lines.iter().map(|l| l.as_bytes().to_vec()).collect()
    }

    /// "3 frames: "a", "b", "c"", in this exercise's unit.
    fn counted(&self, requests: &[Vec<u8>]) -> String {
        let unit = self.protocol.unit;
        let listed = quote_lines(requests);
        match listed.split_once(": ") {
            Some((_, list)) => format!(
                "{}: {list}",
                plural(requests.len(), unit, &format!("{unit}s"))
            ),
            None => format!("no {unit}"),
        }
    }

    /// A program the grader had to stop, by how far its conversation got.
    fn stuck(&self, stuck: Stuck) -> Diagnosis {
        let chapter = self.chapter();
        let unit = self.protocol.unit;
        let due = self.lines.len();
        match stuck {
            Stuck::NoWholeRequest => Diagnosis::because(
                Hint::WrongRequests { chapter },
                self.protocol.no_whole_request.to_string(),
            ),
            Stuck::SplitWrites { received, median } => Diagnosis::because(
                Hint::SplitWrites { chapter },
                format!(
                    "the server had received {received} of {due} {unit}s, most of them {} ms or \
                     more after the one before, when the grader stopped the program",
                    median.as_millis()
                ),
            ),
            Stuck::Midway { received } => Diagnosis::because(
                Hint::Hung { chapter },
                format!(
                    "the server had received {received} of {due} {unit}s and sent {}, and \
                     waited for the next {unit} when the grader stopped the program",
                    plural(self.progress().answered, "reply", "replies")
                ),
            ),
            Stuck::RepliesUnprinted { printed } => Diagnosis::because(
                Hint::Hung { chapter },
                format!(
                    "the server answered all {due} {unit}s, and the program printed {printed} of \
                     the replies, and then waited"
                ),
            ),
            Stuck::NoHalfClose => Diagnosis::because(
                Hint::TcpNoHalfClose { chapter },
                format!(
                    "the server answered all {due} {unit}s and then waited for the program's \
                     end of stream"
                ),
            ),
            Stuck::NoDrain => Diagnosis::because(
                Hint::Hung { chapter },
                "the program half-closed, the server sent its last words and closed the \
                 connection, and the program did not end"
                    .to_string(),
            ),
        }
    }

    /// The server received every line, but each a delayed acknowledgement after the one before.
    pub fn expect_at_once(&self) -> Result<(), Box<Failure>> {
        let Some(median) = split_writes(&self.received_at()) else {
            return Ok(());
        };
        let unit = self.protocol.unit;
        Err(self.fail(
            format!("each {unit} to reach the server at once (well under a millisecond here)"),
            format!(
                "the server received most {unit}s {} ms or more after the one before ({:.1} s \
                 for {} {unit}s)",
                median.as_millis(),
                self.outcome.elapsed.as_secs_f64(),
                self.lines.len()
            ),
            Hint::SplitWrites {
                chapter: self.chapter(),
            },
        ))
    }

    /// Nothing on standard output, exactly one line on standard error, exit status 1, in time.
    /// `likely` names the scenario's own mistake for a symptom, where it has one.
    pub fn expect_reported_error(
        &self,
        what: &str,
        likely: impl Fn(Symptom) -> Option<Hint>,
    ) -> Result<(), Box<Failure>> {
        let outcome = self.outcome;
        let chapter = self.chapter();
        let stderr: Vec<String> = outcome.stderr.iter().map(|p| p.text.clone()).collect();
        let stderr_lines = stderr.iter().filter(|l| !l.trim().is_empty()).count();
        let hint = if let Some(hint) = general_hint(outcome, chapter) {
            // Allocating what a lying peer announced can abort the program.
            match hint {
                Hint::Crashed { .. } => likely(Symptom::Crashed).or(Some(hint)),
                _ => Some(hint),
            }
        } else if outcome.ending == Ending::StillRunning {
            likely(Symptom::StillRunning).or(Some(Hint::Hung { chapter }))
        } else if !outcome.stdout.is_empty() {
            likely(Symptom::Printed).or(Some(Hint::MadeUpReplies { chapter }))
        } else if outcome.ending != Ending::Exited(1) || stderr_lines != 1 {
            Some(Hint::ErrorNotReported { chapter })
        } else {
            None
        };
        let Some(hint) = hint else {
            return Ok(());
        };
        let mut actual = format!(
            "{}; standard error: {}",
            describe(outcome),
            quote_lines(&stderr)
        );
        if let Some(why) = error_explained(outcome) {
            actual.push_str("; ");
            actual.push_str(&why);
        }
        Err(self.fail(
            format!(
                "{what}: nothing on standard output, exactly one line on standard error, exit \
                 status 1"
            ),
            actual,
            hint,
        ))
    }
}
