//! The supervisor's state: an explicit enum with timestamps, the restart count, what the
//! tunnel serves and its last errors. The supervisor writes it to `tunnel.json` in the
//! profile's state dir on every change; `meshup status` reads it.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub const STATUS_FILE: &str = "tunnel.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum TunnelState {
    /// `minikube tunnel` was started; not yet serving.
    Starting { since: String },
    /// It serves: route added (route mode) or started (SSH mode), no errors.
    Running { since: String },
    /// It died unexpectedly; restarted at `until`.
    BackingOff {
        since: String,
        until: String,
        reason: String,
    },
    /// Given up: `reason` says why, `hints` what to do.
    Failed {
        since: String,
        reason: String,
        #[serde(default)]
        hints: Vec<String>,
        /// The failure's machine-readable details (e.g. the conflicting route's owner).
        #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
        details: serde_json::Value,
    },
    /// Stopped on request (SIGINT to the tunnel: routes and addresses cleaned).
    Stopped { since: String },
}

impl TunnelState {
    pub fn name(&self) -> &'static str {
        match self {
            TunnelState::Starting { .. } => "starting",
            TunnelState::Running { .. } => "running",
            TunnelState::BackingOff { .. } => "backing-off",
            TunnelState::Failed { .. } => "failed",
            TunnelState::Stopped { .. } => "stopped",
        }
    }

    pub fn since(&self) -> &str {
        match self {
            TunnelState::Starting { since }
            | TunnelState::Running { since }
            | TunnelState::BackingOff { since, .. }
            | TunnelState::Failed { since, .. }
            | TunnelState::Stopped { since } => since,
        }
    }

    /// Settled: the caller waiting for the tunnel can stop waiting.
    pub fn settled(&self) -> bool {
        matches!(
            self,
            TunnelState::Running { .. } | TunnelState::Failed { .. } | TunnelState::Stopped { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Unknown,
    /// `sudo ip route add` + the `Status:` block.
    Route,
    /// `ssh -L` per service.
    Ssh,
}

/// A LoadBalancer Service as the supervisor last saw it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    pub namespace: String,
    pub name: String,
    /// `status.loadBalancer.ingress[0]` (ip or hostname), if any.
    pub address: Option<String>,
    /// Did a connection to the address (status port, else the first port) succeed?
    pub answers: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub profile: String,
    pub supervisor_pid: u32,
    /// When this supervisor started (RFC 3339).
    pub started_at: String,
    #[serde(flatten)]
    pub state: TunnelState,
    pub restarts: u32,
    pub mode: Mode,
    /// The running `minikube tunnel`'s pid.
    pub tunnel_pid: Option<u32>,
    pub services: Vec<Served>,
    /// Newest last, at most `MAX_ERRORS`.
    pub last_errors: Vec<String>,
}

pub const MAX_ERRORS: usize = 5;

impl Status {
    pub fn new(profile: &str) -> Status {
        let now = now();
        Status {
            profile: profile.to_owned(),
            supervisor_pid: std::process::id(),
            started_at: now.clone(),
            state: TunnelState::Starting { since: now },
            restarts: 0,
            mode: Mode::Unknown,
            tunnel_pid: None,
            services: Vec::new(),
            last_errors: Vec::new(),
        }
    }

    pub fn error(&mut self, e: impl Into<String>) {
        let e = e.into();
        if self.last_errors.last() != Some(&e) {
            self.last_errors.push(e);
        }
        let extra = self.last_errors.len().saturating_sub(MAX_ERRORS);
        self.last_errors.drain(..extra);
    }

    pub fn load(path: &Path) -> Option<Status> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        crate::state::write_atomically(path, &serde_json::to_vec_pretty(self)?)
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_with_a_flat_state() {
        let mut s = Status::new("p");
        s.state = TunnelState::Failed {
            since: "t".into(),
            reason: "r".into(),
            hints: vec!["h".into()],
            details: serde_json::json!({"reason": "R"}),
        };
        for i in 0..7 {
            s.error(format!("e{i}"));
        }
        s.error("e6");
        assert_eq!(s.last_errors, ["e2", "e3", "e4", "e5", "e6"]);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["state"], "failed");
        assert_eq!(json["reason"], "r");
        assert_eq!(json["details"]["reason"], "R");
        let back: Status = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        assert!(back.state.settled());
    }
}
