//! The diagnostics bundle written when a check (or a stage of `start`) fails: a folder in the
//! diagnostics location (DESIGN.md "Files": kept by `down`), optionally a `.tar.gz`, holding
//! what a person needs to see why: the check results, events of the affected namespaces, each
//! non-ready Pod described, the last 200 log lines of each failing container (istio-proxy
//! included), the LoadBalancer Services, the tunnel's files, the tail of `minikube logs`, the
//! recorded manifest / install command and meshup's record. No credential from the kubeconfig
//! ever goes in: the kubeconfig is never copied, and every file written is scrubbed of the
//! kubeconfig's tokens, client keys and certificates.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Pod, Service};
use kube::api::{Api, ListParams, LogParams};

use super::{Report, Settings, conditions};
use crate::exec::Cmd;

/// Where the bundle goes and how.
pub struct Bundle {
    /// `--diagnostics-dir`, else `<state root>/diagnostics/<profile>-<UTC timestamp>`.
    pub dir: PathBuf,
    pub archive: bool,
    /// The kubeconfig meshup used (its secrets are scrubbed from every file).
    pub kubeconfig: Option<PathBuf>,
    /// The minikube that manages the profile (for `minikube logs`).
    pub minikube: Option<Cmd>,
}

/// `<profile>-20261202T203000Z`.
pub fn default_dir(root: &Path, profile: &str) -> PathBuf {
    root.join(format!(
        "{profile}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ))
}

/// The secrets of a kubeconfig: tokens, passwords, client keys and certificates (inline data,
/// their decoded PEM, and the files they point at).
pub fn kubeconfig_secrets(path: Option<&Path>) -> Vec<String> {
    let path = path.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("KUBECONFIG")
            .and_then(|k| std::env::split_paths(&k).next())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config")))
    });
    let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
        return Vec::new();
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let add_pem = |pem: &str, out: &mut Vec<String>| {
        for line in pem
            .lines()
            .map(str::trim)
            .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
        {
            out.push(line.to_string());
        }
    };
    for user in doc["users"].as_sequence().into_iter().flatten() {
        let u = &user["user"];
        for key in [
            "token",
            "password",
            "client-key-data",
            "client-certificate-data",
        ] {
            if let Some(v) = u[key].as_str() {
                out.push(v.to_string());
                if key.ends_with("-data") {
                    use base64::Engine as _;
                    if let Ok(pem) = base64::engine::general_purpose::STANDARD.decode(v) {
                        add_pem(&String::from_utf8_lossy(&pem), &mut out);
                    }
                }
            }
        }
        for key in ["client-key", "client-certificate", "tokenFile"] {
            if let Some(file) = u[key].as_str()
                && let Ok(body) = std::fs::read_to_string(file)
            {
                add_pem(&body, &mut out);
                if key == "tokenFile" {
                    out.push(body.trim().to_string());
                }
            }
        }
    }
    out.retain(|s| s.len() >= 8);
    out
}

struct Writer {
    dir: PathBuf,
    secrets: Vec<String>,
}

impl Writer {
    fn put(&self, rel: &str, text: &str) {
        let mut clean = text.to_string();
        for s in &self.secrets {
            if clean.contains(s.as_str()) {
                clean = clean.replace(s.as_str(), "<redacted>");
            }
        }
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(path, clean);
    }
}

/// Writes the bundle; returns its path (the folder, or the archive).
pub async fn write(
    client: Option<&kube::Client>,
    settings: &Settings,
    report: &Report,
    bundle: &Bundle,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(&bundle.dir)?;
    let w = Writer {
        dir: bundle.dir.clone(),
        secrets: kubeconfig_secrets(bundle.kubeconfig.as_deref()),
    };
    w.put("README.txt", README);
    w.put("checks.json", &serde_json::to_string_pretty(report)?);
    let namespaces: BTreeSet<String> = report
        .checks
        .iter()
        .filter(|c| c.verdict == super::Verdict::Fail)
        .flat_map(|c| c.namespaces.iter().cloned())
        .collect();
    if let Some(client) = client {
        for ns in &namespaces {
            cluster_state(client, ns, &w).await;
        }
        for r in &settings.load_balancers {
            let (ns, name) = r.split_once('/').unwrap_or(("istio-system", r));
            let api: Api<Service> = Api::namespaced(client.clone(), ns);
            let text = match api.get_opt(name).await {
                Ok(Some(s)) => serde_yaml::to_string(&s).unwrap_or_default(),
                Ok(None) => format!("service {ns}/{name} does not exist\n"),
                Err(e) => format!("cannot read service {ns}/{name}: {e}\n"),
            };
            w.put(&format!("services/{ns}-{name}.yaml"), &text);
        }
    }
    if let Some(dir) = &settings.state_dir {
        state_files(dir, &w);
    }
    if let Some(mk) = &bundle.minikube {
        let text = match mk
            .clone()
            .timeout(Duration::from_secs(60))
            .run_unchecked()
            .await
        {
            Ok(out) => {
                let lines: Vec<&str> = out.stdout.lines().collect();
                let tail = &lines[lines.len().saturating_sub(300)..];
                format!("$ {}\n{}\n{}", mk.display(), tail.join("\n"), out.stderr)
            }
            Err(e) => format!("$ {}\n{e}\n", mk.display()),
        };
        w.put("minikube-logs.txt", &text);
    }
    if !bundle.archive {
        return Ok(bundle.dir.clone());
    }
    let archive = bundle.dir.with_extension("tar.gz");
    let file = std::fs::File::create(&archive)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let top = bundle
        .dir
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| "diagnostics".into());
    tar.append_dir_all(&top, &bundle.dir)?;
    tar.into_inner()?.finish()?;
    std::fs::remove_dir_all(&bundle.dir)?;
    Ok(archive)
}

const README: &str = "meshup diagnostics bundle\n\n\
checks.json        the verify result (each check, its message and evidence)\n\
events/<ns>.txt    events of the namespaces the failures concern\n\
pods/<ns>.txt      each non-ready pod: phase, conditions, container states\n\
logs/<ns>/<pod>/<container>.log   last 200 lines of each failing container (istio-proxy included)\n\
services/          the LoadBalancer services verify checked\n\
state/             the tunnel's files, the recorded manifest and meshup's record (profile state dir)\n\
minikube-logs.txt  the tail of `minikube logs`\n\n\
No credential from the kubeconfig is included.\n";

async fn cluster_state(client: &kube::Client, ns: &str, w: &Writer) {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let mut text = String::from("LAST SEEN\tTYPE\tREASON\tOBJECT\tCOUNT\tMESSAGE\n");
    if let Ok(list) = events.list(&ListParams::default()).await {
        let mut items = list.items;
        items.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
        for e in items {
            let _ = writeln!(
                text,
                "{}\t{}\t{}\t{}/{}\t{}\t{}",
                e.last_timestamp
                    .map(|t| t.0.to_string())
                    .unwrap_or_default(),
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.involved_object.kind.unwrap_or_default().to_lowercase(),
                e.involved_object.name.unwrap_or_default(),
                e.count.unwrap_or(1),
                e.message.unwrap_or_default()
            );
        }
    }
    w.put(&format!("events/{ns}.txt"), &text);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let Ok(list) = pods.list(&ListParams::default()).await else {
        return;
    };
    let mut described = String::new();
    for p in &list.items {
        let name = p.metadata.name.clone().unwrap_or_default();
        if matches!(
            conditions::sidecar(Some(p), &name),
            conditions::Sidecar::Ready
        ) || (!conditions::has_proxy(p) && is_ready(p))
        {
            continue;
        }
        described.push_str(&describe(p));
        described.push('\n');
        for c in failing_containers(p) {
            let params = LogParams {
                container: Some(c.clone()),
                tail_lines: Some(200),
                ..LogParams::default()
            };
            let log = pods
                .logs(&name, &params)
                .await
                .unwrap_or_else(|e| format!("cannot read the log: {e}\n"));
            w.put(&format!("logs/{ns}/{name}/{c}.log"), &log);
        }
    }
    if !described.is_empty() {
        w.put(&format!("pods/{ns}.txt"), &described);
    }
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Containers not ready (init containers that did not complete included).
fn failing_containers(p: &Pod) -> Vec<String> {
    let Some(status) = p.status.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in status.init_container_statuses.iter().flatten() {
        let done = s
            .state
            .as_ref()
            .and_then(|st| st.terminated.as_ref())
            .is_some_and(|t| t.exit_code == 0);
        if !s.ready && !done {
            out.push(s.name.clone());
        }
    }
    for s in status.container_statuses.iter().flatten() {
        if !s.ready {
            out.push(s.name.clone());
        }
    }
    out
}

/// A `kubectl describe pod`-like text: phase, conditions, each container's state.
pub fn describe(p: &Pod) -> String {
    let mut o = String::new();
    let status = p.status.clone().unwrap_or_default();
    let _ = writeln!(
        o,
        "Name:       {}",
        p.metadata.name.as_deref().unwrap_or_default()
    );
    let _ = writeln!(
        o,
        "Namespace:  {}",
        p.metadata.namespace.as_deref().unwrap_or_default()
    );
    let _ = writeln!(
        o,
        "Node:       {}",
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_else(|| "<none>".into())
    );
    let _ = writeln!(
        o,
        "Status:     {}",
        status.phase.as_deref().unwrap_or("Unknown")
    );
    let _ = writeln!(o, "Conditions:\n  Type\tStatus\tReason\tMessage");
    for c in status.conditions.iter().flatten() {
        let _ = writeln!(
            o,
            "  {}\t{}\t{}\t{}",
            c.type_,
            c.status,
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or("")
        );
    }
    for (title, list) in [
        ("Init Containers", &status.init_container_statuses),
        ("Containers", &status.container_statuses),
    ] {
        let Some(list) = list else { continue };
        let _ = writeln!(o, "{title}:");
        for s in list {
            let state = s.state.clone().unwrap_or_default();
            let st = if let Some(w) = state.waiting {
                format!(
                    "Waiting ({}{})",
                    w.reason.unwrap_or_default(),
                    w.message.map(|m| format!(": {m}")).unwrap_or_default()
                )
            } else if let Some(t) = state.terminated {
                format!(
                    "Terminated ({}, exit {})",
                    t.reason.unwrap_or_default(),
                    t.exit_code
                )
            } else if state.running.is_some() {
                "Running".to_string()
            } else {
                "Unknown".to_string()
            };
            let _ = writeln!(
                o,
                "  {}:\n    Image:    {}\n    State:    {st}\n    Ready:    {}\n    Restarts: {}",
                s.name, s.image, s.ready, s.restart_count
            );
        }
    }
    o
}

/// The profile state dir's files worth having (the tunnel's, the recorded manifest, meshup's
/// record and event log) — never the kubeconfig or the lock.
fn state_files(dir: &Path, w: &Writer) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains("kubeconfig")
            || name.ends_with(".lock")
            || name == "lock"
            || !entry.path().is_file()
        {
            continue;
        }
        let wanted = name.starts_with("tunnel")
            || name.starts_with("manifest")
            || name.starts_with("mesh")
            || name.starts_with("events")
            || name.starts_with("record")
            || name.starts_with("install")
            || name.ends_with(".log");
        if !wanted {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            w.put(&format!("state/{name}"), &text);
        }
    }
}
