//! Scenario + what is on this host → Plan: resolved versions, where each tool comes from, the
//! compatibility findings, and the stages with their dependencies and exact command lines.
//! Pure: probing happens before (commands/probe.rs), running after (the orchestrator).

pub mod commands;
pub mod tools;

use serde::Serialize;

pub use commands::CommandLine;
pub use tools::{Cached, Tool, ToolChoice, ToolProbe, ToolSource};

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
    /// Tools in meshup's cache (the tools module fills this).
    pub cached: Vec<Cached>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageName {
    Preflight,
    Tools,
    Cluster,
    Tunnel,
    Mesh,
    Verify,
}

impl StageName {
    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Preflight => "preflight",
            StageName::Tools => "tools",
            StageName::Cluster => "cluster",
            StageName::Tunnel => "tunnel",
            StageName::Mesh => "mesh",
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
    pub tools: Vec<ToolChoice>,
    pub findings: Vec<Finding>,
    /// In dependency order.
    pub stages: Vec<Stage>,
    #[serde(skip)]
    pub kubernetes: Version,
    #[serde(skip)]
    pub istio: Version,
}

impl Plan {
    pub fn errors(&self, scope: Option<Scope>) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.is_error() && scope.is_none_or(|s| f.scope == s))
    }
}

pub fn build(s: &Scenario, probes: &Probes) -> Plan {
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
    let k8s_minor = kubernetes.minor();

    let (istio_version, istio_reason) = match &s.mesh.istio {
        IstioSpec::Exact(v) => (v.clone(), "as given".to_string()),
        IstioSpec::Minor(m, v) => (
            v.clone(),
            format!("{m} pinned to the newest patch meshup offers"),
        ),
        IstioSpec::Auto => auto_istio(k8s_minor),
    };
    let shape = istio::shape(&istio_version);

    let want_minikube =
        minikube::newest_release_for(&kubernetes).unwrap_or_else(minikube::default_release);
    let minikube_choice = tools::choose(
        Tool::Minikube,
        &probes.minikube,
        &probes.cached,
        &want_minikube,
        |v| minikube::kubernetes_range(v).is_some_and(|r| r.contains(&kubernetes)),
        |found| match found {
            Some(v) => format!(
                "minikube {} on PATH cannot start Kubernetes {}; {} is the newest release that can",
                v.v(),
                kubernetes.v(),
                want_minikube.v()
            ),
            None => format!(
                "no usable minikube on PATH; {} starts Kubernetes {}",
                want_minikube.v(),
                kubernetes.v()
            ),
        },
    );
    let istioctl_choice = tools::choose(
        Tool::Istioctl,
        &probes.istioctl,
        &probes.cached,
        &istio_version,
        |v| *v == istio_version,
        |found| match found {
            Some(v) => format!("istioctl {v} on PATH is not {istio_version}"),
            None => format!("no istioctl on PATH; Istio {istio_version} needs its own istioctl"),
        },
    );
    let mut tool_choices = vec![minikube_choice, istioctl_choice];
    if shape.needs_kubectl || s.mesh.method == Method::Manifest {
        let why = if shape.needs_kubectl {
            "istioctl 1.5 runs `kubectl apply`"
        } else {
            "method: manifest applies with kubectl"
        };
        tool_choices.push(match &probes.kubectl {
            ToolProbe::Found { path, .. } => ToolChoice {
                tool: Tool::Kubectl,
                version: None,
                source: ToolSource::Path {
                    path: path.clone(),
                    version: None,
                },
                reason: format!("{why}; the one on PATH is used"),
            },
            ToolProbe::Missing => ToolChoice {
                tool: Tool::Kubectl,
                version: Some(kubernetes.v()),
                source: ToolSource::Download {
                    version: kubernetes.v(),
                    url: tools::download_url(Tool::Kubectl, &kubernetes),
                },
                reason: format!("{why}; none on PATH, so the cluster's version is fetched"),
            },
        });
    }

    let mut findings = compat::check::versions(&compat::check::Combination {
        kubernetes: &kubernetes,
        istio: &istio_version,
        set_paths: s.mesh.set.keys().map(String::as_str).collect(),
        jwt_policy: match s.mesh.jwt_policy {
            JwtPolicy::Auto => None,
            p => Some(p.as_str()),
        },
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
        findings,
        stages,
        kubernetes,
        istio: istio_version,
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
    let severity = if s.cluster.driver.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    match docker {
        ToolProbe::Missing => vec![Finding::new(severity, Scope::Host, "docker-missing", "docker is not on PATH (minikube's docker driver needs it)")
            .alternative("install Docker (https://docs.docker.com/engine/install/), or set cluster.driver to a VM driver such as kvm2")],
        ToolProbe::Found { problem: Some(p), .. } => vec![Finding::new(severity, Scope::Host, "docker-not-running", format!("docker is installed but `docker info` failed ({p})"))
            .alternative("start the Docker daemon, and make sure your user is in the `docker` group")],
        _ => Vec::new(),
    }
}

fn stages(
    s: &Scenario,
    kubernetes: &Version,
    istio_version: &Version,
    tools: &[ToolChoice],
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

    let mut tools_stage = stage(Tools, &[Preflight]);
    for t in tools {
        tools_stage.steps.push(match &t.source {
            ToolSource::Download { version, url } => {
                format!("download {} {version} from {url}", t.tool.name())
            }
            ToolSource::Cache { path } => {
                format!("use {} from the cache: {}", t.tool.name(), path.display())
            }
            ToolSource::Path { path, .. } => {
                format!("use {} on PATH: {}", t.tool.name(), path.display())
            }
        });
    }

    let mut cluster = stage(Cluster, &[Tools]);
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

    let mut verify = stage(Verify, if tunnel { &[Mesh, Tunnel] } else { &[Mesh] });
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
        "smoke workload ({}) in namespace {} (istio-injection=enabled) is Ready with an istio-proxy sidecar",
        s.verify.smoke_image, s.verify.smoke_namespace
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

    vec![preflight, tools_stage, cluster, tunnel_stage, mesh, verify]
}
