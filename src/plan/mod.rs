//! Scenario + what is on this host → Plan: resolved versions, where each tool comes from, the
//! compatibility findings, and the stages with their dependencies and exact command lines.
//! Pure: probing happens before (commands/probe.rs), running after (the orchestrator).

pub mod commands;
pub mod tools;

use serde::Serialize;

pub use commands::CommandLine;
pub use tools::{PlannedTool, ToolProbe, ToolResolution};

use crate::compat::{self, Finding, Scope, Severity, Version, host::HostFacts, istio, minikube};
use crate::scenario::{IstioSpec, JwtPolicy, KubeSpec, Method, Scenario, TunnelMode};

/// What probing learned about this host.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    pub minikube: ToolProbe,
    pub istioctl: ToolProbe,
    pub kubectl: ToolProbe,
    pub docker: ToolProbe,
    pub host: HostFacts,
    /// What `tools::resolve` decided for this scenario (the command layer fills it, with the
    /// request `plan::request` gives).
    pub tools: ToolResolution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageName {
    Preflight,
    Tools,
    Cluster,
    Tunnel,
    Mesh,
    Smoke,
    Verify,
}

impl StageName {
    /// Every stage of `meshup start`, in the order the plan lists them.
    pub const ALL: [StageName; 7] = [
        StageName::Preflight,
        StageName::Tools,
        StageName::Cluster,
        StageName::Tunnel,
        StageName::Mesh,
        StageName::Smoke,
        StageName::Verify,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Preflight => "preflight",
            StageName::Tools => "tools",
            StageName::Cluster => "cluster",
            StageName::Tunnel => "tunnel",
            StageName::Mesh => "mesh",
            StageName::Smoke => "smoke",
            StageName::Verify => "verify",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: StageName,
    pub needs: Vec<StageName>,
    pub commands: Vec<CommandLine>,
    /// Steps that are not external commands (downloads, checks through the Kubernetes API).
    pub steps: Vec<String>,
    /// Skipped stages say why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    pub kubernetes: String,
    pub kubernetes_reason: String,
    pub istio: String,
    pub istio_reason: String,
    pub istio_profile: String,
    pub jwt_policy: String,
    pub tunnel: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub schema: &'static str,
    pub profile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    pub resolved: Resolved,
    pub cpus: String,
    pub memory: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    pub tools: Vec<PlannedTool>,
    /// Why `tools` is empty: resolution failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools_problem: Option<String>,
    pub findings: Vec<Finding>,
    /// In dependency order.
    pub stages: Vec<Stage>,
    #[serde(skip)]
    pub kubernetes: Version,
    #[serde(skip)]
    pub istio: Version,
    /// Whether meshup runs kubectl (Istio 1.5's `manifest apply`, or `method: manifest`).
    #[serde(skip)]
    pub needs_kubectl: bool,
}

impl Plan {
    pub fn errors(&self, scope: Option<Scope>) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.is_error() && scope.is_none_or(|s| f.scope == s))
    }
}

/// The concrete Kubernetes and Istio versions of a scenario, and why.
#[derive(Debug, Clone)]
pub struct Versions {
    pub kubernetes: Version,
    pub kubernetes_reason: String,
    pub istio: Version,
    pub istio_reason: String,
}

pub fn versions(s: &Scenario, probes: &Probes) -> Versions {
    let path_minikube = probes
        .minikube
        .version()
        .filter(|v| minikube::kubernetes_range(v).is_some());
    // `stable`/`latest` resolve against the minikube that will be used: the one on PATH, else
    // the release meshup would fetch.
    let symbolic_base = path_minikube
        .cloned()
        .unwrap_or_else(minikube::default_release);
    let base_range = minikube::kubernetes_range(&symbolic_base).expect("table release");
    let base_where = if path_minikube.is_some() {
        "on PATH"
    } else {
        "meshup would fetch"
    };
    let (kubernetes, kubernetes_reason) = match &s.cluster.kubernetes {
        KubeSpec::Exact(v) => (v.clone(), "as given".to_string()),
        KubeSpec::Minor(m, v) => (
            v.clone(),
            format!("{m} pinned to the newest patch meshup knows"),
        ),
        KubeSpec::Stable => (
            base_range.stable.clone(),
            format!("`stable` of minikube {} ({base_where})", symbolic_base.v()),
        ),
        KubeSpec::Latest => (
            base_range.newest.clone(),
            format!("`latest` of minikube {} ({base_where})", symbolic_base.v()),
        ),
    };
    let (istio, istio_reason) = match &s.mesh.istio {
        IstioSpec::Exact(v) => (v.clone(), "as given".to_string()),
        IstioSpec::Minor(m, v) => (
            v.clone(),
            format!("{m} pinned to the newest patch meshup offers"),
        ),
        IstioSpec::Auto => auto_istio(kubernetes.minor()),
    };
    Versions {
        kubernetes,
        kubernetes_reason,
        istio,
        istio_reason,
    }
}

/// Whether meshup runs kubectl for this scenario: istioctl 1.5's `manifest apply` shells out
/// to it, and `method: manifest` applies the generated manifest with it.
pub fn needs_kubectl(s: &Scenario, istio_version: &Version) -> bool {
    istio::shape(istio_version).needs_kubectl || s.mesh.method == Method::Manifest
}

/// What the scenario asks of its tools, for `tools::resolve` (before there is a plan).
pub fn request(s: &Scenario, probes: &Probes) -> crate::tools::Request {
    let v = versions(s, probes);
    tool_request(&v.kubernetes, &v.istio, needs_kubectl(s, &v.istio))
}

/// The one place a tool request is made, from a scenario's versions or from its plan.
fn tool_request(kubernetes: &Version, istio: &Version, kubectl: bool) -> crate::tools::Request {
    crate::tools::Request {
        kubectl,
        kubernetes: kubernetes.0.clone(),
        istio: istio.0.clone(),
    }
}

impl Plan {
    /// What this plan asks of its tools (the same request `request` made before it).
    pub fn tool_request(&self) -> crate::tools::Request {
        tool_request(&self.kubernetes, &self.istio, self.needs_kubectl)
    }
}

pub fn build(s: &Scenario, probes: &Probes) -> Plan {
    let Versions {
        kubernetes,
        kubernetes_reason,
        istio: istio_version,
        istio_reason,
    } = versions(s, probes);
    let shape = istio::shape(&istio_version);
    let needs_kubectl = needs_kubectl(s, &istio_version);
    let (tool_choices, tools_problem) = match &probes.tools {
        ToolResolution::Resolved(r) => (tools::planned(r), None),
        ToolResolution::Failed(why) => (Vec::new(), Some(why.clone())),
        ToolResolution::Unresolved => (Vec::new(), None),
    };

    let mut findings = compat::check::versions(&compat::check::Combination {
        kubernetes: &kubernetes,
        istio: &istio_version,
        set_paths: s.mesh.set.keys().map(String::as_str).collect(),
        jwt_policy: match s.mesh.jwt_policy {
            JwtPolicy::Auto => None,
            p => Some(p.as_str()),
        },
        profile: &s.mesh.profile,
    });
    findings.extend(compat::host::check(
        &compat::host::Demand {
            kubernetes: &kubernetes,
            cpus: match s.cluster.cpus {
                crate::scenario::quantity::Cpus::Count(n) => Some(n as u64),
                crate::scenario::quantity::Cpus::Max => None,
            },
            memory_mb: match s.cluster.memory {
                crate::scenario::quantity::Memory::Mb(mb) => Some(mb),
                crate::scenario::quantity::Memory::Max => None,
            },
            driver: s.cluster.driver.as_deref(),
        },
        &probes.host,
    ));
    findings.extend(docker_findings(s, &probes.docker));
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));

    let tunnel = match s.tunnel {
        TunnelMode::On => true,
        TunnelMode::Off => false,
        TunnelMode::Auto => !s.verify.load_balancers.is_empty(),
    };
    let jwt_policy = match (s.mesh.jwt_policy, shape.jwt_policy_value) {
        (_, false) => format!(
            "third-party-jwt (the only policy Istio {} has)",
            istio_version.minor()
        ),
        (JwtPolicy::Auto, true) => "auto (detected from the cluster at install)".to_string(),
        (p, true) => p.as_str().to_string(),
    };
    let stages = stages(
        s,
        &kubernetes,
        &istio_version,
        &tool_choices,
        &findings,
        tunnel,
    );
    Plan {
        schema: "meshup.plan/v1",
        profile: s.cluster.profile.clone(),
        scenario: s.name.clone(),
        resolved: Resolved {
            kubernetes: kubernetes.v(),
            kubernetes_reason,
            istio: istio_version.to_string(),
            istio_reason,
            istio_profile: s.mesh.profile.clone(),
            jwt_policy,
            tunnel,
        },
        cpus: s.cluster.cpus.to_string(),
        memory: s.cluster.memory.minikube_arg(),
        driver: s.cluster.driver.clone(),
        tools: tool_choices,
        tools_problem,
        findings,
        stages,
        kubernetes,
        istio: istio_version,
        needs_kubectl,
    }
}

/// The default Istio for a Kubernetes minor, and why.
fn auto_istio(k8s: compat::Minor) -> (Version, String) {
    let newest = istio::newest_offered();
    if istio::supports(newest.minor(), k8s) {
        return (
            newest.clone(),
            format!("the newest Istio meshup knows; it supports Kubernetes {k8s}"),
        );
    }
    match istio::newest_supporting(k8s).and_then(istio::newest_patch) {
        Some(v) => {
            let sentence = istio::support_sentence(v.minor()).unwrap_or_default();
            (
                v,
                format!(
                    "the newest Istio meshup knows that supports Kubernetes {k8s} ({sentence})"
                ),
            )
        }
        None => (
            newest,
            format!("no Istio meshup knows supports Kubernetes {k8s}; using the newest"),
        ),
    }
}

fn docker_findings(s: &Scenario, docker: &ToolProbe) -> Vec<Finding> {
    let needs_docker = s.cluster.driver.as_deref().is_none_or(|d| d == "docker");
    if !needs_docker {
        return Vec::new();
    }
    // Without a driver minikube may pick another when docker is missing; but an installed docker
    // is the one it auto-selects, so a stopped one fails `minikube start` (63) either way.
    let missing_severity = if s.cluster.driver.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    match docker {
        ToolProbe::Missing => vec![Finding::new(missing_severity, Scope::Host, "docker-missing", "docker is not on PATH (minikube's docker driver needs it)")
            .alternative("install Docker (https://docs.docker.com/engine/install/), or set cluster.driver to a VM driver such as kvm2")],
        ToolProbe::Found { problem: Some(p), .. } => vec![Finding::new(Severity::Error, Scope::Host, "docker-not-running", format!("docker is installed but `docker info` failed ({p})"))
            .alternative("start the Docker daemon, and make sure your user is in the `docker` group")],
        _ => Vec::new(),
    }
}

fn stages(
    s: &Scenario,
    kubernetes: &Version,
    istio_version: &Version,
    tools: &[PlannedTool],
    findings: &[Finding],
    tunnel: bool,
) -> Vec<Stage> {
    use StageName::*;
    let stage = |name, needs: &[StageName]| Stage {
        name,
        needs: needs.to_vec(),
        commands: Vec::new(),
        steps: Vec::new(),
        skipped: None,
    };

    let mut preflight = stage(Preflight, &[]);
    preflight.commands = commands::version_queries();
    preflight.steps.push(format!(
        "check versions, host and compatibility: {} error(s), {} warning(s)",
        findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    ));

    // minikube is the cluster's own first step, so istioctl and kubectl download while
    // `minikube start` runs; only the mesh needs them.
    let mut tools_stage = stage(Tools, &[Preflight]);
    let mut cluster = stage(Cluster, &[Preflight]);
    for t in tools {
        let (tool, version) = (t.tool.name(), &t.version);
        let verified = if t.sha256.is_some() {
            "the sha256 in meshup.lock"
        } else {
            "the release's checksum file"
        };
        let steps = if t.tool == crate::tools::Tool::Minikube {
            &mut cluster.steps
        } else {
            &mut tools_stage.steps
        };
        steps.push(match &t.source {
            crate::tools::Origin::Download { url, .. } => {
                format!("download {tool} {version} from {url}, verified against {verified}")
            }
            crate::tools::Origin::Cache { path } => {
                format!("use {tool} {version} from the cache: {}", path.display())
            }
            crate::tools::Origin::Path { path } => {
                format!("use {tool} {version} on PATH: {}", path.display())
            }
        });
    }

    cluster
        .commands
        .push(commands::minikube_start(s, kubernetes));

    let mut tunnel_stage = stage(Tunnel, &[Cluster]);
    if tunnel {
        tunnel_stage.commands.push(
            commands::minikube_tunnel(s).note("supervised in the background; restarted if it dies"),
        );
    } else {
        tunnel_stage.skipped = Some(match s.tunnel {
            TunnelMode::Off => "tunnel: off".to_string(),
            _ => "no LoadBalancer service to verify".to_string(),
        });
    }

    let mut mesh = stage(Mesh, &[Cluster, Tools]);
    let shape = istio::shape(istio_version);
    if s.mesh.jwt_policy == JwtPolicy::Auto && shape.jwt_policy_value {
        mesh.steps.push("detect the JWT policy: is serviceaccounts/token served by the API server? → third-party-jwt, else first-party-jwt".to_string());
    }
    mesh.commands = commands::mesh_install(s, istio_version, None);
    mesh.steps
        .push("save the generated manifest in the profile's state dir".to_string());

    // The smoke workload goes in as soon as the sidecar injector answers, while istioctl
    // still waits for the gateways: it needs the cluster, not the finished mesh stage.
    let mut smoke = stage(Smoke, &[Cluster]);
    smoke.steps.push(format!(
        "wait for the sidecar injector (Istio {istio_version}: its webhook, and a Ready pod of its service), alongside the mesh stage"
    ));
    smoke.steps.push(format!(
        "namespace {} (istio-injection=enabled) with the smoke workload ({}) and its Service",
        s.verify.smoke_namespace, s.verify.smoke_image
    ));

    let mut verify = stage(
        Verify,
        if tunnel {
            &[Mesh, Tunnel, Smoke]
        } else {
            &[Mesh, Smoke]
        },
    );
    verify.steps.push(format!(
        "control plane: deployment istio-system/istiod available (timeout {})",
        s.verify.check_timeout_text()
    ));
    if tunnel {
        for lb in &s.verify.load_balancers {
            verify
                .steps
                .push(format!("service {lb} has a LoadBalancer ingress address"));
        }
        verify.steps.push(format!(
            "gateway status port {} answers /healthz/ready",
            shape.gateway_status_port
        ));
    }
    verify.steps.push(format!(
        "smoke workload in namespace {} is Ready with an istio-proxy sidecar",
        s.verify.smoke_namespace
    ));
    if tunnel {
        verify.steps.push(
            "a request through the gateway (Gateway + VirtualService) reaches the smoke workload"
                .to_string(),
        );
    }
    verify.steps.push(format!(
        "whole run within {}",
        s.verify.total_timeout_text()
    ));

    vec![
        preflight,
        tools_stage,
        cluster,
        tunnel_stage,
        mesh,
        smoke,
        verify,
    ]
}

#[cfg(test)]
mod tests;
