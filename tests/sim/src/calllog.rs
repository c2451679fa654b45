//! The call log every fake appends to (CONTRACT.md, "Call log"): one JSON object per line in
//! `$MESHUP_SIM_DIR/calls.jsonl`, a `start` line when a fake begins and an `exit` line when it
//! ends. A process killed by a signal leaves only its `start` line.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One invocation of a fake, as a test sees it: the start line merged with its exit line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub tool: String,
    pub argv: Vec<String>,
    pub cwd: String,
    /// RFC 3339, when it started.
    pub time: String,
    pub pid: u32,
    /// `None` while it runs, or when it was killed by a signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

impl Call {
    /// `minikube start -p x` style, for messages.
    pub fn command_line(&self) -> String {
        std::iter::once(self.tool.as_str())
            .chain(self.argv.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Does the argv contain these arguments, in this order, side by side?
    pub fn has_args(&self, args: &[&str]) -> bool {
        args.is_empty()
            || self
                .argv
                .windows(args.len())
                .any(|w| w.iter().zip(args).all(|(a, b)| a == b))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Event {
    Start,
    Exit,
}

/// One line of `calls.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub event: Event,
    #[serde(flatten)]
    pub call: Call,
}

pub const FILE: &str = "calls.jsonl";

/// A fresh `Call` for this process (time now, pid, cwd).
pub fn this_process(tool: &str, argv: &[String]) -> Call {
    Call {
        tool: tool.to_string(),
        argv: argv.to_vec(),
        cwd: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        pid: std::process::id(),
        exit_code: None,
    }
}

/// Appends one line with a single `write` on an O_APPEND file, so lines of concurrent fakes
/// never interleave.
pub fn append(world_dir: &Path, event: Event, call: &Call) -> std::io::Result<()> {
    let mut call = call.clone();
    if event == Event::Exit {
        call.time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    }
    let mut text = serde_json::to_string(&Line { event, call })?;
    text.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(world_dir.join(FILE))?;
    file.write_all(text.as_bytes())
}

/// Every invocation in `calls.jsonl`, in start order; unparsable lines are skipped.
pub fn read(world_dir: &Path) -> Vec<Call> {
    let text = std::fs::read_to_string(world_dir.join(FILE)).unwrap_or_default();
    merge(&text)
}

/// Merges start and exit lines (matched by pid, the latest open start wins).
pub fn merge(text: &str) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for line in text.lines() {
        let Ok(line) = serde_json::from_str::<Line>(line) else {
            continue;
        };
        match line.event {
            Event::Start => calls.push(line.call),
            Event::Exit => {
                if let Some(open) = calls
                    .iter_mut()
                    .rev()
                    .find(|c| c.pid == line.call.pid && c.exit_code.is_none())
                {
                    open.exit_code = line.call.exit_code;
                }
            }
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_start_and_exit_and_keeps_killed_ones_open() {
        let a = Call {
            tool: "minikube".into(),
            argv: vec!["start".into(), "-p".into(), "x".into()],
            cwd: "/".into(),
            time: "t".into(),
            pid: 7,
            exit_code: None,
        };
        let b = Call {
            pid: 8,
            tool: "istioctl".into(),
            ..a.clone()
        };
        let mut text = String::new();
        for (event, call) in [
            (Event::Start, a.clone()),
            (Event::Start, b.clone()),
            (
                Event::Exit,
                Call {
                    exit_code: Some(106),
                    ..a.clone()
                },
            ),
        ] {
            text.push_str(&serde_json::to_string(&Line { event, call }).unwrap());
            text.push('\n');
        }
        assert!(text.contains(r#""event":"start","tool":"minikube""#));
        assert!(text.contains(r#""exitCode":106"#));
        let calls = merge(&text);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].exit_code, Some(106));
        assert_eq!(calls[1].exit_code, None);
        assert!(calls[0].has_args(&["-p", "x"]));
        assert_eq!(calls[0].command_line(), "minikube start -p x");
    }
}
