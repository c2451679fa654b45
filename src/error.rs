//! The one table of exit codes (DESIGN.md, "Contracts") and the error that carries one.
//! Inside modules use thiserror enums; whatever reaches `main` is mapped through `Failure`.

use std::fmt;

/// Exit codes, one table for every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitKind {
    Success = 0,
    /// `manifest diff`, `profile diff`: differences found, like `diff`.
    Differences = 1,
    /// Usage or bad input; nothing was started.
    Usage = 2,
    Preflight = 3,
    Tools = 4,
    Cluster = 5,
    Tunnel = 6,
    Mesh = 7,
    Verify = 8,
    Timeout = 9,
    Locked = 10,
    /// `status`, `stop`: minikube has no such profile.
    NoProfile = 11,
    /// A bug: an error that carries no exit code of its own (sysexits' EX_SOFTWARE).
    Internal = 70,
    Interrupted = 130,
    Terminated = 143,
}

impl ExitKind {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that knows which exit code it means, with hints saying what to do next.
#[derive(Debug)]
pub struct Failure {
    pub kind: ExitKind,
    pub message: String,
    pub hints: Vec<String>,
    /// Machine-readable details for `--output json` (e.g. minikube's reason id and exit code).
    pub details: serde_json::Value,
}

impl Failure {
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            hints: Vec::new(),
            details: serde_json::Value::Null,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The exit kind of any error that reached the edge: a `Failure` anywhere in the chain decides,
/// anything else is an internal error reported as a usage-independent failure of the stage.
pub fn exit_kind_of(err: &anyhow::Error) -> Option<ExitKind> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Failure>())
        .map(|f| f.kind)
}

impl Failure {
    /// The failure of an error that carries no exit code of its own: a bug (70), shown with
    /// its whole cause chain.
    pub fn internal(err: &anyhow::Error) -> Failure {
        let mut message = err.to_string();
        let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
        if !causes.is_empty() {
            message.push_str("\n\nCaused by:");
            for (i, c) in causes.iter().enumerate() {
                message.push_str(&format!("\n    {i}: {c}"));
            }
        }
        Failure::new(ExitKind::Internal, message)
            .hint("this is a bug in meshup: rerun with -vv and report it with this output")
            .details(serde_json::json!({ "causes": causes }))
    }

    /// The failure an error at the edge means: the first `Failure` in its chain, else a bug.
    pub fn of(err: &anyhow::Error) -> Failure {
        match err.chain().find_map(|e| e.downcast_ref::<Failure>()) {
            Some(f) => Failure {
                kind: f.kind,
                message: f.message.clone(),
                hints: f.hints.clone(),
                details: f.details.clone(),
            },
            None => Failure::internal(err),
        }
    }

    /// `error: ...` then `hint: ...` lines, for stderr.
    pub fn render_text(&self, color: bool) -> String {
        let paint = |code: &str, t: &str| {
            if color {
                format!("\x1b[{code}m{t}\x1b[0m")
            } else {
                t.to_string()
            }
        };
        let mut out = format!("{} {}\n", paint("1;31", "error:"), self.message);
        for h in &self.hints {
            out.push_str(&format!("{} {h}\n", paint("1;36", "hint:")));
        }
        out
    }

    /// The error as JSON: `kind`, `exitCode`, `message`, `hints`, `details`. Commands that print
    /// events wrap it in their `result` event (`report::events`); the others in `to_json`.
    pub fn error_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind,
            "exitCode": self.kind.code(),
            "message": self.message,
            "hints": self.hints,
            "details": self.details,
        })
    }

    /// The error document of commands that print one JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "schema": "meshup.error/v1", "error": self.error_json() })
    }
}
