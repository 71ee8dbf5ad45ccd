//! Builds the book with `mdbook-driver`, into a temporary directory, and fails on what mdBook
//! itself lets through:
//!
//! - an include (`{{#include FILE}}`, `{{#include FILE:ANCHOR}}`, `{{#rustdoc_include ...}}`) whose
//!   file does not exist, or whose anchor is missing, unclosed or empty. mdBook only logs a missing
//!   file and leaves the raw `{{#include` in the page; a missing anchor it silently replaces by
//!   nothing. So every include is resolved here, and the rendered pages are also scanned for a
//!   leftover `{{#`;
//! - a link from a chapter to a local page that was not rendered, or to a `#fragment` that is no
//!   `id` in that page;
//! - an empty chapter (nothing but headings and blank lines), or a draft chapter with no file.
//!
//! The tests at the bottom build small bad books and check that each check fails on them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use mdbook_driver::MDBook;
use mdbook_driver::book::BookItem;
use mdbook_driver::config::Config;

/// The real book: this package's directory.
#[test]
fn the_book_builds_with_no_broken_include_link_or_empty_chapter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let problems = check_book(root);
    assert!(
        problems.is_empty(),
        "the book has {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Builds the book at `root` into a temporary directory and returns every problem found, each as
/// one readable line. An empty list means the book is good.
fn check_book(root: &Path) -> Vec<String> {
    let output = TempDir::new("render");
    let mut problems = Vec::new();

    let mut config = match Config::from_disk(root.join("book.toml")) {
        Ok(config) => config,
        Err(e) => return vec![format!("book.toml: {e:#}")],
    };
    // Never into the source tree, and never create a chapter file that SUMMARY.md names but that
    // does not exist: that is an error to report.
    config.build.build_dir = output.path.clone();
    config.build.create_missing = false;
    let source_dir = root.join(&config.book.src);

    let book = match MDBook::load_with_config(root, config) {
        Ok(book) => book,
        Err(e) => return vec![format!("cannot load the book: {e:#}")],
    };

    // Every chapter: its source file and the page it renders to.
    let mut pages = Vec::new();
    for item in book.iter() {
        let BookItem::Chapter(chapter) = item else {
            continue;
        };
        let Some(path) = &chapter.path else {
            problems.push(format!(
                "chapter {:?} is a draft: it has no file",
                chapter.name
            ));
            continue;
        };
        if is_empty_chapter(&chapter.content) {
            problems.push(format!(
                "{}: chapter {:?} is empty",
                path.display(),
                chapter.name
            ));
        }
        let source = chapter.source_path.clone().unwrap_or_else(|| path.clone());
        problems.extend(check_includes(
            &source_dir.join(&source),
            &source.display().to_string(),
            &chapter.content,
        ));
        pages.push(path.with_extension("html"));
    }

    if let Err(e) = book.build() {
        problems.push(format!("mdBook cannot build the book: {e:#}"));
        return problems;
    }
    problems.extend(check_pages(&output.path, &pages));
    problems
}

/// A chapter is empty when it has nothing but headings and blank lines.
fn is_empty_chapter(markdown: &str) -> bool {
    markdown
        .lines()
        .map(str::trim)
        .all(|line| line.is_empty() || line.starts_with('#'))
}

/// One `{{#include ...}}` or `{{#rustdoc_include ...}}` of a chapter.
#[derive(Debug, PartialEq)]
struct Include {
    /// The file, as written: relative to the chapter's directory.
    file: String,
    /// The anchor after `:`, when it is a name rather than line numbers.
    anchor: Option<String>,
}

/// Finds every include in `markdown`, skipping escaped ones (`\{{#include ...}}`).
fn find_includes(markdown: &str) -> Vec<Include> {
    let mut includes = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("{{#") {
        let escaped = rest[..start].ends_with('\\');
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            break;
        };
        let inside = after[..end].trim();
        rest = &after[end + 2..];
        if escaped {
            continue;
        }
        let mut words = inside.split_whitespace();
        let (Some(kind), Some(target)) = (words.next(), words.next()) else {
            continue;
        };
        if kind != "include" && kind != "rustdoc_include" {
            continue;
        }
        let (file, selector) = match target.split_once(':') {
            Some((file, selector)) => (file, Some(selector)),
            None => (target, None),
        };
        // `:10`, `:10:20`, `:10:`, `::20` are line ranges; anything else is an anchor name.
        let anchor = selector
            .filter(|s| !s.chars().all(|c| c.is_ascii_digit() || c == ':'))
            .map(str::to_string);
        includes.push(Include {
            file: file.to_string(),
            anchor,
        });
    }
    includes
}

/// Resolves every include of the chapter at `chapter_file` (shown as `name`).
fn check_includes(chapter_file: &Path, name: &str, markdown: &str) -> Vec<String> {
    let dir = chapter_file.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for include in find_includes(markdown) {
        let path = dir.join(&include.file);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!("{name}: cannot include {}: {e}", include.file));
                continue;
            }
        };
        if let Some(anchor) = &include.anchor
            && let Err(why) = anchored_lines(&text, anchor)
        {
            problems.push(format!(
                "{name}: cannot include {}:{anchor}: {why}",
                include.file
            ));
        }
    }
    problems
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, as mdBook takes them.
fn anchored_lines<'a>(text: &'a str, anchor: &str) -> Result<Vec<&'a str>, String> {
    let is_marker = |line: &str, marker: &str| {
        line.split_once(marker)
            .is_some_and(|(_, rest)| rest.trim() == anchor)
    };
    let mut lines = text.lines();
    if !lines.any(|line| is_marker(line, "ANCHOR:")) {
        return Err(format!("the file has no `ANCHOR: {anchor}` line"));
    }
    let mut taken = Vec::new();
    for line in lines {
        if is_marker(line, "ANCHOR_END:") {
            return if taken.iter().all(|line: &&str| line.trim().is_empty()) {
                Err("the anchor holds no code".to_string())
            } else {
                Ok(taken)
            };
        }
        if !line.contains("ANCHOR:") && !line.contains("ANCHOR_END:") {
            taken.push(line);
        }
    }
    Err(format!("the file has no `ANCHOR_END: {anchor}` line"))
}

/// Checks the rendered `pages` (relative to `output`): no leftover `{{#`, and every local link
/// leads to a rendered page and, with a `#fragment`, to an `id` in it.
fn check_pages(output: &Path, pages: &[PathBuf]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let read = |page: &Path| -> Option<String> { fs::read_to_string(output.join(page)).ok() };
    let mut html = BTreeMap::new();
    for page in pages {
        match read(page) {
            Some(text) => {
                ids.insert(
                    page.clone(),
                    attribute_values(&text, "id").into_iter().collect(),
                );
                html.insert(page.clone(), text);
            }
            None => problems.push(format!("{} was not rendered", page.display())),
        }
    }
    for (page, text) in &html {
        let name = page.display();
        if let Some(at) = text.find("{{#") {
            let snippet: String = text[at..].chars().take(60).collect();
            problems.push(format!("{name}: an include was not resolved: {snippet}"));
        }
        for href in attribute_values(text, "href") {
            if href.contains("://") || href.starts_with("//") || href.starts_with("mailto:") {
                continue;
            }
            let (target, fragment) = match href.split_once('#') {
                Some((target, fragment)) => (target, Some(fragment)),
                None => (href.as_str(), None),
            };
            let target_page = if target.is_empty() {
                page.clone()
            } else {
                normalize(&page.parent().unwrap_or(Path::new("")).join(target))
            };
            if !output.join(&target_page).exists() {
                problems.push(format!("{name}: broken link {href:?}: no such page"));
                continue;
            }
            let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
                continue;
            };
            let target_ids = ids.entry(target_page.clone()).or_insert_with(|| {
                read(&target_page)
                    .map(|text| attribute_values(&text, "id").into_iter().collect())
                    .unwrap_or_default()
            });
            if !target_ids.contains(fragment) {
                problems.push(format!(
                    "{name}: broken link {href:?}: {} has no heading or id {fragment:?}",
                    target_page.display()
                ));
            }
        }
    }
    problems
}

/// The values of every `NAME="..."` attribute in `html`.
fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let pattern = format!(" {name}=\"");
    html.match_indices(&pattern)
        .filter_map(|(at, _)| {
            let start = at + pattern.len();
            html[start..]
                .find('"')
                .map(|len| html[start..start + len].replace("&amp;", "&"))
        })
        .collect()
}

/// `a/./b/../c.html` -> `a/c.html`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A directory under Cargo's temporary directory for tests, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(what: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "book-{what}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

// Proof that each check can fail: small books, each with one mistake.

/// Writes a small book: `files` are (path under the book root, contents).
fn small_book(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new("small");
    let mut all = vec![
        ("book.toml", "[book]\ntitle = \"small\"\n"),
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
        ),
        ("src/one.md", "# One\n\nSee [two](two.md#the-end).\n"),
        (
            "src/two.md",
            "# Two\n\n```rust\n{{#include ../code.rs:main}}\n```\n\n## The end\n\nBack to [one](one.md).\n",
        ),
        (
            "code.rs",
            "// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\n",
        ),
    ];
    // A file given twice: the later one wins.
    all.extend_from_slice(files);
    let mut written = BTreeMap::new();
    for (path, text) in all {
        written.insert(path, text);
    }
    for (path, text) in written {
        let path = dir.path.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn problems_of(files: &[(&str, &str)]) -> Vec<String> {
    let book = small_book(files);
    check_book(&book.path)
}

fn assert_one_problem(problems: &[String], expected: &str) {
    assert!(
        problems.len() == 1 && problems[0].contains(expected),
        "expected one problem containing {expected:?}, got {problems:#?}"
    );
}

#[test]
fn a_good_small_book_has_no_problem() {
    assert_eq!(problems_of(&[]), Vec::<String>::new());
}

#[test]
fn a_missing_include_file_fails() {
    let problems = problems_of(&[("src/one.md", "# One\n\n{{#include ../nowhere.rs}}\n")]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("one.md: cannot include ../nowhere.rs")),
        "{problems:#?}"
    );
    // mdBook leaves the raw include in the page, and the page scan sees it too.
    assert!(
        problems.iter().any(
            |p| p.contains("one.html: an include was not resolved: {{#include ../nowhere.rs}}")
        ),
        "{problems:#?}"
    );
}

#[test]
fn a_missing_anchor_fails() {
    let problems = problems_of(&[("src/one.md", "# One\n\n{{#include ../code.rs:mian}}\n")]);
    assert_one_problem(
        &problems,
        "cannot include ../code.rs:mian: the file has no `ANCHOR: mian` line",
    );
}

#[test]
fn an_unclosed_or_empty_anchor_fails() {
    let problems = problems_of(&[("code.rs", "// ANCHOR: main\nfn main() {}\n")]);
    assert_one_problem(&problems, "the file has no `ANCHOR_END: main` line");
    let problems = problems_of(&[("code.rs", "// ANCHOR: main\n\n// ANCHOR_END: main\n")]);
    assert_one_problem(&problems, "the anchor holds no code");
}

#[test]
fn the_rendered_page_scan_catches_a_leftover_include() {
    // mdBook resolves `{{#include}}` in a code block too, so build the page by hand to show that
    // the scan alone fails on it.
    let dir = TempDir::new("page");
    fs::write(dir.path.join("one.html"), "<p>{{#include x.rs}}</p>").unwrap();
    let problems = check_pages(&dir.path, &[PathBuf::from("one.html")]);
    assert_one_problem(&problems, "one.html: an include was not resolved");
}

#[test]
fn a_link_to_a_missing_page_fails() {
    let problems = problems_of(&[("src/one.md", "# One\n\nSee [three](three.md).\n")]);
    assert_one_problem(
        &problems,
        "one.html: broken link \"three.html\": no such page",
    );
}

#[test]
fn a_link_to_a_missing_heading_fails() {
    let problems = problems_of(&[("src/one.md", "# One\n\nSee [two](two.md#the-start).\n")]);
    assert_one_problem(&problems, "two.html has no heading or id \"the-start\"");
    let problems = problems_of(&[("src/one.md", "# One\n\nSee [below](#nowhere).\n")]);
    assert_one_problem(&problems, "one.html has no heading or id \"nowhere\"");
}

#[test]
fn an_empty_chapter_fails() {
    let problems = problems_of(&[("src/one.md", "# One\n\n## Still nothing\n\n")]);
    assert_one_problem(&problems, "chapter \"One\" is empty");
}

#[test]
fn a_chapter_with_no_file_fails() {
    let problems = problems_of(&[(
        "src/SUMMARY.md",
        "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n- [Three](three.md)\n",
    )]);
    assert!(
        problems.iter().any(|p| p.contains("three.md")),
        "{problems:#?}"
    );
}

#[test]
fn includes_are_parsed_as_mdbook_parses_them() {
    let text = "{{#include a.rs}} \\{{#include escaped.rs}} {{#include b.rs:name}} \
                {{#rustdoc_include c.rs:2:5}} {{#title x}}";
    assert_eq!(
        find_includes(text),
        [
            Include {
                file: "a.rs".into(),
                anchor: None
            },
            Include {
                file: "b.rs".into(),
                anchor: Some("name".into())
            },
            Include {
                file: "c.rs".into(),
                anchor: None
            },
        ]
    );
}
