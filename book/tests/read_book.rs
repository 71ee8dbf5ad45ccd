//! A reader's path: the README's "Read the book" command really writes the book as HTML (the
//! command is `cargo run -q -p book --bin read-book`, and that binary builds `index.html` and says
//! where), and every chapter ends with "Check yourself" questions whose answers open on click.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shell command of README.md's "Read the book" section: the first line of its first
/// `sh` block.
fn readme_command() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("read README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Read the book"))
        .expect("README.md has a section \"Read the book\"");
    let block = section
        .split("```sh\n")
        .nth(1)
        .expect("the section \"Read the book\" has a ```sh block");
    block.lines().next().unwrap_or("").trim().to_string()
}

#[test]
fn the_readme_command_runs_this_packages_read_book() {
    let command = readme_command();
    let words: Vec<&str> = command.split_whitespace().collect();
    let bin = words
        .iter()
        .position(|w| *w == "--bin")
        .and_then(|i| words.get(i + 1));
    assert!(
        words.starts_with(&["cargo", "run"])
            && words.windows(2).any(|w| w == ["-p", "book"])
            && bin == Some(&"read-book")
            && !words.contains(&"--"),
        "README.md's \"Read the book\" command should be `cargo run -q -p book --bin read-book`, \
         which this test runs; it is `{command}`"
    );
    // With no argument, the binary writes to the book's own build-dir: check that it is
    // book/book, the folder the README and .gitignore name.
    let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("book.toml"))
        .expect("read book.toml");
    assert!(
        toml.lines()
            .any(|l| l.replace(' ', "") == "build-dir=\"book\""),
        "book.toml's build-dir is no longer \"book\": update README.md and .gitignore"
    );
}

#[test]
fn read_book_writes_index_html_and_prints_where() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("read-book-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_read-book"))
        .arg(&out)
        .output()
        .expect("run read-book");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "read-book failed: {}\n{stdout}{stderr}",
        output.status
    );
    let index = out.join("index.html");
    let html = std::fs::read_to_string(&index).expect("read-book wrote index.html");
    assert!(html.contains("socklab"), "index.html is not the book");
    assert!(out.join("ch03-tcp.html").is_file(), "no chapter page");
    // The README promises search: mdbook-driver only builds its index with the `search` feature.
    let has_index = std::fs::read_dir(&out)
        .unwrap()
        .any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("searchindex")));
    assert!(
        has_index,
        "read-book wrote no search index: book/Cargo.toml must enable mdbook-driver's `search`"
    );
    assert!(
        stdout.contains(&format!("file://{}", index.display())),
        "read-book should print the address to open, file://{}; it printed:\n{stdout}",
        index.display()
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn read_book_refuses_a_wrong_command_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_read-book"))
        .args(["a", "b"])
        .output()
        .expect("run read-book");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: read-book"));
}

/// Every numbered chapter ends with "Check yourself": 3 to 5 questions, each a `<details>` whose
/// `<summary>` is the question and whose body is the answer, which opens on click.
#[test]
fn every_chapter_ends_with_check_yourself() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).expect("read SUMMARY.md");
    let chapters: Vec<&str> = summary
        .lines()
        .filter(|l| l.trim_start().starts_with("- ["))
        .filter_map(|l| l.split("](").nth(1)?.split(')').next())
        .collect();
    assert!(!chapters.is_empty(), "SUMMARY.md lists no chapter");
    let mut problems = Vec::new();
    for chapter in chapters {
        let text = std::fs::read_to_string(src.join(chapter)).expect("read a chapter");
        problems.extend(check_yourself(chapter, &text));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn check_yourself(name: &str, text: &str) -> Vec<String> {
    let Some(at) = text.find("\n## Check yourself\n") else {
        return vec![format!("{name}: no \"## Check yourself\" section")];
    };
    let section = &text[at + 1..];
    if section[3..].contains("\n## ") || section.contains("\n# ") {
        return vec![format!(
            "{name}: \"Check yourself\" is not the last section"
        )];
    }
    let mut problems = Vec::new();
    let questions: Vec<&str> = section.split("<details>").skip(1).collect();
    if !(3..=5).contains(&questions.len()) {
        problems.push(format!(
            "{name}: \"Check yourself\" has {} questions, not 3 to 5",
            questions.len()
        ));
    }
    for q in questions {
        let answer = q
            .split_once("</summary>")
            .and_then(|(_, rest)| rest.split_once("</details>"))
            .map(|(answer, _)| answer.trim());
        if !q.trim_start().starts_with("<summary>") || answer.is_none_or(str::is_empty) {
            problems.push(format!(
                "{name}: a question is not <details><summary>QUESTION</summary> ANSWER </details>"
            ));
        }
    }
    problems
}

#[test]
fn check_yourself_is_checked() {
    let q = "<details>\n<summary>Q?</summary>\n\nA.\n\n</details>\n";
    let good = format!("# One\n\ntext\n\n## Check yourself\n\n{}", q.repeat(3));
    assert!(check_yourself("one.md", &good).is_empty());
    assert!(check_yourself("one.md", "# One\n\ntext\n")[0].contains("no \"## Check yourself\""));
    let two = format!("# One\n\n## Check yourself\n\n{}", q.repeat(2));
    assert!(check_yourself("one.md", &two)[0].contains("2 questions"));
    let after = format!("{good}\n## More\n");
    assert!(check_yourself("one.md", &after)[0].contains("not the last section"));
    let empty = good.replacen("A.", "", 1);
    assert!(check_yourself("one.md", &empty)[0].contains("a question is not"));
}
