//! `meshup status`: the profile as minikube sees it (state, version, size, IP) and as meshup
//! recorded it (who created it, what each stage last did). Read-only: no lock is taken.

use std::fmt::Write;

use serde::Serialize;

use super::input::EnvSourced;
use super::profile::{self, Target};
use crate::cli::ProfileArgs;
use crate::cluster::status::{ClusterState, ProfileInfo};
use crate::error::ExitKind;
use crate::report::Printer;
use crate::report::events::human_duration;
use crate::report::style::Style;
use crate::state::{StageRecord, StateRoot};

pub const SCHEMA: &str = "meshup.status/v1";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub schema: &'static str,
    pub profile: String,
    /// running, stopped, paused, degraded.
    pub state: &'static str,
    /// What is partial about a degraded cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_detail: Option<String>,
    pub kubernetes: Option<String>,
    pub cpus: Option<u32>,
    pub memory_mb: Option<u64>,
    pub driver: Option<String>,
    pub ip: Option<String>,
    /// minikube names the kube context after the profile.
    pub kube_context: String,
    /// The profile's own kubeconfig (`--isolated-kubeconfig`); None: the user's.
    pub kubeconfig: Option<String>,
    pub minikube: String,
    pub meshup: MeshupView,
    /// The tunnel's supervisor, when meshup has started one for the profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelView>,
    /// What meshup installed (mesh/record.json): Istio version, profile, overrides, JWT policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<crate::mesh::record::MeshRecord>,
    /// The last verify (verify.json): when, whether it passed, each check's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TunnelView {
    /// Is the supervisor process alive (its pid file checked against the process table)?
    pub supervised: bool,
    #[serde(flatten)]
    pub status: crate::tunnel::Status,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshupView {
    pub created_by_meshup: bool,
    pub state_dir: Option<String>,
    pub stages: indexmap::IndexMap<String, StageRecord>,
}

pub async fn run(
    args: &ProfileArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let name = profile::name(args, env)?;
    let target = Target::load(&StateRoot::from_env(), &name)?;
    let status = read(&target).await?;
    if printer.json() {
        printer.out_json(&status, true);
    } else {
        printer.out(&render(&status, printer.style()));
    }
    Ok(ExitKind::Success)
}

/// Asks minikube; a profile it does not have is exit 11.
pub async fn read(target: &Target) -> anyhow::Result<Status> {
    let mk = &target.minikube;
    let what = format!("read the status of profile `{}`", target.name);
    let state = mk
        .status()
        .await
        .map_err(|e| profile::minikube_failure(&what, e))?;
    if state == ClusterState::Missing {
        return Err(profile::missing(target));
    }
    let info: Option<ProfileInfo> = mk
        .profile_info()
        .await
        .map_err(|e| profile::minikube_failure(&what, e))?;
    // `minikube ip` needs a running host; the recorded node IP does otherwise.
    let ip = match state {
        ClusterState::Running => mk.ip().await.ok().filter(|ip| !ip.is_empty()),
        _ => None,
    }
    .or_else(|| info.as_ref().and_then(|i| i.node_ip.clone()));
    let (state_name, detail) = match &state {
        ClusterState::Running => ("running", None),
        ClusterState::Stopped => ("stopped", None),
        ClusterState::Paused => ("paused", None),
        ClusterState::Degraded(why) => ("degraded", Some(why.clone())),
        ClusterState::Missing => unreachable!("handled above"),
    };
    let nonempty = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    Ok(Status {
        schema: SCHEMA,
        profile: target.name.clone(),
        state: state_name,
        state_detail: detail,
        kubernetes: info.as_ref().and_then(|i| nonempty(&i.kubernetes_version)),
        cpus: info.as_ref().map(|i| i.cpus).filter(|c| *c > 0),
        memory_mb: info.as_ref().map(|i| i.memory_mb).filter(|m| *m > 0),
        driver: info.as_ref().and_then(|i| nonempty(&i.driver)),
        ip,
        kube_context: target.name.clone(),
        kubeconfig: target.kubeconfig.as_ref().map(|p| p.display().to_string()),
        minikube: mk.bin().display().to_string(),
        meshup: MeshupView {
            created_by_meshup: target.created_by_meshup(),
            state_dir: target
                .state
                .exists()
                .then(|| target.state.dir().display().to_string()),
            stages: target.record.stages.clone(),
        },
        tunnel: tunnel_view(target),
        mesh: crate::mesh::record::load(&target.state)
            .ok()
            .flatten()
            .map(|(record, _)| record),
        verify: std::fs::read(target.state.file(crate::verify::RESULT_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
    })
}

fn render_mesh(o: &mut String, m: &crate::mesh::record::MeshRecord, st: Style) {
    let overrides = if m.set.is_empty() {
        "no overrides".to_owned()
    } else {
        m.set
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let jwt = m
        .jwt_policy
        .as_deref()
        .unwrap_or("third-party-jwt (the only one)");
    let _ = writeln!(
        o,
        "  Mesh        Istio {} `{}` profile, JWT policy {jwt} {}",
        m.istio,
        m.profile,
        st.dim(&format!("(installed {} by {})", m.installed_at, m.method))
    );
    let _ = writeln!(o, "              {}", st.dim(&overrides));
}

fn render_verify(o: &mut String, v: &serde_json::Value, st: Style) {
    let ok = v["ok"].as_bool().unwrap_or(false);
    let verdicts: Vec<String> = v["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let mark = match c["verdict"].as_str() {
                Some("pass") => st.green("✓"),
                Some("fail") => st.red("✗"),
                _ => st.yellow("!"),
            };
            format!("{mark} {}", c["name"].as_str().unwrap_or("?"))
        })
        .collect();
    let head = if ok {
        st.green("passed")
    } else {
        st.red("failed")
    };
    let _ = writeln!(
        o,
        "  Verify      {head} {}",
        st.dim(&format!("({})", v["time"].as_str().unwrap_or("?")))
    );
    let _ = writeln!(o, "              {}", verdicts.join("  "));
    if let Some(d) = v["diagnostics"].as_str() {
        let _ = writeln!(o, "              diagnostics: {d}");
    }
}

fn tunnel_view(target: &Target) -> Option<TunnelView> {
    let dir = target.state.dir();
    let status = crate::tunnel::status(dir)?;
    let supervised = crate::tunnel::running(dir, &target.name) == Some(status.supervisor_pid);
    Some(TunnelView { supervised, status })
}

fn render_tunnel(o: &mut String, t: &TunnelView, st: Style) {
    let s = &t.status;
    let state = match s.state.name() {
        "running" if t.supervised => st.green("running"),
        "failed" => st.red("failed"),
        _ if !t.supervised => st.yellow("not running"),
        other => st.yellow(other),
    };
    let uptime = chrono::DateTime::parse_from_rfc3339(s.state.since())
        .ok()
        .map(|since| {
            let ms = (chrono::Utc::now() - since.with_timezone(&chrono::Utc))
                .num_milliseconds()
                .max(0) as u64;
            human_duration(ms)
        })
        .unwrap_or_default();
    let mode = match s.mode {
        crate::tunnel::state::Mode::Route => "route mode",
        crate::tunnel::state::Mode::Ssh => "SSH mode",
        crate::tunnel::state::Mode::Unknown => "mode unknown yet",
    };
    let _ = write!(o, "  Tunnel      {state}");
    if t.supervised {
        let _ = write!(
            o,
            " {}",
            st.dim(&format!(
                "(supervisor pid {}, {} for {uptime}, {} restart(s), {mode}{})",
                s.supervisor_pid,
                s.state.name(),
                s.restarts,
                s.tunnel_pid
                    .map(|p| format!(", minikube tunnel pid {p}"))
                    .unwrap_or_default()
            ))
        );
    }
    o.push('\n');
    if let crate::tunnel::TunnelState::Failed { reason, hints, .. } = &s.state {
        let _ = writeln!(o, "    reason    {reason}");
        for h in hints {
            let _ = writeln!(o, "    hint      {h}");
        }
    }
    for v in &s.services {
        let addr = v.address.clone().unwrap_or_else(|| "<pending>".into());
        let answer = if v.address.is_none() {
            String::new()
        } else if v.answers {
            format!(" {}", st.green("answers"))
        } else {
            format!(" {}", st.red("no answer"))
        };
        let _ = writeln!(o, "    {}/{} {addr}{answer}", v.namespace, v.name);
    }
    for e in &s.last_errors {
        let _ = writeln!(o, "    {} {}", st.dim("error"), e.replace('\n', " "));
    }
}

pub fn render(s: &Status, st: Style) -> String {
    let mut o = String::new();
    let unknown = || st.dim("unknown");
    let state = match s.state {
        "running" => st.green("Running"),
        "stopped" => st.yellow("Stopped"),
        "paused" => st.yellow("Paused"),
        _ => st.red("Degraded"),
    };
    let _ = writeln!(o, "{}", st.bold(&format!("Profile {}", s.profile)));
    let _ = write!(o, "  State       {state}");
    if let Some(detail) = &s.state_detail {
        let _ = write!(o, " {}", st.dim(&format!("({detail})")));
    }
    o.push('\n');
    let field = |o: &mut String, label: &str, v: Option<String>| {
        let _ = writeln!(o, "  {label:<11} {}", v.unwrap_or_else(unknown));
    };
    field(&mut o, "Kubernetes", s.kubernetes.clone());
    field(&mut o, "CPUs", s.cpus.map(|c| c.to_string()));
    field(&mut o, "Memory", s.memory_mb.map(|m| format!("{m} MB")));
    field(&mut o, "Driver", s.driver.clone());
    field(&mut o, "IP", s.ip.clone());
    let kubeconfig = match &s.kubeconfig {
        Some(path) => format!("in {path} (export KUBECONFIG={path})"),
        None => "in your kubeconfig".to_owned(),
    };
    let _ = writeln!(
        o,
        "  Context     {} {}",
        s.kube_context,
        st.dim(&kubeconfig)
    );
    let _ = writeln!(o, "  minikube    {}", s.minikube);
    let meshup = match (&s.meshup.state_dir, s.meshup.created_by_meshup) {
        (Some(dir), true) => format!("created this profile; state in {dir}"),
        (Some(dir), false) => format!("did not create this profile; state in {dir}"),
        (None, _) => "has no state for this profile (not created by meshup)".to_owned(),
    };
    let _ = writeln!(o, "  meshup      {meshup}");
    if let Some(t) = &s.tunnel {
        render_tunnel(&mut o, t, st);
    }
    if let Some(m) = &s.mesh {
        render_mesh(&mut o, m, st);
    }
    if let Some(v) = &s.verify {
        render_verify(&mut o, v, st);
    }
    for (name, stage) in &s.meshup.stages {
        let took = stage
            .duration_ms
            .map(|ms| format!(", took {}", human_duration(ms)))
            .unwrap_or_default();
        let detail = Some(&stage.detail)
            .filter(|d| !d.is_empty())
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let status = serde_json::to_value(stage.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "    {name:<9} {status}{detail} {}",
            st.dim(&format!("({}{took})", stage.started))
        );
    }
    o
}
