//! Requests and replies that no program can guess.
//!
//! Every check makes up fresh lines and a fresh secret for its server, so a program that prints
//! anything other than what it really received fails.

/// A random token of `len` letters and digits.
pub fn token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    (0..len)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

/// `count` distinct request lines, easy to read in a transcript.
pub fn lines(count: usize) -> Vec<String> {
    const WORDS: &[&str] = &[
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
    ];
    let start = fastrand::usize(..WORDS.len());
    (0..count)
        .map(|i| format!("{} {}", WORDS[(start + i) % WORDS.len()], token(4)))
        .collect()
}

/// Letters and digits only: safe on one line, in any terminal.
pub fn text(len: usize) -> String {
    token(len)
}
