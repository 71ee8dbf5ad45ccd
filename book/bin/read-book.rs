//! `read-book`: builds the book to HTML with the mdBook library this workspace already compiles,
//! so that reading it needs no `cargo install mdbook`. Then open the page it prints in a browser:
//! mdBook's HTML works from a `file://` address, search included.
//!
//! `cargo run -q -p book --bin read-book` writes to `book/book/`; `read-book DIR` writes to DIR.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mdbook_driver::MDBook;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let out = args.next().map(PathBuf::from);
    if args.next().is_some()
        || out
            .as_ref()
            .is_some_and(|o| o.to_string_lossy().starts_with('-'))
    {
        eprintln!("usage: read-book [OUTPUT_DIR]   (default: book/book)");
        return ExitCode::from(2);
    }
    match build(Path::new(env!("CARGO_MANIFEST_DIR")), out.as_deref()) {
        Ok(index) => {
            println!("the book is at {}", index.display());
            println!("open it in your browser: file://{}", index.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("read-book: cannot build the book: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the book whose `book.toml` is in `root` into `out` (by default, its own `build-dir`,
/// `book/book`), and returns the absolute path of its `index.html`.
fn build(root: &Path, out: Option<&Path>) -> Result<PathBuf, String> {
    let mut book = MDBook::load(root).map_err(|e| format!("{e:#}"))?;
    if let Some(out) = out {
        book.config.build.build_dir = std::path::absolute(out).map_err(|e| e.to_string())?;
    }
    let dir = root.join(&book.config.build.build_dir);
    book.build().map_err(|e| format!("{e:#}"))?;
    let index = std::path::absolute(dir.join("index.html")).map_err(|e| e.to_string())?;
    if !index.is_file() {
        return Err(format!("mdBook wrote no {}", index.display()));
    }
    Ok(index)
}
