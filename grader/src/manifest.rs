//! The one list of exercises: name, chapter, the section of the book that sets the exercise, and
//! the checks that grade it, in the book's order.
//!
//! Everything else is derived from this list or checked against it: the grader's tests
//! (`cargo test -p grader` grades what is listed here), the `[[bin]]` entries of
//! `exercises/Cargo.toml` and `solutions/Cargo.toml`, the book's exercise sections, and the
//! self-test's programs (see the tests at the end of this file and in `grader/selftest`).

use crate::checks::{daemon_check, echo_server, framed_client, sockstat, tcp_client, udp_client};
use crate::failure::Failure;
use crate::hint::{CH_DAEMONS, CH_FRAMING, CH_MANY_CLIENTS, CH_SEEING, CH_TCP, CH_UDP, Chapter};
use crate::program::Subject;

/// One exercise: a program the learner writes, and the checks it must pass.
pub struct Exercise {
    /// The binary's name, which is also its file's (`exercises/NAME.rs`) and the test filter.
    pub name: &'static str,
    pub chapter: Chapter,
    /// The heading of the chapter's section that sets the exercise.
    pub section: &'static str,
    /// From the most basic to the most demanding: when several fail for one reason, the first is
    /// the one a learner is shown in full.
    pub checks: &'static [Check],
}

/// One scenario, run against the learner's program.
pub struct Check {
    pub name: &'static str,
    pub run: fn(&Subject) -> Result<(), Box<Failure>>,
}

/// Every exercise, in the book's order.
pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "udp_client",
        chapter: CH_UDP,
        section: "Exercise: `udp_client`",
        checks: udp_client::CHECKS,
    },
    Exercise {
        name: "tcp_client",
        chapter: CH_TCP,
        section: "Exercise: `tcp_client`",
        checks: tcp_client::CHECKS,
    },
    Exercise {
        name: "sockstat",
        chapter: CH_SEEING,
        section: "Exercise: `sockstat`",
        checks: sockstat::CHECKS,
    },
    Exercise {
        name: "framed_client",
        chapter: CH_FRAMING,
        section: "Exercise: `framed_client`",
        checks: framed_client::CHECKS,
    },
    Exercise {
        name: "echo_server",
        chapter: CH_MANY_CLIENTS,
        section: "Exercise: `echo_server`",
        checks: echo_server::CHECKS,
    },
    Exercise {
        name: "daemon_check",
        chapter: CH_DAEMONS,
        section: "Exercise: `daemon_check`",
        checks: daemon_check::CHECKS,
    },
];

/// The exercise of that name.
pub fn find(name: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::workspace_root;

    /// The `[[bin]]` names of a package's `Cargo.toml`, in order.
    fn bins(package: &str) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(workspace_root().join(package).join("Cargo.toml"))
            .expect("the package's Cargo.toml");
        let mut found = Vec::new();
        let mut name = None;
        for line in text.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("name = ") {
                name = Some(v.trim_matches('"').to_string());
            }
            if let (Some(v), Some(n)) = (line.strip_prefix("path = "), name.as_ref()) {
                found.push((n.clone(), v.trim_matches('"').to_string()));
            }
        }
        found
    }

    #[test]
    fn every_exercise_is_a_program_of_both_packages_and_nothing_else_is() {
        let listed: Vec<(String, String)> = EXERCISES
            .iter()
            .map(|e| (e.name.to_string(), format!("{}.rs", e.name)))
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        for package in ["exercises", "solutions"] {
            let mut found = bins(package);
            found.sort();
            assert_eq!(
                found, sorted,
                "{package}/Cargo.toml's [[bin]]s and the manifest"
            );
        }
    }

    #[test]
    fn every_exercise_has_its_section_in_its_chapter() {
        for e in EXERCISES {
            let chapter =
                std::fs::read_to_string(workspace_root().join("book/src").join(e.chapter.file))
                    .expect("the chapter's file");
            assert!(
                chapter
                    .lines()
                    .any(|l| l.trim_start_matches('#').trim() == e.section && l.starts_with("## ")),
                "{} has no section \"{}\"",
                e.chapter.file,
                e.section
            );
        }
    }

    #[test]
    fn the_list_is_in_the_books_order_and_names_are_unique() {
        let numbers: Vec<u8> = EXERCISES.iter().map(|e| e.chapter.number).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        for e in EXERCISES {
            let mut names: Vec<&str> = e.checks.iter().map(|c| c.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                e.checks.len(),
                "{}: a check name twice",
                e.name
            );
        }
    }
}
