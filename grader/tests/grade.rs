//! `cargo test -p grader`: grades every exercise; `cargo test -p grader -- NAME` grades one.
//! Everything it does is in [`grader::grading`], which the self-test also runs (to prove that an
//! interrupted grading leaves nothing behind).

use std::process::ExitCode;

fn main() -> ExitCode {
    grader::grading::main()
}
