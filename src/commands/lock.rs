//! `meshup lock`: pin the versions, URLs and sha256 digests a scenario's tools resolve to, in
//! `meshup.lock` next to the scenario (or in the current directory). `--check` verifies the
//! file is current instead of writing it (exit 4 when not), for CI.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::input::{self, EnvSourced};
use crate::cli::ScenarioArgs;
use crate::error::ExitKind;
use crate::report::Printer;
use crate::tools::lock::LockedTool;
use crate::tools::probe::Probe;
use crate::tools::resolve::resolve;
use crate::tools::{Installer, Lock, Request, ToolError};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct LockArgs {
    /// Fail (exit 4) if meshup.lock is missing or differs from what the scenario resolves to now;
    /// write nothing.
    #[arg(long)]
    pub check: bool,

    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `meshup lock`: the entry point main dispatches to.
pub async fn run(args: &LockArgs, env: &EnvSourced, printer: &Printer) -> anyhow::Result<ExitKind> {
    let scenario = input::scenario(&args.scenario, env)?;
    let (req, probes) = super::tools::request_for(&scenario).await;
    let installer = Installer::from_env().map_err(ToolError::into_anyhow)?;
    let probe = crate::host::probe::ProbedTools(&probes);
    let report = lock(
        &req,
        args.scenario.file.as_deref(),
        args,
        &installer,
        &probe,
    )
    .await?;
    super::tools::emit(printer, &report);
    Ok(ExitKind::Success)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LockReport {
    pub path: PathBuf,
    pub lock: Lock,
    /// False when the file already said exactly this (it is then left untouched).
    pub changed: bool,
    pub checked_only: bool,
}

/// Resolves the scenario's tools and pins each one. Tools already cached are pinned to the
/// digest they were verified against; others to the digest their `.sha256` publishes (nothing
/// large is downloaded).
pub async fn lock(
    req: &Request,
    scenario: Option<&Path>,
    args: &LockArgs,
    installer: &Installer,
    probe: &impl Probe,
) -> anyhow::Result<LockReport> {
    write_lock(req, scenario, args, installer, probe)
        .await
        .map_err(ToolError::into_anyhow)
}

async fn write_lock(
    req: &Request,
    scenario: Option<&Path>,
    args: &LockArgs,
    installer: &Installer,
    probe: &impl Probe,
) -> Result<LockReport, ToolError> {
    let path = Lock::path_for(scenario);
    let previous = Lock::read(&path)?;
    let resolution = resolve(req, probe, installer, None).await?;
    let mut lock = Lock::new(installer.platform);
    for r in resolution.all() {
        let (url, sha256) = installer.lock_entry(r.tool, &r.semver).await?;
        lock.tools.insert(
            r.tool,
            LockedTool {
                version: r.version.clone(),
                url,
                sha256,
            },
        );
    }
    let changed = previous.as_ref() != Some(&lock);
    if args.check {
        if let Some((tool, old, new)) = first_difference(previous.as_ref(), &lock) {
            return Err(ToolError::LockMismatch {
                tool,
                field: "entry",
                locked: old,
                resolved: new,
            });
        }
        if previous.is_none() {
            return Err(ToolError::LockMissing { path });
        }
    } else if changed {
        lock.write(&path)?;
    }
    Ok(LockReport {
        path,
        lock,
        changed,
        checked_only: args.check,
    })
}

fn first_difference(
    previous: Option<&Lock>,
    now: &Lock,
) -> Option<(crate::tools::Tool, String, String)> {
    let previous = previous?;
    now.tools.iter().find_map(|(tool, new)| {
        let old = previous.tools.get(tool);
        (old != Some(new)).then(|| {
            let show =
                |t: &LockedTool| format!("{} ({})", t.version, &t.sha256[..12.min(t.sha256.len())]);
            (
                *tool,
                old.map(show).unwrap_or_else(|| "nothing".into()),
                show(new),
            )
        })
    })
}

impl fmt::Display for LockReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.checked_only, self.changed) {
            (true, _) => "is up to date",
            (false, true) => "written",
            (false, false) => "already up to date",
        };
        writeln!(
            f,
            "{} {what} ({}):",
            self.path.display(),
            self.lock.platform
        )?;
        for (tool, t) in &self.lock.tools {
            writeln!(f, "  {tool:<8}  {:<8}  sha256 {}", t.version, t.sha256)?;
        }
        if self.changed && !self.checked_only {
            writeln!(
                f,
                "Commit it: `meshup start --locked` (implied with --ci) then refuses any other file."
            )?;
        }
        Ok(())
    }
}
