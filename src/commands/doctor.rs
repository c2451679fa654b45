//! `meshup doctor`: what is on this host, checked against a scenario. A checklist with a fix
//! per problem; exit 3 when something blocks the scenario. Missing tools are findings.

use serde::Serialize;

use super::input::{self, EnvSourced};
use crate::cli::ScenarioArgs;
use crate::compat::host::ResourceSource;
use crate::compat::{Finding, Scope, Severity, minikube};
use crate::error::ExitKind;
use crate::host::probe;
use crate::plan::{self as planner, Plan, PlannedTool, Probes, ToolProbe};
use crate::report::{self, Printer};
use crate::scenario::Scenario;
use crate::tools::{Origin, Tool};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Info,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub profile: String,
    pub kubernetes: String,
    pub istio: String,
    pub checks: Vec<Check>,
    /// What meshup will use for this scenario (`tools::resolve`'s answer, as in the plan).
    pub tools: Vec<PlannedTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools_problem: Option<String>,
    pub findings: Vec<Finding>,
    /// No finding blocks the scenario on this host.
    pub ready: bool,
}

pub async fn run(
    args: &ScenarioArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let scenario = input::scenario(args, env)?;
    let mut probes = probe::probe(true).await;
    let lock = probe::LockUse {
        locked: false,
        ci: printer.ci,
        scenario: args.file.clone(),
    };
    // A failure shows as a failed check (the versions' finding covers a Kubernetes no
    // minikube starts).
    let _ = probe::resolve_tools(&scenario, &mut probes, &lock).await;
    let plan = planner::build(&scenario, &probes);
    let report = report_for(&scenario, &probes, &plan);
    if printer.json() {
        printer.out_json(&report, true);
    } else {
        printer.out(&report::doctor::render(&report, printer.style()));
    }
    Ok(if report.ready {
        ExitKind::Success
    } else {
        ExitKind::Preflight
    })
}

fn check(name: &str, status: Status, detail: impl Into<String>, fix: Option<String>) -> Check {
    Check {
        name: name.to_string(),
        status,
        detail: detail.into(),
        fix,
    }
}

pub fn report_for(s: &Scenario, probes: &Probes, plan: &Plan) -> Report {
    let mut checks = Vec::new();
    let choice = |tool: Tool| plan.tools.iter().find(|t| t.tool == tool);
    let fetch_note = |tool: Tool| {
        let c = choice(tool)?;
        match &c.source {
            Origin::Download { url, .. } => Some(format!(
                "nothing to do: meshup fetches {} {} into its cache from {url}",
                tool.name(),
                c.version
            )),
            Origin::Cache { path } => Some(format!(
                "nothing to do: meshup uses {} {} from its cache: {}",
                tool.name(),
                c.version,
                path.display()
            )),
            Origin::Path { .. } => None,
        }
    };

    checks.push(match &probes.minikube {
        ToolProbe::Missing => check(
            "minikube",
            Status::Info,
            "not on PATH",
            fetch_note(Tool::Minikube),
        ),
        ToolProbe::Found {
            path,
            version: Some(v),
            ..
        } => {
            let fits = minikube::kubernetes_range(v).is_some_and(|r| r.contains(&plan.kubernetes));
            if fits {
                check(
                    "minikube",
                    Status::Ok,
                    format!("{} at {}", v.v(), path.display()),
                    None,
                )
            } else {
                check(
                    "minikube",
                    Status::Info,
                    format!(
                        "{} at {} cannot start Kubernetes {}",
                        v.v(),
                        path.display(),
                        plan.kubernetes.v()
                    ),
                    fetch_note(Tool::Minikube),
                )
            }
        }
        ToolProbe::Found { path, problem, .. } => check(
            "minikube",
            Status::Warn,
            format!(
                "{}: {}",
                path.display(),
                problem.as_deref().unwrap_or("version unknown")
            ),
            Some("reinstall minikube, or remove it from PATH so meshup fetches its own".into()),
        ),
    });

    checks.push(match &probes.istioctl {
        ToolProbe::Missing => check(
            "istioctl",
            Status::Info,
            "not on PATH",
            fetch_note(Tool::Istioctl),
        ),
        ToolProbe::Found {
            path,
            version: Some(v),
            ..
        } if *v == plan.istio => check(
            "istioctl",
            Status::Ok,
            format!("{v} at {}", path.display()),
            None,
        ),
        ToolProbe::Found {
            path,
            version: Some(v),
            ..
        } => check(
            "istioctl",
            Status::Info,
            format!(
                "{v} at {} (the scenario needs {})",
                path.display(),
                plan.istio
            ),
            fetch_note(Tool::Istioctl),
        ),
        ToolProbe::Found { path, problem, .. } => check(
            "istioctl",
            Status::Warn,
            format!(
                "{}: {}",
                path.display(),
                problem.as_deref().unwrap_or("version unknown")
            ),
            fetch_note(Tool::Istioctl),
        ),
    });

    let needs_kubectl = choice(Tool::Kubectl).is_some();
    checks.push(match &probes.kubectl {
        ToolProbe::Missing if needs_kubectl => check(
            "kubectl",
            Status::Info,
            "not on PATH (this scenario needs it)",
            fetch_note(Tool::Kubectl),
        ),
        ToolProbe::Missing => check(
            "kubectl",
            Status::Info,
            "not on PATH (not needed by meshup; handy afterwards)",
            Some(format!("optional: install kubectl {}", plan.kubernetes.v())),
        ),
        ToolProbe::Found {
            path,
            version: Some(v),
            ..
        } => {
            let skew = v.minor().minor.abs_diff(plan.kubernetes.minor().minor);
            if skew > 1 {
                // When meshup runs kubectl, it brings one that fits (the Tools section).
                let brought = fetch_note(Tool::Kubectl);
                check(
                    "kubectl",
                    if brought.is_some() {
                        Status::Info
                    } else {
                        Status::Warn
                    },
                    format!(
                        "{} at {} is {skew} minors from the cluster's {}",
                        v.v(),
                        path.display(),
                        plan.kubernetes.v()
                    ),
                    brought.or_else(|| {
                        Some(format!(
                            "use kubectl within one minor of {}",
                            plan.kubernetes.v()
                        ))
                    }),
                )
            } else {
                check(
                    "kubectl",
                    Status::Ok,
                    format!("{} at {}", v.v(), path.display()),
                    None,
                )
            }
        }
        ToolProbe::Found { path, problem, .. } => check(
            "kubectl",
            Status::Warn,
            format!(
                "{}: {}",
                path.display(),
                problem.as_deref().unwrap_or("version unknown")
            ),
            None,
        ),
    });

    let finding = |code: &str| plan.findings.iter().find(|f| f.code == code);
    checks.push(
        match (
            &probes.docker,
            finding("docker-missing").or(finding("docker-not-running")),
        ) {
            (_, Some(f)) => check(
                "docker",
                if f.severity == Severity::Error {
                    Status::Fail
                } else {
                    Status::Warn
                },
                f.message.clone(),
                f.alternative.clone(),
            ),
            (ToolProbe::Found { version, .. }, None) => {
                let cg = probes
                    .host
                    .cgroup_version
                    .map_or("cgroup unknown".to_string(), |c| format!("cgroup v{c}"));
                let v = version
                    .as_ref()
                    .map_or("version unknown".to_string(), |v| v.to_string());
                check("docker", Status::Ok, format!("{v}, {cg}"), None)
            }
            (ToolProbe::Missing, None) => check(
                "docker",
                Status::Info,
                "not on PATH (not needed by this driver)",
                None,
            ),
        },
    );

    let host_finding =
        |code: &str| finding(code).map(|f| (f.message.clone(), f.alternative.clone()));
    checks.push(match (probes.host.cpus, host_finding("cpus-exceed-host")) {
        (_, Some((msg, fix))) => check("cpus", Status::Fail, msg, fix),
        (Some(n), None) => check(
            "cpus",
            Status::Ok,
            format!(
                "{n} available{}, the scenario wants {}",
                figure_note(probes),
                s.cluster.cpus
            ),
            None,
        ),
        (None, None) => check("cpus", Status::Info, "unknown", None),
    });
    checks.push(
        match (probes.host.memory_mb, host_finding("memory-exceeds-host")) {
            (_, Some((msg, fix))) => check("memory", Status::Fail, msg, fix),
            (Some(mb), None) => check(
                "memory",
                Status::Ok,
                format!(
                    "{mb} MB available{}, the scenario wants {}",
                    figure_note(probes),
                    s.cluster.memory
                ),
                None,
            ),
            (None, None) => check("memory", Status::Info, "unknown", None),
        },
    );

    let mut findings = plan.findings.clone();
    // A Kubernetes no minikube starts has its own finding already.
    if let Some(problem) = &plan.tools_problem
        && !findings.iter().any(|f| f.code == "kubernetes-no-minikube")
    {
        let finding = Finding::new(
            Severity::Error,
            Scope::Host,
            "tools-unresolved",
            format!("meshup cannot resolve this scenario's tools: {problem}"),
        )
        .alternative("fix meshup.lock (`meshup lock` writes it again) or the tool cache settings");
        checks.push(check(
            "tools",
            Status::Fail,
            finding.message.clone(),
            finding.alternative.clone(),
        ));
        findings.push(finding);
    }

    Report {
        schema: "meshup.doctor/v1",
        profile: plan.profile.clone(),
        kubernetes: plan.resolved.kubernetes.clone(),
        istio: plan.resolved.istio.clone(),
        ready: !findings.iter().any(Finding::is_error),
        checks,
        tools: plan.tools.clone(),
        tools_problem: plan.tools_problem.clone(),
        findings,
    }
}

/// Whose figure an ok CPU/memory line shows, when it is not docker's.
fn figure_note(probes: &Probes) -> &'static str {
    match probes.host.resources_from {
        ResourceSource::Docker => "",
        ResourceSource::Machine => " on this machine (docker gave no figures)",
    }
}
