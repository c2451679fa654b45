//! Verify: named checks proving the mesh works end to end, each a pure condition
//! (`conditions`) awaited through a kube-rs watch (`watch`) with its own timeout, run
//! concurrently (`run`), reported like `linkerd check`; the smoke workload they deploy
//! (`smoke`), and the diagnostics bundle written when one fails (`diagnostics`).
//! Facts: research/istio.md §6–7. Timeouts: the scenario's, bounded by the global one,
//! `MESHUP_VERIFY_TIMEOUT` overrides.

pub mod checks;
pub mod conditions;
pub mod diagnostics;
pub mod http;
pub mod injector;
pub mod smoke;
pub mod watch;

#[cfg(test)]
mod conditions_tests;

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// The checks, in the order they are reported.
pub const CHECKS: &[&str] = &[
    "control-plane",
    "gateways",
    "loadbalancer",
    "sidecar",
    "mesh-route",
    "injection-drift",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// Worth a look, not a failure (injection drift).
    Warn,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub name: &'static str,
    pub verdict: Verdict,
    pub duration_ms: u64,
    pub message: String,
    /// What to do about a failure or warning.
    pub hints: Vec<String>,
    /// What the check saw (addresses, answers, pod states, tunnel state), for JSON and the bundle.
    pub evidence: Value,
    /// The namespaces a failure concerns (the bundle collects their events and pods).
    #[serde(skip)]
    pub namespaces: Vec<String>,
    /// When the verdict was reached (measurements of the watch latency).
    #[serde(skip)]
    pub finished: Option<Instant>,
}

impl CheckResult {
    pub fn new(
        name: &'static str,
        verdict: Verdict,
        started: Instant,
        message: impl Into<String>,
    ) -> Self {
        CheckResult {
            name,
            verdict,
            duration_ms: started.elapsed().as_millis() as u64,
            message: message.into(),
            hints: Vec::new(),
            evidence: Value::Null,
            namespaces: Vec::new(),
            finished: Some(Instant::now()),
        }
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hints.push(h.into());
        self
    }
    pub fn evidence(mut self, e: Value) -> Self {
        self.evidence = e;
        self
    }
    pub fn namespaces(mut self, ns: &[&str]) -> Self {
        self.namespaces = ns.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// What verify needs to know, from the scenario and the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: String,
    /// `namespace/name` of each LoadBalancer Service.
    pub load_balancers: Vec<String>,
    pub smoke_namespace: String,
    pub smoke_image: String,
    pub check_timeout: Duration,
    pub keep_smoke: bool,
    /// The smoke workload is in place already (`meshup start`'s smoke stage made it); the
    /// sidecar check only waits for it.
    pub smoke_deployed: bool,
    /// The profile's state dir (the tunnel's files are evidence).
    pub state_dir: Option<std::path::PathBuf>,
}

/// `MESHUP_VERIFY_TIMEOUT` (a duration like `90s`) if set, else the scenario's per-check
/// timeout, never beyond the global one.
pub fn check_timeout(scenario_check: Duration, global: Duration) -> anyhow::Result<Duration> {
    let chosen = match std::env::var("MESHUP_VERIFY_TIMEOUT") {
        Ok(v) if !v.trim().is_empty() => crate::scenario::quantity::parse_duration(v.trim())
            .map_err(|_| {
                crate::error::Failure::new(
                    crate::error::ExitKind::Usage,
                    format!("MESHUP_VERIFY_TIMEOUT=`{v}` is not a duration"),
                )
                .hint(format!(
                    "accepted: {}",
                    crate::scenario::quantity::DURATION_ACCEPTED
                ))
            })?,
        _ => scenario_check,
    };
    Ok(chosen.min(global))
}

/// The outcome of one verify run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub profile: String,
    pub time: String,
    pub ok: bool,
    pub checks: Vec<CheckResult>,
    /// The diagnostics bundle written for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
}

impl Report {
    pub fn new(profile: &str, checks: Vec<CheckResult>) -> Report {
        Report {
            profile: profile.to_owned(),
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ok: checks.iter().all(|c| c.verdict != Verdict::Fail),
            checks,
            diagnostics: None,
        }
    }

    pub fn failed(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Fail)
    }
}

/// The file in the profile's state dir holding the last verify result (`status` shows it).
pub const RESULT_FILE: &str = "verify.json";

/// Runs every check against the cluster behind `client` (the profile's explicit context).
pub async fn run(client: &kube::Client, settings: &Settings) -> Report {
    let checks = checks::run_all(client, settings).await;
    let report = Report::new(&settings.profile, checks);
    if report.ok && !settings.keep_smoke {
        smoke::remove(client, &settings.smoke_namespace).await;
    }
    report
}

/// [`run`], then on failure the diagnostics bundle (its path in the report), and the result
/// saved as `verify.json` in the profile's state dir when there is one (`status` shows it).
pub async fn run_recorded(
    client: &kube::Client,
    settings: &Settings,
    bundle: &diagnostics::Bundle,
) -> Report {
    let mut report = run(client, settings).await;
    if !report.ok {
        match diagnostics::write(Some(client), settings, &report, bundle).await {
            Ok(path) => report.diagnostics = Some(path.display().to_string()),
            Err(e) => tracing::warn!("cannot write the diagnostics bundle: {e:#}"),
        }
    }
    if let Some(dir) = settings.state_dir.as_ref().filter(|d| d.is_dir())
        && let Ok(bytes) = serde_json::to_vec_pretty(&report)
    {
        let _ = crate::state::write_atomically(&dir.join(RESULT_FILE), &bytes);
    }
    report
}
