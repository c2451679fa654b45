//! `meshup tools list | install | prune`: what is in meshup's tool cache, fetching named
//! versions into it, and clearing it. Each command returns a report that prints as text
//! (`Display`) or as one JSON document (`Serialize`), as the `--output` flag decides.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

mod progress;
mod render;

pub use progress::{DownloadProgress, ProgressMode};
pub use render::human_bytes;
use render::table;

use super::input::{self, EnvSourced};
use crate::cli::ScenarioArgs;
use crate::error::ExitKind;
use crate::host::probe;
use crate::plan as planner;
use crate::report::Printer;
use crate::scenario::Scenario;
use crate::tools::cache::Entry;
use crate::tools::probe::parse_tag;
use crate::tools::resolve::newest_minikube_for;
use crate::tools::{
    Installer, Lock, PrepareOptions, Progress, Request, Resolution, Tool, ToolError,
};

#[derive(Debug, Clone, clap::Args)]
pub struct ToolsArgs {
    #[command(subcommand)]
    pub command: ToolsCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum ToolsCommand {
    /// List cached tools: versions, sizes, and which scenario or lock uses them.
    List,
    /// Download, verify and cache tools, e.g. `minikube@v1.24.0 istioctl@1.5.0 kubectl@v1.15.12`.
    Install(Box<InstallArgs>),
    /// Remove cached tools no scenario or lock uses, and leftovers of interrupted downloads.
    Prune(PruneArgs),
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstallArgs {
    /// `tool@version`; tools: minikube, istioctl, kubectl. Without any: the tools the scenario
    /// (-f, --k8s, --istio) needs, e.g. to fill a CI cache before `meshup start`.
    #[arg(value_name = "TOOL@VERSION")]
    pub specs: Vec<String>,

    /// With the scenario's tools: use exactly those in meshup.lock; exit 4 if anything differs.
    #[arg(long, conflicts_with = "specs")]
    pub locked: bool,

    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PruneArgs {
    /// Remove every cached tool, used or not.
    #[arg(long)]
    pub all: bool,
    /// Show what would be removed without removing it.
    #[arg(long)]
    pub dry_run: bool,
}

/// What the caller knows about the project: its scenarios (for "used by") and its lock.
pub struct ToolsContext {
    pub installer: Installer,
    /// (scenario name, what it asks for).
    pub scenarios: Vec<(String, Request)>,
    pub lock: Option<Lock>,
}

/// `meshup tools ...`: the entry point main dispatches to.
pub async fn run(
    args: &ToolsArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let installer = Installer::from_env().map_err(ToolError::into_anyhow)?;
    let progress = DownloadProgress::for_printer(printer);
    match &args.command {
        ToolsCommand::List => {
            let ctx = context(installer).await?;
            emit(printer, &list(&ctx));
        }
        ToolsCommand::Install(a) if a.specs.is_empty() => {
            let scenario = input::scenario(&a.scenario, env)?;
            let (req, probes) = request_for(&scenario).await;
            let opts = PrepareOptions {
                locked: a.locked,
                ci: printer.ci,
                // Asking for the scenario's tools is consent to download them.
                yes: true,
                scenario: a.scenario.file.clone(),
                offline: false,
            };
            let probe = probe::ProbedTools(&probes);
            let (resolution, _) = crate::tools::prepare(&req, &opts, &installer, &probe, &progress)
                .await
                .map_err(ToolError::into_anyhow)?;
            emit(printer, &ResolutionReport(resolution));
        }
        ToolsCommand::Install(a) => {
            let ctx = context(installer).await?;
            emit(printer, &install(&ctx, a, &progress).await?);
        }
        ToolsCommand::Prune(a) => {
            let ctx = context(installer).await?;
            emit(printer, &prune(&ctx, a)?);
        }
    }
    Ok(ExitKind::Success)
}

pub(super) fn emit<T: Serialize + fmt::Display>(printer: &Printer, report: &T) {
    if printer.json() {
        printer.out_json(report, true);
    } else {
        printer.out(&report.to_string());
    }
}

/// The concrete Kubernetes and Istio versions of a scenario (`stable`, `auto` resolved as the
/// plan resolves them), and the probe's answers, which resolution then reuses
/// (`probe::ProbedTools`) instead of asking every tool its version again.
pub async fn request_for(scenario: &Scenario) -> (Request, planner::Probes) {
    // kubectl's version too: the lock pins a kubectl even where the run does not need one.
    let probes = probe::probe(true).await;
    (planner::request(scenario, &probes), probes)
}

pub fn request_from_plan(plan: &planner::Plan) -> Request {
    Request {
        kubernetes: plan.kubernetes.0.clone(),
        istio: plan.istio.0.clone(),
        kubectl: plan.needs_kubectl,
    }
}

/// The project's scenarios (`scenarios/*.yaml` here) and its lock (./meshup.lock), for "used by".
async fn context(installer: Installer) -> anyhow::Result<ToolsContext> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files.dedup();
    let mut scenarios = Vec::new();
    if !files.is_empty() {
        let probes = probe::probe(false).await;
        for file in files {
            let args = ScenarioArgs {
                file: Some(file.clone()),
                ..ScenarioArgs::default()
            };
            // Matrix files and broken scenarios use nothing; `scenario validate` reports them.
            if let Ok(scenario) = input::scenario(&args, &EnvSourced::default()) {
                let name = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                scenarios.push((name, planner::request(&scenario, &probes)));
            }
        }
    }
    let lock = Lock::read(&Lock::path_for(None)).ok().flatten();
    Ok(ToolsContext {
        installer,
        scenarios,
        lock,
    })
}

/// What `meshup tools install` (scenario mode) resolved and where each tool is now.
#[derive(Debug, Serialize)]
pub struct ResolutionReport(pub Resolution);

impl fmt::Display for ResolutionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in self.0.all() {
            let state = match (&r.origin, r.needed) {
                (crate::tools::Origin::Path { .. }, _) => "on PATH",
                (_, false) => "not needed by this scenario",
                _ => "cached",
            };
            writeln!(
                f,
                "✓ {} {} ({state}): {}",
                r.tool,
                r.version,
                r.path().display()
            )?;
            writeln!(f, "  {}", r.why)?;
        }
        Ok(())
    }
}

impl ToolsContext {
    /// Who would use `tool@version`: scenarios fetching it when nothing fits on PATH, and the lock.
    fn used_by(&self, tool: Tool, version: &str) -> Vec<String> {
        let mut users: Vec<String> = self
            .scenarios
            .iter()
            .filter(|(_, req)| wanted(req, tool).is_some_and(|v| v == version))
            .map(|(name, _)| name.clone())
            .collect();
        if let Some(lock) = &self.lock
            && lock.tools.get(&tool).is_some_and(|t| t.version == version)
        {
            users.push("meshup.lock".into());
        }
        users
    }
}

/// The version a scenario downloads for `tool` when nothing suitable is on PATH.
fn wanted(req: &Request, tool: Tool) -> Option<String> {
    match tool {
        Tool::Minikube => newest_minikube_for(&req.kubernetes).map(|v| tool.version_tag(&v)),
        Tool::Istioctl => Some(tool.version_tag(&req.istio)),
        Tool::Kubectl => Some(tool.version_tag(&req.kubernetes)),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedTool {
    pub tool: Tool,
    pub version: String,
    pub bytes: u64,
    pub used_by: Vec<String>,
    pub path: PathBuf,
    pub url: String,
    pub sha256: String,
    pub installed_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListReport {
    pub cache_dir: PathBuf,
    pub tools: Vec<CachedTool>,
    /// Folders of interrupted downloads (`meshup tools prune` removes them).
    pub leftovers: Vec<PathBuf>,
}

pub fn list(ctx: &ToolsContext) -> ListReport {
    let cache = &ctx.installer.cache;
    let tools = cache.list().into_iter().map(|e| cached(ctx, e)).collect();
    ListReport {
        cache_dir: cache.root().to_owned(),
        tools,
        leftovers: cache.leftovers(),
    }
}

fn cached(ctx: &ToolsContext, entry: Entry) -> CachedTool {
    CachedTool {
        tool: entry.meta.tool,
        used_by: ctx.used_by(entry.meta.tool, &entry.meta.version),
        bytes: entry.size(),
        version: entry.meta.version,
        path: entry.binary,
        url: entry.meta.url,
        sha256: entry.meta.sha256,
        installed_at: entry.meta.installed_at,
    }
}

impl fmt::Display for ListReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tools.is_empty() {
            writeln!(f, "No tools cached in {}.", self.cache_dir.display())?;
        } else {
            let rows: Vec<[String; 5]> = self
                .tools
                .iter()
                .map(|t| {
                    let used = if t.used_by.is_empty() {
                        "-".to_owned()
                    } else {
                        t.used_by.join(", ")
                    };
                    [
                        t.tool.to_string(),
                        t.version.clone(),
                        human_bytes(t.bytes),
                        used,
                        t.path.display().to_string(),
                    ]
                })
                .collect();
            table(f, ["TOOL", "VERSION", "SIZE", "USED BY", "PATH"], &rows)?;
        }
        if !self.leftovers.is_empty() {
            writeln!(
                f,
                "{} interrupted download(s) left over; `meshup tools prune` removes them.",
                self.leftovers.len()
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallReport {
    pub installed: Vec<InstalledTool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledTool {
    pub tool: Tool,
    pub version: String,
    pub path: PathBuf,
    pub sha256: String,
    /// False when it was already cached.
    pub downloaded: bool,
}

/// Parses `tool@version` (`minikube@v1.24.0`, `istioctl@1.5.0`).
pub fn parse_spec(spec: &str) -> Result<(Tool, semver::Version), ToolError> {
    let bad = |reason| ToolError::BadSpec {
        spec: spec.to_owned(),
        reason,
    };
    let (name, version) = spec
        .split_once('@')
        .ok_or_else(|| bad("expected tool@version"))?;
    let tool =
        Tool::parse(name).ok_or_else(|| bad("the tool must be minikube, istioctl or kubectl"))?;
    let version =
        parse_tag(version).ok_or_else(|| bad("the version must look like v1.24.0 or 1.5.0"))?;
    Ok((tool, version))
}

/// Installs each named tool (all specs are checked before anything is downloaded).
pub async fn install(
    ctx: &ToolsContext,
    args: &InstallArgs,
    progress: &dyn Progress,
) -> anyhow::Result<InstallReport> {
    install_all(ctx, args, progress)
        .await
        .map_err(ToolError::into_anyhow)
}

async fn install_all(
    ctx: &ToolsContext,
    args: &InstallArgs,
    progress: &dyn Progress,
) -> Result<InstallReport, ToolError> {
    let specs = args
        .specs
        .iter()
        .map(|s| parse_spec(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut installed = Vec::new();
    for (tool, version) in specs {
        let done = ctx.installer.ensure(tool, &version, None, progress).await?;
        installed.push(InstalledTool {
            tool,
            version: done.entry.meta.version.clone(),
            path: done.entry.binary.clone(),
            sha256: done.entry.meta.sha256.clone(),
            downloaded: done.downloaded,
        });
    }
    Ok(InstallReport { installed })
}

impl fmt::Display for InstallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.installed {
            let how = if t.downloaded {
                "downloaded, sha256 verified"
            } else {
                "already cached"
            };
            writeln!(
                f,
                "✓ {} {} ({how}): {}",
                t.tool,
                t.version,
                t.path.display()
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneReport {
    pub dry_run: bool,
    pub removed: Vec<PathBuf>,
    pub freed_bytes: u64,
    /// Versions kept because a scenario or the lock uses them.
    pub kept: Vec<String>,
}

pub fn prune(ctx: &ToolsContext, args: &PruneArgs) -> anyhow::Result<PruneReport> {
    prune_cache(ctx, args).map_err(ToolError::into_anyhow)
}

fn prune_cache(ctx: &ToolsContext, args: &PruneArgs) -> Result<PruneReport, ToolError> {
    let cache = &ctx.installer.cache;
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    let mut freed = 0;
    for dir in cache.leftovers() {
        freed += dir_bytes(&dir);
        removed.push(dir);
    }
    for entry in cache.list() {
        let users = ctx.used_by(entry.meta.tool, &entry.meta.version);
        if args.all || users.is_empty() {
            freed += entry.size();
            removed.push(entry.dir);
        } else {
            kept.push(format!(
                "{}@{} ({})",
                entry.meta.tool,
                entry.meta.version,
                users.join(", ")
            ));
        }
    }
    if !args.dry_run {
        for dir in &removed {
            cache.remove(dir)?;
        }
    }
    Ok(PruneReport {
        dry_run: args.dry_run,
        removed,
        freed_bytes: freed,
        kept,
    })
}

impl fmt::Display for PruneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "Would remove"
        } else {
            "Removed"
        };
        for dir in &self.removed {
            writeln!(f, "{verb} {}", dir.display())?;
        }
        writeln!(
            f,
            "{verb} {} folder(s), {}.",
            self.removed.len(),
            human_bytes(self.freed_bytes)
        )?;
        for k in &self.kept {
            writeln!(f, "Kept {k}")?;
        }
        Ok(())
    }
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            parse_spec("minikube@v1.24.0").unwrap(),
            (Tool::Minikube, semver::Version::new(1, 24, 0))
        );
        assert_eq!(parse_spec("istioctl@1.5.0").unwrap().0, Tool::Istioctl);
        for bad in ["minikube", "helm@3.0.0", "kubectl@latest", "kubectl@"] {
            assert!(
                matches!(parse_spec(bad), Err(ToolError::BadSpec { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(52 * 1024 * 1024 + 300_000), "52.3 MiB");
    }
}
