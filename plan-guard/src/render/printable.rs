//! Text a person reads, made safe to print. Addresses, keys, versions and workspace
//! names come from the plan or the command line; a newline in one would let it forge a
//! line of a report or of `evidence list`, an ESC would drive the terminal, and a bidi
//! override (U+202E) would show text in another order than it is. Such characters are
//! shown as escapes (`\n`, `\u{1b}`, `\u{202e}`) instead; everything else, including
//! non-ASCII letters, is shown as written.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` would change how the surrounding text is laid out or displayed rather
/// than show as a character: C0 and C1 controls (line breaks, ESC, DEL), the Unicode
/// line and paragraph separators, and the bidirectional formatting characters.
pub fn is_layout_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every [layout control](is_layout_control) written as an escape; borrowed
/// when there is none (the usual case).
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_layout_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_layout_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Refuses a value given on the command line (`--actor`, `--reason`) that holds a
/// [layout control]: recorded in the ledger, it would be shown to approvers and auditors.
pub fn one_line(flag: &str, value: &str) -> Result<(), String> {
    match value.chars().find(|c| is_layout_control(*c)) {
        Some(c) => Err(format!(
            "{flag} must be one line of plain text: it holds U+{:04X} ({})",
            c as u32,
            printable(&c.to_string())
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped_the_rest_kept() {
        assert!(matches!(printable("module.a.x[\"é\"]"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\nb\r\tc\u{1b}[31md\u{7f}\u{85}"),
            "a\\nb\\r\\tc\\u{1b}[31md\\u{7f}\\u{85}"
        );
        assert_eq!(
            printable("x[\"\u{202e}gnp.exe\"]\u{2066}\u{2028}"),
            "x[\"\\u{202e}gnp.exe\"]\\u{2066}\\u{2028}"
        );
    }

    #[test]
    fn one_line_refuses_line_breaks_and_overrides() {
        assert!(one_line("--reason", "CHG-42: rotate keys — approved").is_ok());
        let e = one_line("--reason", "ok\n    2  2026-01-01T00:00:00Z  approval").unwrap_err();
        assert!(e.contains("--reason") && e.contains("U+000A"), "{e}");
        assert!(one_line("--actor", "bob\u{202e}").is_err());
        assert!(one_line("--actor", "bob\r").is_err());
    }
}
