//! Bad input, collected: every problem names the field, the value and what is accepted.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::layer::{Origin, Scalar, Sourced};
use crate::error::{ExitKind, Failure};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// Dotted scenario path, e.g. `cluster.memory`; or the flag, e.g. `--set`.
    pub field: String,
    pub message: String,
    /// Where the value came from: a file, `$MESHUP_CPUS`, `--cpus`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `file:line:column` for YAML errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            message: message.into(),
            source: None,
            location: None,
        }
    }

    /// "`<value>` is not <what>; accepted: <accepted>", attributed to where the value came from.
    pub fn bad_value(field: &str, value: &Sourced<Scalar>, what: &str, accepted: &str) -> Self {
        let shown = value.value.display();
        let mut message = format!("`{shown}` is not {what}; accepted: {accepted}");
        if matches!(value.value, Scalar::Float(_)) {
            message.push_str(
                " (YAML reads an unquoted 1.10 as the number 1.1: quote versions and sizes)",
            );
        }
        Problem::new(field, message).from_origin(&value.origin)
    }

    pub fn from_origin(mut self, origin: &Origin) -> Self {
        if *origin != Origin::Default {
            self.source = Some(origin.to_string());
        }
        self
    }
}

impl fmt::Display for Problem {
    /// Control characters in any part (they may be the user's) are escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use super::text::escape_controls as esc;
        if let Some(loc) = &self.location {
            write!(f, "{}: ", esc(loc))?;
        }
        write!(f, "{}: {}", esc(&self.field), esc(&self.message))?;
        if let (Some(src), None) = (&self.source, &self.location) {
            write!(f, " (from {})", esc(src))?;
        }
        Ok(())
    }
}

/// Problems printed in a message; a hostile file can have thousands.
const SHOWN_PROBLEMS: usize = 20;
/// Problems listed in the JSON error's details.
const LISTED_PROBLEMS: usize = 100;

/// One or more problems with the input; exit 2, nothing was started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioError {
    pub problems: Vec<Problem>,
}

impl ScenarioError {
    pub fn one(problem: Problem) -> Self {
        ScenarioError {
            problems: vec![problem],
        }
    }

    pub fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// A serde_yaml error, as `file:line:column: field: message`.
    pub fn yaml(path: &Path, err: &serde_yaml::Error) -> Self {
        let text = err.to_string();
        // serde_yaml appends " at line L column C"; the location goes in front instead.
        let text = match text.rfind(" at line ") {
            Some(i) if err.location().is_some() => text[..i].to_string(),
            _ => text,
        };
        // "cluster.cpus: invalid type: ..." → field "cluster.cpus".
        let (field, message) = match text.split_once(": ") {
            Some((f, m)) if !f.contains(' ') && !f.is_empty() => (f.to_string(), m.to_string()),
            _ => ("(document)".to_string(), text.clone()),
        };
        let message = yaml_message(&message);
        let location = err.location().map_or_else(
            || path.display().to_string(),
            |l| format!("{}:{}:{}", path.display(), l.line(), l.column()),
        );
        ScenarioError::one(Problem {
            field,
            message,
            source: None,
            location: Some(location),
        })
    }

    pub fn into_failure(self, subject: &str) -> Failure {
        let subject = super::text::escape_controls(subject);
        let n = self.problems.len();
        let head = if n == 1 {
            format!("{subject} is not valid")
        } else {
            format!("{subject} is not valid ({n} problems)")
        };
        let mut message = head;
        for p in self.problems.iter().take(SHOWN_PROBLEMS) {
            message.push_str("\n  ");
            message.push_str(&p.to_string());
        }
        if n > SHOWN_PROBLEMS {
            message.push_str(&format!("\n  ... and {} more", n - SHOWN_PROBLEMS));
        }
        let listed: Vec<&Problem> = self.problems.iter().take(LISTED_PROBLEMS).collect();
        Failure::new(ExitKind::Usage, message)
            .hint("nothing was started; `docs/scenarios.md` lists every field and its accepted values")
            .details(serde_json::json!({ "problems": listed, "count": n }))
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// serde_yaml's wording, in the terms of a scenario file.
fn yaml_message(message: &str) -> String {
    if let Some(key) = message.strip_prefix("duplicate entry with key ") {
        let key = key.trim_matches('"').trim_matches('`');
        return format!(
            "`{key}` is given twice in one map; accepted: each key once (the second would silently replace the first)"
        );
    }
    if message.starts_with("duplicate entry") {
        return "a key is given twice in one map; accepted: each key once".to_string();
    }
    if message.contains("more than one document") {
        return format!("{message}; accepted: one YAML document (no `---` between two)");
    }
    // Integers beyond 64 bits: serde_yaml says "invalid type: integer `N` as u128, expected ...".
    if let Some(rest) = message.strip_prefix("invalid type: integer `")
        && let Some((n, _)) = rest.split_once('`')
    {
        return format!("`{n}` is too large; accepted: a number that fits in 64 bits");
    }
    if message.contains("recursion limit exceeded") {
        return "nests too deep for a scenario; accepted: a scenario's few levels".to_string();
    }
    message.to_string()
}

/// A file that could not be read at all.
pub fn unreadable(path: &Path, err: &std::io::Error) -> ScenarioError {
    ScenarioError::one(Problem {
        field: "-f".to_string(),
        message: format!("cannot read {}: {err}", path.display()),
        source: None,
        location: None,
    })
}

pub fn path_origin(path: &Path) -> Origin {
    Origin::File(PathBuf::from(path))
}
