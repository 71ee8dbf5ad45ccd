//! The book's pictures:
//!
//! - every image a chapter shows (`![alt](file)` or `<img src="file" alt="...">`) is a file of
//!   the book, has alt text, and, when it is an SVG, is well-formed SVG that scales (`viewBox`)
//!   and keeps its own colours (no `currentColor`, which would follow neither mdBook theme);
//! - a drawn figure (`figures/...`) sits in a `<figure>` with a `<figcaption>`, and every file in
//!   `src/figures/` is used by some chapter;
//! - chapter 6's tables and chart are what `plot` makes of the CSV files beside the chapter: each
//!   `ch06-*.csv` has its `plot FILE --table` in the chapter, line for line, and each chart the
//!   chapter says it draws with `plot CSV -o SVG` is byte for byte what `plot` draws now.
//!
//! The tests at the bottom show that each check fails on a bad input.

use std::fs;
use std::path::{Path, PathBuf};

/// The title `plot` gives a chart when the command line names none (`support/src/bin/plot.rs`).
const PLOT_DEFAULT_TITLE: &str = "Four concurrency models under load";

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every chapter file of the book: `(name, text)`.
fn chapters() -> Vec<(String, String)> {
    let mut chapters: Vec<(String, String)> = fs::read_dir(source_dir())
        .expect("read book/src")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md") && !p.ends_with("SUMMARY.md"))
        .map(|p| {
            let text = fs::read_to_string(&p).expect("read a chapter");
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    chapters.sort();
    chapters
}

fn fail_on(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn every_figure_exists_is_well_formed_svg_and_has_alt_text_and_a_caption() {
    let mut problems = Vec::new();
    for (name, text) in chapters() {
        problems.extend(check_images(&name, &text, &source_dir()));
    }
    fail_on(problems);
}

#[test]
fn every_drawn_figure_is_used_by_a_chapter() {
    let dir = source_dir().join("figures");
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    let used: Vec<String> = chapters()
        .iter()
        .flat_map(|(_, text)| images(text))
        .map(|image| image.src)
        .collect();
    let mut problems = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let file = format!("figures/{}", entry.file_name().to_string_lossy());
        if !used.contains(&file) {
            problems.push(format!("{file} is in no chapter: show it, or remove it"));
        }
    }
    fail_on(problems);
}

#[test]
fn chapter_6_tables_and_chart_are_what_plot_draws_from_its_csv_files() {
    let dir = source_dir();
    let chapter = fs::read_to_string(dir.join("ch06-many-clients.md")).expect("read chapter 6");
    fail_on(check_plots("ch06-many-clients.md", &chapter, &dir, "ch06-"));
    // The chart is drawn with plot's default title: the same one as here.
    let plot_main = Path::new(env!("CARGO_MANIFEST_DIR")).join("../support/src/bin/plot.rs");
    let plot_main = fs::read_to_string(plot_main).expect("read support/src/bin/plot.rs");
    assert!(
        plot_main.contains(&format!("default_value = \"{PLOT_DEFAULT_TITLE}\"")),
        "plot's default title is no longer {PLOT_DEFAULT_TITLE:?}: update PLOT_DEFAULT_TITLE"
    );
}

/// One image of a chapter.
#[derive(Debug, PartialEq)]
struct Image {
    src: String,
    alt: String,
    /// Inside a `<figure>` that has a `<figcaption>`.
    captioned: bool,
}

/// Markdown with its code (fenced blocks, and inline spans within a line) blanked out: images
/// there are text, not images.
fn without_code(markdown: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<&str> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match fence {
            Some(f) if trimmed.starts_with(f) => fence = None,
            Some(_) => {}
            None if trimmed.starts_with("```") || trimmed.starts_with("~~~") => {
                fence = Some(&trimmed[..3]);
            }
            None => {
                // Inline code: `vec![0; len]` is no image.
                let mut in_code = false;
                for c in line.chars() {
                    if c == '`' {
                        in_code = !in_code;
                    }
                    out.push(if in_code { ' ' } else { c });
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The value of attribute `name` in the tag text `tag` (`<img src="..." ...>`), unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().last();
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let end = value[1..].find(quote)?;
        return Some(
            value[1..1 + end]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        );
    }
    None
}

/// Every image of a chapter, Markdown and HTML.
fn images(markdown: &str) -> Vec<Image> {
    let text = without_code(markdown);
    let mut found = Vec::new();
    // `![alt](src "title")`; the alt text may run over several lines.
    let mut rest = text.as_str();
    while let Some(at) = rest.find("![") {
        rest = &rest[at + 2..];
        let Some(close) = rest.find("](") else { break };
        let alt = rest[..close]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let after = &rest[close + 2..];
        let Some(end) = after.find(')') else { break };
        let src = after[..end]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
        found.push(Image {
            src,
            alt,
            captioned: false,
        });
        rest = &after[end..];
    }
    // `<img ...>`, and whether the `<figure>` around it has a caption.
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<img") {
        let start = from + at;
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let tag = &text[start..start + len + 1];
        from = start + len + 1;
        let figure_start = lower[..start].rfind("<figure");
        let figure_end = lower[..start].rfind("</figure>");
        let in_figure = match (figure_start, figure_end) {
            (Some(open), Some(close)) => open > close,
            (Some(_), None) => true,
            _ => false,
        };
        let captioned = in_figure
            && lower[start..]
                .find("</figure>")
                .is_some_and(|end| lower[start..start + end].contains("<figcaption>"));
        found.push(Image {
            src: attribute(tag, "src").unwrap_or_default(),
            alt: attribute(tag, "alt").unwrap_or_default().trim().to_string(),
            captioned,
        });
    }
    found
}

/// Checks every image of chapter `name` (its text `markdown`, its folder `dir`).
fn check_images(name: &str, markdown: &str, dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for image in images(markdown) {
        let src = &image.src;
        if src.is_empty() {
            problems.push(format!("{name}: an image with no file"));
            continue;
        }
        if src.contains("://") || src.starts_with("//") || src.starts_with('/') {
            problems.push(format!(
                "{name}: image {src:?} is not a file of the book (the book must work offline)"
            ));
            continue;
        }
        if image.alt.is_empty() {
            problems.push(format!(
                "{name}: image {src:?} has no alt text (what a reader who cannot see it reads)"
            ));
        }
        if src.starts_with("figures/") && !image.captioned {
            problems.push(format!(
                "{name}: figure {src:?} is not in a <figure> with a <figcaption>"
            ));
        }
        let path = dir.join(src);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(format!("{name}: image {src:?}: {e}"));
                continue;
            }
        };
        if src.ends_with(".svg")
            && let Err(why) = check_svg(&bytes)
        {
            problems.push(format!("{name}: image {src:?}: {why}"));
        }
    }
    problems
}

/// Well-formed XML whose root is an `<svg>` in the SVG namespace, with a `viewBox` so that it
/// scales to the page, and colours of its own.
fn check_svg(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    let doc =
        roxmltree::Document::parse(text).map_err(|e| format!("is not well-formed XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg"
        || root.tag_name().namespace() != Some("http://www.w3.org/2000/svg")
    {
        return Err(format!(
            "the root element is <{}>, not an <svg> with xmlns=\"http://www.w3.org/2000/svg\" \
             (a browser shows nothing for it in an <img>)",
            root.tag_name().name()
        ));
    }
    if root.attribute("viewBox").is_none() {
        return Err("the <svg> has no viewBox, so it cannot scale to the page".to_string());
    }
    if text.contains("currentColor") {
        return Err(
            "uses currentColor: in an <img> that is black, whatever mdBook's theme; \
             give explicit colours that read on a light and a dark page"
                .to_string(),
        );
    }
    Ok(())
}

/// The `plot` commands a chapter states it drew its charts with: `(CSV, SVG)` file names,
/// from lines like `plot book/src/ch06-throughput.csv -o book/src/ch06-comparison.svg`.
fn stated_charts(markdown: &str) -> Vec<(String, String)> {
    let mut charts = Vec::new();
    let words: Vec<&str> = markdown
        .split(|c: char| c.is_whitespace() || c == '`')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        if !(*word == "plot" || word.ends_with("/plot")) {
            continue;
        }
        if let (Some(csv), Some(flag), Some(svg)) =
            (words.get(i + 1), words.get(i + 2), words.get(i + 3))
            && csv.ends_with(".csv")
            && (*flag == "-o" || *flag == "--out")
            && svg.ends_with(".svg")
        {
            let file = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
            charts.push((file(csv), file(svg)));
        }
    }
    charts
}

/// The chapter's tables are `plot --table` of each CSV file in `dir` whose name starts with
/// `prefix`, and the charts it says it drew are what `plot` draws.
fn check_plots(name: &str, markdown: &str, dir: &Path, prefix: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut csvs: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    let file = p.file_name().unwrap().to_string_lossy();
                    file.starts_with(prefix) && file.ends_with(".csv")
                })
                .collect()
        })
        .unwrap_or_default();
    csvs.sort();
    if csvs.is_empty() {
        problems.push(format!("{name}: no {prefix}*.csv beside it"));
    }
    let lines: Vec<&str> = markdown.lines().collect();
    for csv in &csvs {
        let file = csv.file_name().unwrap().to_string_lossy();
        let rows = match fs::read_to_string(csv)
            .map_err(|e| e.to_string())
            .and_then(|text| support::plot::parse(&text))
        {
            Ok(rows) => rows,
            Err(e) => {
                problems.push(format!("{file}: {e}"));
                continue;
            }
        };
        let table = support::plot::table(&rows);
        let expected: Vec<&str> = table.lines().collect();
        if !lines.windows(expected.len()).any(|w| w == expected) {
            // Say which line differs, from the first line of the table on.
            let start = lines.iter().position(|l| *l == expected[0]);
            let detail = match start {
                None => "no table with its header".to_string(),
                Some(at) => expected
                    .iter()
                    .enumerate()
                    .find(|(i, e)| lines.get(at + i) != Some(*e))
                    .map(|(i, e)| {
                        format!(
                            "row {} is\n    {}\n  and plot makes\n    {e}",
                            i + 1,
                            lines.get(at + i).unwrap_or(&"(nothing)")
                        )
                    })
                    .unwrap_or_default(),
            };
            problems.push(format!(
                "{name}: the table of {file} is not what `plot {file} --table` prints: {detail}"
            ));
        }
    }
    let charts = stated_charts(markdown);
    if charts.is_empty() {
        problems.push(format!(
            "{name}: it never says which `plot CSV -o SVG` command drew its chart"
        ));
    }
    for (csv, svg) in charts {
        let drawn = fs::read_to_string(dir.join(&csv))
            .map_err(|e| e.to_string())
            .and_then(|text| support::plot::parse(&text))
            .map(|rows| support::plot::svg(&rows, PLOT_DEFAULT_TITLE));
        let shown = fs::read_to_string(dir.join(&svg));
        match (drawn, shown) {
            (Err(e), _) => problems.push(format!("{csv}: {e}")),
            (_, Err(e)) => problems.push(format!("{svg}: {e}")),
            (Ok(drawn), Ok(shown)) if drawn != shown => problems.push(format!(
                "{svg} is not what `plot {csv} -o {svg}` draws now: run it again \
                 (see chapter 6, \"Measure it yourself\")"
            )),
            _ => {}
        }
        if !markdown.contains(&format!("]({svg})")) && !markdown.contains(&format!("\"{svg}\"")) {
            problems.push(format!("{name}: the chart {svg} is drawn but not shown"));
        }
    }
    problems
}

// Proof that each check can fail.

/// A folder under Cargo's temporary directory for tests, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("figures-{what}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(path.join("figures")).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const GOOD_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#fff"/></svg>"##;

fn figure(src: &str, alt: &str) -> String {
    format!(
        "<figure>\n<img src=\"{src}\" alt=\"{alt}\">\n<figcaption>A caption.</figcaption>\n</figure>\n"
    )
}

#[test]
fn a_good_figure_passes_in_both_forms() {
    let dir = TempDir::new("good");
    fs::write(dir.0.join("figures/a.svg"), GOOD_SVG).unwrap();
    fs::write(dir.0.join("chart.svg"), GOOD_SVG).unwrap();
    let text = format!(
        "# One\n\n{}\n![An\nalt text](chart.svg)\n",
        figure("figures/a.svg", "x")
    );
    assert_eq!(check_images("one.md", &text, &dir.0), Vec::<String>::new());
    assert_eq!(images(&text).len(), 2);
    assert_eq!(images(&text)[0].alt, "An alt text");
    assert_eq!(images(&text)[1].alt, "x");
}

#[test]
fn a_missing_figure_fails() {
    let dir = TempDir::new("missing");
    let problems = check_images("one.md", &figure("figures/nope.svg", "x"), &dir.0);
    assert!(
        problems.len() == 1 && problems[0].contains("figures/nope.svg"),
        "{problems:#?}"
    );
}

#[test]
fn a_figure_that_is_not_well_formed_svg_fails() {
    let dir = TempDir::new("bad");
    let cases = [
        (
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><g></svg>"#,
            "well-formed",
        ),
        (r#"<svg viewBox="0 0 1 1"></svg>"#, "xmlns"),
        (
            r#"<html xmlns="http://www.w3.org/2000/svg"></html>"#,
            "not an <svg>",
        ),
        (
            r#"<svg xmlns="http://www.w3.org/2000/svg"></svg>"#,
            "viewBox",
        ),
        (
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text fill="currentColor">a &nbsp; b</text></svg>"#,
            "well-formed",
        ),
        (
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text fill="currentColor">a</text></svg>"#,
            "currentColor",
        ),
    ];
    for (svg, expected) in cases {
        fs::write(dir.0.join("figures/a.svg"), svg).unwrap();
        let problems = check_images("one.md", &figure("figures/a.svg", "x"), &dir.0);
        assert!(
            problems.len() == 1 && problems[0].contains(expected),
            "{svg}: expected {expected:?}, got {problems:#?}"
        );
    }
}

#[test]
fn a_figure_without_alt_text_or_caption_fails() {
    let dir = TempDir::new("alt");
    fs::write(dir.0.join("figures/a.svg"), GOOD_SVG).unwrap();
    for text in [
        figure("figures/a.svg", " "),
        "<figure><img src=\"figures/a.svg\"><figcaption>c</figcaption></figure>".to_string(),
        "![](figures/a.svg)".to_string(),
    ] {
        let problems = check_images("one.md", &text, &dir.0);
        assert!(
            problems.iter().any(|p| p.contains("no alt text")),
            "{text}: {problems:#?}"
        );
    }
    let problems = check_images("one.md", "<img src=\"figures/a.svg\" alt=\"x\">", &dir.0);
    assert!(
        problems.len() == 1 && problems[0].contains("<figcaption>"),
        "{problems:#?}"
    );
    // An image in a code block is only text.
    assert!(images("```md\n![](x.svg)\n```\n").is_empty());
    assert!(images("a `vec![0; len]` and [a link](x.md#y)").is_empty());
}

#[test]
fn a_table_or_chart_that_plot_would_not_draw_fails() {
    let real = source_dir();
    let chapter = fs::read_to_string(real.join("ch06-many-clients.md")).unwrap();
    let dir = TempDir::new("plots");
    for entry in fs::read_dir(&real).unwrap().filter_map(|e| e.ok()) {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with("ch06-") && (file.ends_with(".csv") || file.ends_with(".svg")) {
            fs::copy(entry.path(), dir.0.join(&file)).unwrap();
        }
    }
    assert_eq!(
        check_plots("ch06.md", &chapter, &dir.0, "ch06-"),
        Vec::<String>::new()
    );

    // A number in a table changed by hand.
    let edited = chapter.replacen("| poll | 10 | 3 |", "| poll | 10 | 4 |", 1);
    assert_ne!(edited, chapter);
    let problems = check_plots("ch06.md", &edited, &dir.0, "ch06-");
    assert!(
        problems.len() == 1 && problems[0].contains("ch06-throughput.csv --table"),
        "{problems:#?}"
    );

    // A new run in the CSV file: the table and the chart are out of date.
    let csv = fs::read_to_string(dir.0.join("ch06-throughput.csv")).unwrap();
    fs::write(
        dir.0.join("ch06-throughput.csv"),
        format!("{csv}poll,100,500,0,100,31396,296681,371,780,1803,0,2584,1240,0.36,0.36,50000\n"),
    )
    .unwrap();
    let problems = check_plots("ch06.md", &chapter, &dir.0, "ch06-");
    assert!(
        problems.len() == 2
            && problems[0].contains("ch06-throughput.csv --table")
            && problems[1].contains("ch06-comparison.svg is not what"),
        "{problems:#?}"
    );

    // A chapter that no longer says how its chart was drawn.
    let silent = chapter.replace(" -o book/src/ch06-comparison.svg", "");
    fs::write(dir.0.join("ch06-throughput.csv"), csv).unwrap();
    let problems = check_plots("ch06.md", &silent, &dir.0, "ch06-");
    assert!(
        problems.iter().any(|p| p.contains("never says which")),
        "{problems:#?}"
    );
}
