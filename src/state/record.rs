use std::path::Path;

use anyhow::Context;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageStatus {
    Running,
    Done,
    Skipped,
    Failed,
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageRecord {
    pub status: StageStatus,
    /// RFC 3339, UTC.
    pub started: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// What the stage did, in a few words ("created", "nothing changed", the error).
    #[serde(default)]
    pub detail: String,
}

/// The record of the last runs on a profile: read by `status`, by a re-run to know where an
/// interrupted one stopped, and by `down --all` to know meshup created the profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub created_by_meshup: bool,
    /// The resolved scenario of the last run.
    #[serde(default)]
    pub scenario: serde_json::Value,
    #[serde(default)]
    pub stages: IndexMap<String, StageRecord>,
}

impl Record {
    pub fn load(path: &Path) -> anyhow::Result<Record> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("reading meshup's record {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn stage_started(&mut self, name: &str) {
        self.stages.insert(
            name.to_owned(),
            StageRecord {
                status: StageStatus::Running,
                started: now(),
                finished: None,
                duration_ms: None,
                detail: String::new(),
            },
        );
    }

    pub fn stage_ended(&mut self, name: &str, status: StageStatus, detail: impl Into<String>) {
        let finished = chrono::Utc::now();
        let finished_text = format_time(finished);
        let entry = self
            .stages
            .entry(name.to_owned())
            .or_insert_with(|| StageRecord {
                status,
                started: finished_text.clone(),
                finished: None,
                duration_ms: None,
                detail: String::new(),
            });
        entry.status = status;
        entry.duration_ms = chrono::DateTime::parse_from_rfc3339(&entry.started)
            .ok()
            .map(|s| {
                (finished - s.with_timezone(&chrono::Utc))
                    .num_milliseconds()
                    .max(0) as u64
            });
        entry.finished = Some(finished_text);
        entry.detail = detail.into();
    }

    pub fn stage(&self, name: &str) -> Option<&StageRecord> {
        self.stages.get(name)
    }
}

pub fn now() -> String {
    format_time(chrono::Utc::now())
}

/// RFC 3339 in UTC with milliseconds and `Z`: the one format of every time meshup records.
fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
