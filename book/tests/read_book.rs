//! The README's "Read the book" command really writes the book as HTML: the command is
//! `cargo run -q -p book --bin read-book`, and that binary builds `index.html` and says where.

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
