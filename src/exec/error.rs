use std::time::Duration;

use super::{Cmd, Output, Status};

const TAIL_LINES: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("`{program}` was not found (looked on PATH)")]
    NotFound { program: String },
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` {status}{}", render_tail(tail))]
    Failed {
        command: String,
        status: Status,
        tail: Vec<String>,
        output: Box<Output>,
    },
    #[error("`{command}` did not finish within {}s{}", after.as_secs_f32(), render_tail(tail))]
    TimedOut {
        command: String,
        after: Duration,
        tail: Vec<String>,
    },
    #[error("`{command}` was stopped because meshup is shutting down")]
    Cancelled { command: String },
}

impl ExecError {
    /// The error of a command that ran and exited non-zero.
    pub fn failed(cmd: &Cmd, output: Output) -> ExecError {
        ExecError::Failed {
            command: cmd.display(),
            status: output.status,
            tail: output
                .tail(TAIL_LINES)
                .into_iter()
                .map(String::from)
                .collect(),
            output: Box::new(output),
        }
    }

    pub(super) fn timed_out(cmd: &Cmd, stdout: &str, stderr: &str) -> ExecError {
        let partial = Output {
            status: Status {
                code: None,
                signal: None,
            },
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
        };
        ExecError::TimedOut {
            command: cmd.display(),
            after: cmd.timeout,
            tail: partial
                .tail(TAIL_LINES)
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ExecError::NotFound { .. })
    }

    /// The output of a command that ran and failed.
    pub fn output(&self) -> Option<&Output> {
        match self {
            ExecError::Failed { output, .. } => Some(output),
            _ => None,
        }
    }
}

fn render_tail(tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let mut s = String::from("; its last output:");
    for line in tail {
        s.push_str("\n    ");
        s.push_str(line);
    }
    s
}
