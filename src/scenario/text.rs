//! Values written by the user are printed back in messages and plans; a control character in
//! one (`\e[2J` clears the screen) must reach the terminal as visible text, not as a command.

use std::borrow::Cow;

/// `s` with every control character written as an escape (`\e`, `\n`, `\u{7f}`).
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Like `escape_controls`, but keeps line breaks (for multi-line messages).
pub fn escape_controls_keep_lines(s: &str) -> String {
    s.split('\n')
        .map(escape_controls)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_commands() {
        assert_eq!(escape_controls("demo"), "demo");
        assert_eq!(escape_controls("\u{1b}[2J\u{1b}[31mx"), "\\e[2J\\e[31mx");
        assert_eq!(escape_controls("a\u{7}b\u{9b}"), "a\\u{7}b\\u{9b}");
        assert_eq!(escape_controls_keep_lines("a\nb\u{1b}"), "a\nb\\e");
    }
}
