//! Which programs are graded, and building them before any clock starts.
//!
//! `cargo test -p grader` grades `exercises/`; with `SOCKLAB_TARGET=solutions` it grades
//! `solutions/`. Each exercise is built on its own, so one that does not compile fails alone.
//! Programs build into the workspace's own `target/`, where the grader's build has already
//! compiled most of what they need (a learner's first run compiles each dependency once), except
//! the solutions: they have the exercises' names, so they build into `target/socklab/solutions`
//! and never overwrite a learner's program.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::program::Subject;

/// The package whose programs are graded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Exercises,
    Solutions,
}

impl Target {
    /// Reads `SOCKLAB_TARGET`: unset or `exercises`, or `solutions`.
    pub fn from_env() -> Result<Target, String> {
        match std::env::var("SOCKLAB_TARGET").as_deref() {
            Err(_) | Ok("") | Ok("exercises") => Ok(Target::Exercises),
            Ok("solutions") => Ok(Target::Solutions),
            Ok(other) => Err(format!(
                "SOCKLAB_TARGET={other} is not a target: use `exercises` (the default) or `solutions`"
            )),
        }
    }

    /// The Cargo package, which is also the folder.
    pub fn package(self) -> &'static str {
        match self {
            Target::Exercises => "exercises",
            Target::Solutions => "solutions",
        }
    }

    /// The source file of an exercise, as the learner sees it from the repository root.
    pub fn source_file(self, exercise: &str) -> String {
        format!("{}/{exercise}.rs", self.package())
    }
}

/// The repository root (the workspace), found at run time: the nearest folder, from the one
/// cargo names in `CARGO_MANIFEST_DIR` (or the current one) upwards, whose `Cargo.toml` is a
/// workspace. A path compiled in would send a copied or moved checkout to grade the old place.
pub fn workspace_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    find_workspace(&start).unwrap_or(start)
}

fn find_workspace(from: &Path) -> Option<PathBuf> {
    from.ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

/// Builds one program of `package` and returns it, or the compiler's message.
pub fn build(package: &str, bin: &str, shown_as: String) -> Result<Subject, String> {
    let root = workspace_root();
    let target_dir = match package {
        "solutions" => root.join("target").join("socklab").join(package),
        _ => root.join("target"),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build", "--quiet", "--color", "never", "-p", package, "--bin", bin,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .output()
        .map_err(|e| format!("could not run cargo to build {shown_as}: {e}"))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr);
        return Err(shorten_compiler_output(&message));
    }
    Ok(Subject {
        exe: target_dir.join("debug").join(bin),
        shown_as,
    })
}

/// The compiler's errors, without its warnings, and not a wall of them.
fn shorten_compiler_output(message: &str) -> String {
    const MAX_LINES: usize = 60;
    let lines: Vec<&str> = message.lines().collect();
    if lines.len() <= MAX_LINES {
        return message.trim_end().to_string();
    }
    let mut shown = lines[..MAX_LINES].join("\n");
    shown.push_str(&format!(
        "\n… {} more lines: run `cargo build -p …` to see them all",
        lines.len() - MAX_LINES
    ));
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_workspace_above_a_package() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = find_workspace(here).expect("a workspace above the grader");
        assert!(root.join("exercises").is_dir() && root.join("grader").is_dir());
        assert_eq!(find_workspace(&root.join("grader/src")), Some(root));
    }
}
