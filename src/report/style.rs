//! A few ANSI styles, off unless the printer allows colour.

use crate::compat::Severity;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn cyan(&self, t: &str) -> String {
        self.paint("36", t)
    }

    /// `✗ error`, `! warning`, `i info`.
    pub fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Error => self.red("✗ error"),
            Severity::Warning => self.yellow("! warning"),
            Severity::Info => self.cyan("i info"),
        }
    }
}
