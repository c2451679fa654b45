//! What is on this host: the tools on PATH and their versions, docker's cgroup version, CPUs
//! and memory. Only read-only version queries are run (a dry-run runs nothing else), each
//! through `exec` with a short timeout, concurrently. Missing or broken tools are data.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::plan::{self as planner, ToolResolution};
use crate::scenario::Scenario;
use crate::tools::{self, Installer, Lock, Tool, ToolError};

use crate::cluster::minikube::Minikube;
use crate::compat::Version;
use crate::compat::host::{HostFacts, ResourceSource};
use crate::exec::{Cmd, ExecError};
use crate::plan::{Probes, ToolProbe};

const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

/// Probes minikube, istioctl and docker (and kubectl's presence). With `kubectl_version`,
/// also runs `kubectl version --client` (doctor does; a dry-run does not).
pub async fn probe(kubectl_version: bool) -> Probes {
    let (minikube, istioctl, kubectl, (docker, docker_facts)) = tokio::join!(
        probe_minikube(),
        probe_istioctl(),
        probe_kubectl(kubectl_version),
        probe_docker(),
    );
    let mut host = docker_facts;
    // Without docker's view (not installed, not running), fall back to the machine's own
    // figures — labelled as such: Docker Desktop's VM may have less than the machine.
    if host.cpus.is_none() || host.memory_mb.is_none() {
        host.resources_from = ResourceSource::Machine;
        let sys = sysinfo::System::new_with_specifics(
            sysinfo::RefreshKind::nothing()
                .with_memory(sysinfo::MemoryRefreshKind::nothing().with_ram())
                .with_cpu(sysinfo::CpuRefreshKind::nothing()),
        );
        host.cpus = host
            .cpus
            .or(Some(sys.cpus().len() as u64).filter(|n| *n > 0));
        host.memory_mb = host
            .memory_mb
            .or(Some(sys.total_memory() / (1024 * 1024)).filter(|m| *m > 0));
    }
    tracing::debug!(
        ?minikube,
        ?istioctl,
        ?kubectl,
        ?docker,
        ?host,
        "probed the host"
    );
    Probes {
        minikube,
        istioctl,
        kubectl,
        docker,
        host,
        tools: ToolResolution::Unresolved,
    }
}

/// How a run honours meshup.lock: the fields of the live start's `tools::PrepareOptions` that
/// decide it.
#[derive(Debug, Clone, Default)]
pub struct LockUse {
    /// `--locked`: the lock must exist and fit.
    pub locked: bool,
    /// CI mode: a lock next to the scenario (or here) is honoured.
    pub ci: bool,
    /// The scenario file, whose folder holds meshup.lock.
    pub scenario: Option<PathBuf>,
}

/// Fills `probes.tools` with what `tools::resolve` decides for `s` — the call, request, probe
/// answers, cache, mirrors and lock the live start's tools stage uses, so a plan shows what
/// the run will do. Nothing is downloaded and no mirror is asked (resolution only reads the
/// cache and builds URLs; a lock's digests come from the file). kubectl is asked its version
/// only when the scenario needs it.
pub async fn resolve_tools(
    s: &Scenario,
    probes: &mut Probes,
    lock: &LockUse,
) -> Result<(), ToolError> {
    let req = planner::request(s, probes);
    probe_kubectl_if_needed(&req, probes).await;
    let resolved = async {
        let installer = Installer::from_env()?;
        let lock = Lock::for_run(
            lock.locked,
            lock.ci,
            lock.scenario.as_deref(),
            installer.platform,
        )?;
        tools::resolve::resolve(&req, &ProbedTools(probes), &installer, lock.as_ref()).await
    }
    .await;
    match resolved {
        Ok(r) => {
            probes.tools = ToolResolution::Resolved(Box::new(r));
            Ok(())
        }
        Err(e) => {
            probes.tools = ToolResolution::Failed(e.to_string());
            Err(e)
        }
    }
}

/// The probe's answers as `tools::resolve` asks for them: the same PATH lookups and version
/// queries, run once.
/// `kubectl version` runs only when the scenario needs kubectl (other dry-runs run nothing more).
pub async fn probe_kubectl_if_needed(req: &tools::Request, probes: &mut Probes) {
    if req.kubectl
        && matches!(
            probes.kubectl,
            ToolProbe::Found {
                version: None,
                problem: None,
                ..
            }
        )
    {
        probes.kubectl = probe_kubectl(true).await;
    }
}

/// The probe's answers as `tools::resolve` asks for them: each tool is asked its version once.
pub struct ProbedTools<'a>(pub &'a Probes);

impl ProbedTools<'_> {
    fn probe(&self, tool: Tool) -> &ToolProbe {
        match tool {
            Tool::Minikube => &self.0.minikube,
            Tool::Istioctl => &self.0.istioctl,
            Tool::Kubectl => &self.0.kubectl,
        }
    }
}

impl tools::probe::Probe for ProbedTools<'_> {
    fn find(&self, tool: Tool) -> Option<PathBuf> {
        self.probe(tool).path().cloned()
    }

    async fn version(&self, tool: Tool, _path: &Path) -> Option<semver::Version> {
        self.probe(tool).version().map(|v| v.0.clone())
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    which::which(program).ok()
}

fn found(path: PathBuf, version: Option<Version>, problem: Option<String>) -> ToolProbe {
    ToolProbe::Found {
        path,
        version,
        problem,
    }
}

fn describe(err: &ExecError) -> String {
    err.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn probe_minikube() -> ToolProbe {
    let Some(path) = on_path("minikube") else {
        return ToolProbe::Missing;
    };
    match Minikube::version(&path).await {
        Ok(text) => match Version::parse(&text) {
            Some(v) => found(path, Some(v), None),
            None => found(
                path,
                None,
                Some(format!(
                    "`minikube version -o json` printed no version ({text:?})"
                )),
            ),
        },
        Err(e) => found(path, None, Some(describe(&e))),
    }
}

async fn probe_istioctl() -> ToolProbe {
    let Some(path) = on_path("istioctl") else {
        return ToolProbe::Missing;
    };
    let out = query(&path, &["version", "--remote=false", "-o", "json"]).await;
    match out {
        Ok(stdout) => match parse_istioctl_version(&stdout) {
            Some(v) => found(path, Some(v), None),
            None => found(
                path,
                None,
                Some("`istioctl version --remote=false -o json` printed no clientVersion".into()),
            ),
        },
        Err(e) => found(path, None, Some(e)),
    }
}

async fn probe_kubectl(run_version: bool) -> ToolProbe {
    let Some(path) = on_path("kubectl") else {
        return ToolProbe::Missing;
    };
    if !run_version {
        return found(path, None, None);
    }
    match query(&path, &["version", "--client", "-o", "json"]).await {
        Ok(stdout) => {
            let v = serde_json::from_str::<serde_json::Value>(&stdout)
                .ok()
                .and_then(|j| {
                    j["clientVersion"]["gitVersion"]
                        .as_str()
                        .and_then(Version::parse)
                });
            let problem = v
                .is_none()
                .then(|| "`kubectl version --client -o json` printed no gitVersion".to_string());
            found(path, v, problem)
        }
        Err(e) => found(path, None, Some(e)),
    }
}

async fn probe_docker() -> (ToolProbe, HostFacts) {
    let Some(path) = on_path("docker") else {
        return (ToolProbe::Missing, HostFacts::default());
    };
    match query(&path, &["info", "--format", "{{json .}}"]).await {
        Ok(stdout) => match parse_docker_info(&stdout) {
            Some((version, facts)) => (found(path, version, None), facts),
            None => (
                found(
                    path,
                    None,
                    Some("`docker info` printed something that is not JSON".into()),
                ),
                HostFacts::default(),
            ),
        },
        Err(e) => (found(path, None, Some(e)), HostFacts::default()),
    }
}

/// Runs a read-only query; Err carries a one-line reason (with stderr's last line).
async fn query(program: &Path, args: &[&str]) -> Result<String, String> {
    match Cmd::new(program)
        .args(args)
        .timeout(QUERY_TIMEOUT)
        .run()
        .await
    {
        Ok(out) => Ok(out.stdout),
        Err(e) => {
            let Some(out) = e.output() else {
                return Err(describe(&e));
            };
            let tail = [&out.stderr, &out.stdout].iter().find_map(|s| {
                s.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(str::trim)
            });
            let status = match (out.status.code, out.status.signal) {
                (Some(c), _) => format!("exit {c}"),
                (None, Some(s)) => format!("signal {s}"),
                _ => "failed".to_string(),
            };
            Err(match tail {
                Some(t) => format!("{status}: {t}"),
                None => status,
            })
        }
    }
}

/// `{"clientVersion": {"version": "1.5.0", ...}}` (research/istio.md §7).
pub fn parse_istioctl_version(stdout: &str) -> Option<Version> {
    let j: serde_json::Value = serde_json::from_str(stdout.trim()).ok()?;
    j["clientVersion"]["version"]
        .as_str()
        .and_then(Version::parse)
}

/// `docker info --format '{{json .}}'`: ServerVersion, CgroupVersion ("1"/"2"), NCPU, MemTotal.
pub fn parse_docker_info(stdout: &str) -> Option<(Option<Version>, HostFacts)> {
    let j: serde_json::Value = serde_json::from_str(stdout.trim()).ok()?;
    let version = j["ServerVersion"].as_str().and_then(|s| {
        // Docker writes "20.10.7" or "24.0.7-1"; keep the numeric part.
        let core: String = s
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        Version::parse(&core)
    });
    let cgroup = match &j["CgroupVersion"] {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_u64().map(|n| n as u8),
        _ => None,
    };
    Some((
        version,
        HostFacts {
            cgroup_version: cgroup,
            docker_version: None,
            cpus: j["NCPU"].as_u64(),
            memory_mb: j["MemTotal"].as_u64().map(|b| b / (1024 * 1024)),
            resources_from: ResourceSource::Docker,
        },
    ))
    .map(|(v, mut f)| {
        f.docker_version = v.clone();
        (v, f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tool_outputs() {
        let istio = r#"{"clientVersion": {"version": "1.5.0", "revision": "x", "golang_version": "go1.13", "status": "Clean", "tag": "1.5.0"}}"#;
        assert_eq!(parse_istioctl_version(istio), Version::parse("1.5.0"));
        assert_eq!(parse_istioctl_version("client version: 1.5.0"), None);
        let docker =
            r#"{"ServerVersion":"24.0.7-1","CgroupVersion":"2","NCPU":8,"MemTotal":16777216000}"#;
        let (v, facts) = parse_docker_info(docker).unwrap();
        assert_eq!(v, Version::parse("24.0.7"));
        assert_eq!(facts.cgroup_version, Some(2));
        assert_eq!(facts.cpus, Some(8));
        assert_eq!(facts.memory_mb, Some(16000));
    }
}
