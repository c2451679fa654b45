//! The live `meshup start`: preflight → tools → cluster (tunnel, mesh and verify join as their
//! stages land). Each stage is recorded in the profile's state dir, so a re-run knows what was
//! done and an interrupted run is recognised.

use crate::cli::StartArgs;
use crate::cluster::change::{Change, Desired};
use crate::cluster::events::MinikubeEvent;
use crate::cluster::minikube::Minikube;
use crate::compat::{Severity, minikube as mk_compat};
use crate::error::{ExitKind, Failure};
use crate::exec::{ShutdownReason, shutdown_reason};
use crate::plan::{self as planner, Plan, Probes};
use crate::report::Printer;
use crate::report::events::Reporter;
use crate::scenario::Scenario;
use crate::scenario::quantity::{Cpus, Memory};
use crate::stages::cluster::{self as cluster_stage, ClusterProgress, Consent};
use crate::state::{StageStatus, StateRoot};
use crate::tools::{self, ToolPaths};

use super::probe;

pub async fn run(
    scenario: &Scenario,
    args: &StartArgs,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let reporter = Reporter::new(printer, "start");
    let outcome = run_stages(scenario, args, printer, &reporter).await;
    let kind = match &outcome {
        Ok(summary) => {
            reporter.result(ExitKind::Success, summary.clone());
            ExitKind::Success
        }
        Err(_) if shutdown_reason().is_some() => {
            let kind = match shutdown_reason() {
                Some(ShutdownReason::Terminate) => ExitKind::Terminated,
                _ => ExitKind::Interrupted,
            };
            reporter.result(
                kind,
                serde_json::json!({"interrupted": true, "profile": scenario.cluster.profile}),
            );
            kind
        }
        Err(_) => return outcome.map(|_| ExitKind::Success),
    };
    Ok(kind)
}

async fn run_stages(
    scenario: &Scenario,
    args: &StartArgs,
    printer: &Printer,
    reporter: &Reporter,
) -> anyhow::Result<serde_json::Value> {
    let profile = scenario.cluster.profile.clone();

    reporter.stage_started("preflight", "versions, tools and this host");
    let lock = probe::LockUse {
        locked: args.locked,
        ci: printer.ci,
        scenario: args.scenario.file.clone(),
    };
    let (plan, probes) = match preflight(scenario, &lock).await {
        Ok(found) => found,
        Err(e) => {
            reporter.stage_failed("preflight", &e);
            return Err(e);
        }
    };
    for finding in plan
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        reporter.warn("preflight", &finding.message);
    }
    reporter.stage_done("preflight", "ok");

    reporter.stage_started("tools", "minikube, istioctl and kubectl for this scenario");
    let have_minikube = probes.minikube.version().map(|v| v.v());
    let paths = match prepare_tools(args, printer, &plan, &probes, have_minikube, reporter).await {
        Ok(paths) => paths,
        Err(e) => {
            reporter.stage_failed("tools", &e);
            return Err(e);
        }
    };
    reporter.stage_done("tools", &format!("minikube {}", paths.minikube.display()));

    let state = StateRoot::from_env().profile(&profile);
    let _lock = state.lock(&command_line())?;
    let mut record = state.record()?;

    let kubeconfig = args.isolated_kubeconfig.then(|| state.file("kubeconfig"));
    let mut minikube = Minikube::new(&paths.minikube, &profile).with_path(paths.child_path());
    if let Some(path) = &kubeconfig {
        minikube = minikube.with_kubeconfig(path);
    }
    record.scenario = serde_json::json!({
        "kubernetes": plan.kubernetes.v(),
        "istio": plan.istio.to_string(),
        "cpus": plan.cpus,
        "memory": plan.memory,
        "driver": plan.driver,
        "kubeconfig": kubeconfig,
        "tools": {
            "minikube": paths.minikube,
            "istioctl": paths.istioctl,
            "kubectl": paths.kubectl,
        },
    });

    reporter.stage_started("cluster", &format!("minikube profile `{profile}`"));
    record.stage_started("cluster");
    state.save(&record)?;
    let mut progress = StageProgress {
        reporter,
        planned: None,
    };
    let outcome = match cluster(scenario, args, printer, &plan, &minikube, &mut progress).await {
        // The context minikube wrote must work for a client that names it (never
        // current-context); until it answers, the stage is not done.
        Ok(o) => prove_context(&profile, kubeconfig.as_deref())
            .await
            .map(|server| (o, server)),
        Err(e) => Err(e),
    };
    // A profile meshup creates is one `down --all` may delete; one it found is not — even when
    // the creation was interrupted half-way.
    if matches!(
        progress.planned,
        Some(Change::Create | Change::Recreate { .. })
    ) {
        record.created_by_meshup = true;
    }
    let (status, detail) = match &outcome {
        Ok((o, _)) => (StageStatus::Done, o.done.to_owned()),
        Err(_) if shutdown_reason().is_some() => (StageStatus::Interrupted, "interrupted".into()),
        Err(e) => (StageStatus::Failed, first_line(e)),
    };
    record.stage_ended("cluster", status, &detail);
    state.save(&record)?;
    let (outcome, server) = match outcome {
        Ok(done) => done,
        Err(e) => {
            reporter.stage_failed("cluster", &e);
            return Err(e);
        }
    };
    reporter.stage_done(
        "cluster",
        &format!("{} (Kubernetes {server})", outcome.done),
    );
    for stage in ["tunnel", "mesh", "verify"] {
        reporter.stage_skipped(stage, "not part of this meshup build yet");
    }
    if let Some(path) = &kubeconfig {
        printer.note(&format!("export KUBECONFIG={}", path.display()));
    }
    Ok(serde_json::json!({
        "profile": profile,
        "context": profile,
        "kubernetes": server,
        "cluster": outcome,
        "kubeconfig": kubeconfig,
        "stateDir": state.dir(),
    }))
}

/// The API server's version through the profile's context, within MESHUP_KUBE_TIMEOUT_MS.
async fn prove_context(
    profile: &str,
    kubeconfig: Option<&std::path::Path>,
) -> anyhow::Result<String> {
    let client = crate::k8s::client_for_context(profile, kubeconfig, ExitKind::Cluster).await?;
    crate::k8s::server_version(&client, crate::k8s::timeout(), ExitKind::Cluster).await
}

/// Versions and host: anything that cannot work stops here, before a single thing is started.
async fn preflight(scenario: &Scenario, lock: &probe::LockUse) -> anyhow::Result<(Plan, Probes)> {
    let mut probes = probe::probe(false).await;
    // The plan shows the tools as the tools stage will resolve them; a resolution that fails
    // (a lock that does not fit) fails that stage, with its own exit code (4).
    let _ = probe::resolve_tools(scenario, &mut probes, lock).await;
    let mut plan = planner::build(scenario, &probes);
    // The plan only warns about a stopped Docker when no driver is set (minikube might pick
    // another), but installed Docker is the driver minikube auto-selects: the live start would
    // fail in `minikube start` (PROVIDER_DOCKER_NOT_RUNNING, 63) after the tools stage.
    if scenario.cluster.driver.is_none() {
        for f in plan
            .findings
            .iter_mut()
            .filter(|f| f.code == "docker-not-running")
        {
            f.severity = Severity::Error;
        }
    }
    let errors: Vec<_> = plan.errors(None).collect();
    if errors.is_empty() {
        return Ok((plan, probes));
    }
    let mut failure = Failure::new(
        ExitKind::Preflight,
        format!(
            "preflight found {} problem(s) that would make this scenario fail:\n{}",
            errors.len(),
            errors
                .iter()
                .map(|f| format!("  - {}", f.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .details(serde_json::json!({ "findings": errors }));
    for f in &errors {
        if let Some(alt) = &f.alternative {
            failure = failure.hint(alt.clone());
        }
    }
    Err(failure.into())
}

async fn prepare_tools(
    args: &StartArgs,
    printer: &Printer,
    plan: &Plan,
    probes: &Probes,
    have_minikube: Option<String>,
    reporter: &Reporter,
) -> anyhow::Result<ToolPaths> {
    let installer = tools::Installer::from_env()?;
    let request = super::tools::request_from_plan(plan);
    let opts = tools::PrepareOptions {
        locked: args.locked,
        ci: printer.ci,
        yes: printer.yes,
        scenario: args.scenario.file.clone(),
        offline: args.offline,
    };
    let progress = ToolsProgress {
        reporter,
        current: std::sync::Mutex::new((String::new(), 0, None)),
    };
    let (resolution, paths) = tools::prepare(
        &request,
        &opts,
        &installer,
        // The preflight's answers: the resolution is the one the plan showed.
        &probe::ProbedTools(probes),
        &progress,
    )
    .await
    .map_err(|e| withheld_minikube_is_preflight(e, plan, have_minikube))?;
    for r in resolution.all() {
        reporter.info("tools", &r.why);
    }
    check_minikube_range(&paths.minikube, plan).await?;
    Ok(paths)
}

/// When meshup may not fetch the minikube a version needs (offline, or the user said no), the
/// run cannot work: a preflight failure (3) with the ways out, not a download error.
fn withheld_minikube_is_preflight(
    err: tools::ToolError,
    plan: &Plan,
    have: Option<String>,
) -> anyhow::Error {
    if err.withheld().contains(&tools::Tool::Minikube) {
        minikube_range_failure(plan, have.as_deref()).into()
    } else {
        err.into_anyhow()
    }
}

/// Download progress of the tools stage, as the run's events.
struct ToolsProgress<'a> {
    reporter: &'a Reporter,
    /// (artifact, bytes done, total)
    current: std::sync::Mutex<(String, u64, Option<u64>)>,
}

impl tools::Progress for ToolsProgress<'_> {
    fn started(&self, _tool: tools::Tool, url: &str, total: Option<u64>) {
        let artifact = url.rsplit('/').next().unwrap_or(url).to_owned();
        self.reporter
            .download("tools", &artifact, None, Some((0, total)));
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = (artifact, 0, total);
    }

    fn advanced(&self, bytes: u64) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.1 += bytes;
        self.reporter
            .download("tools", &current.0, None, Some((current.1, current.2)));
    }

    fn retrying(&self, tool: tools::Tool, attempt: u32, reason: &str) {
        self.reporter.warn(
            "tools",
            &format!("{tool}: attempt {attempt} failed ({reason}); retrying"),
        );
    }
}

/// The minikube about to run must accept the version: an out-of-range version never reaches
/// `minikube start` (it would exit 106 after minutes of work).
async fn check_minikube_range(bin: &std::path::Path, plan: &Plan) -> anyhow::Result<()> {
    let version = Minikube::version(bin).await.map_err(|e| {
        Failure::new(
            ExitKind::Preflight,
            format!("cannot ask minikube its version: {e}"),
        )
    })?;
    let Some(parsed) = crate::compat::Version::parse(version.trim_start_matches('v')) else {
        return Ok(());
    };
    match mk_compat::kubernetes_range(&parsed) {
        Some(range) if !range.contains(&plan.kubernetes) => {
            Err(minikube_range_failure(plan, Some(&version)).into())
        }
        _ => Ok(()),
    }
}

fn minikube_range_failure(plan: &Plan, have: Option<&str>) -> Failure {
    let k8s = plan.kubernetes.v();
    let need = mk_compat::newest_release_for(&plan.kubernetes);
    let have_text = have.map_or("no usable minikube".to_owned(), |v| format!("you have {v}"));
    let newest_ok = mk_compat::kubernetes_range(&mk_compat::default_release())
        .map(|r| format!("`--k8s v{}.x`", r.oldest.minor()))
        .unwrap_or_else(|| "a newer `--k8s`".into());
    let message = match &need {
        Some(need) => format!(
            "Kubernetes {k8s} needs minikube ≤ {}; {have_text}",
            need.v()
        ),
        None => format!("no minikube release meshup knows starts Kubernetes {k8s}; {have_text}"),
    };
    let mut failure = Failure::new(ExitKind::Preflight, message).details(serde_json::json!({
        "kubernetes": k8s,
        "minikube": have,
        "needs": need.as_ref().map(|v| v.v()),
    }));
    failure = match need {
        Some(need) => failure.hint(format!(
            "let meshup fetch minikube {} (drop `--offline`), or use {newest_ok}",
            need.v()
        )),
        None => failure.hint(format!("use {newest_ok}")),
    };
    failure
}

async fn cluster(
    scenario: &Scenario,
    args: &StartArgs,
    printer: &Printer,
    plan: &Plan,
    minikube: &Minikube,
    progress: &mut StageProgress<'_>,
) -> anyhow::Result<cluster_stage::ClusterOutcome> {
    let c = &scenario.cluster;
    let start = planner::commands::start_args(scenario, &plan.kubernetes);
    let desired = Desired {
        kubernetes: plan.kubernetes.v(),
        cpus: match c.cpus {
            Cpus::Count(n) => Some(n),
            Cpus::Max => None,
        },
        memory_mb: match c.memory {
            Memory::Mb(mb) => Some(mb),
            Memory::Max => None,
        },
        driver: c.driver.clone(),
    };
    let ask = |question: &str| crate::report::prompt::confirm(question);
    let consent = Consent {
        yes: printer.yes,
        recreate: args.recreate,
        ask: printer
            .interactive
            .then_some(&ask as &(dyn Fn(&str) -> bool + Sync)),
    };
    cluster_stage::ensure(minikube, &start, &desired, &consent, progress).await
}

struct StageProgress<'a> {
    reporter: &'a Reporter,
    planned: Option<Change>,
}

impl ClusterProgress for StageProgress<'_> {
    fn planned(&mut self, change: &Change) {
        self.planned = Some(change.clone());
        let text = match change {
            Change::Create => "creating the cluster".to_owned(),
            Change::Nothing => "running with the same settings: nothing to do".to_owned(),
            Change::Resume { state } => format!("starting it again ({state})"),
            Change::Upgrade { from, to } => format!("upgrading Kubernetes {from} → {to}"),
            Change::Recreate { differences } => format!(
                "differs from the scenario: {}",
                differences
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        self.reporter.info("cluster", &text);
    }

    fn minikube(&mut self, event: &MinikubeEvent) {
        match event {
            MinikubeEvent::Step {
                current,
                total,
                message,
                name,
            } => self.reporter.step(
                "cluster",
                *current,
                *total,
                if message.is_empty() { name } else { message },
            ),
            MinikubeEvent::Download {
                artifact, progress, ..
            } => self.reporter.download("cluster", artifact, *progress, None),
            MinikubeEvent::Info(m) => self.reporter.info("cluster", m),
            MinikubeEvent::Warning(m) => self.reporter.warn("cluster", m),
            // A fatal error (with an exit code) becomes the stage's failure, shown once; the
            // non-fatal ones (`--force` turns refusals into them) are warnings.
            MinikubeEvent::Error(e) if e.exit_code.is_none() => {
                self.reporter.warn("cluster", &e.message)
            }
            MinikubeEvent::Error(_) => {}
        }
    }
}

fn command_line() -> String {
    std::env::args()
        .map(|a| shell_escape::unix::escape(a.into()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_line(e: &anyhow::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}
