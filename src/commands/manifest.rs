//! `meshup manifest diff`: what the scenario's overrides change in the manifest Istio renders —
//! the seed's `diff -u <(istioctl manifest generate ...) <(istioctl manifest generate ...)` as
//! one command, resource-aware (src/mesh/diff.rs). Against the scenario's base (its file without
//! the command line's `--set`s), `--against-profile P` (the bare profile), or `--against FILE`
//! (another scenario). Exit 1 when they differ, 0 when identical, like `diff`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::input::{self, EnvSourced};
use crate::cli::ScenarioArgs;
use crate::error::ExitKind;
use crate::mesh::command::{Request, Target};
use crate::mesh::{diff, locate};
use crate::report::Printer;
use crate::scenario::Scenario;
use crate::scenario::model::JwtPolicy;

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// What the scenario's overrides change in Istio's rendered manifest, resource by
    /// resource (exit 1 when there are differences, 0 when identical).
    #[command(after_help = crate::cli::EXIT_POINTER)]
    Diff(ManifestDiffArgs),
}

#[derive(Debug, Args)]
pub struct ManifestDiffArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,

    /// Compare with this Istio profile without any override.
    #[arg(long, value_name = "PROFILE")]
    pub against_profile: Option<String>,

    /// Compare with another scenario file.
    #[arg(long, value_name = "FILE", conflicts_with = "against_profile")]
    pub against: Option<PathBuf>,
}

pub async fn run(
    cmd: &ManifestCommand,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let ManifestCommand::Diff(args) = cmd;
    let desired = input::scenario(&args.scenario, env)?;
    crate::mesh::input::check_pinned(&desired)?;
    let located = locate::istioctl_for(&desired).await?;
    let base = if let Some(profile) = &args.against_profile {
        let mut r = request(&desired, &located.istio);
        r.profile = profile.clone();
        r.set.clear();
        r
    } else {
        let base_args = ScenarioArgs {
            file: args.against.clone().or_else(|| args.scenario.file.clone()),
            set: Vec::new(),
            ..args.scenario.clone()
        };
        request(&input::scenario(&base_args, env)?, &located.istio)
    };
    let target = Target {
        istioctl: located.istioctl.clone(),
        context: String::new(),
        kubeconfig: None,
        path: None,
        readiness_timeout: None,
    };
    let a = render(&base, &target).await?;
    let b = render(&request(&desired, &located.istio), &target).await?;
    let d = diff::diff(&a, &b)?;
    if printer.json() {
        printer.out_json(
            &serde_json::json!({
                "schema": "meshup.manifestDiff/v1",
                "istio": located.istio.to_string(),
                "identical": d.identical(),
                "added": d.added,
                "removed": d.removed,
                "changed": d.changed,
            }),
            true,
        );
    } else {
        printer.out(&diff::render_text(&d, printer.style().color));
    }
    Ok(if d.identical() {
        ExitKind::Success
    } else {
        ExitKind::Differences
    })
}

/// The manifest request of a scenario: its profile, overrides and an explicit JWT policy
/// (`manifest generate` does not detect one: auto renders istioctl's default).
fn request(s: &Scenario, istio: &crate::compat::Version) -> Request {
    Request {
        istio: istio.clone(),
        profile: s.mesh.profile.clone(),
        set: s
            .mesh
            .set
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        jwt_policy: match s.mesh.jwt_policy {
            JwtPolicy::Auto => None,
            p => Some(p.as_str().to_string()),
        },
    }
}

async fn render(r: &Request, t: &Target) -> anyhow::Result<String> {
    crate::mesh::install::render(r, t, &tokio_util::sync::CancellationToken::new()).await
}
