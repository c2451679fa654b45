//! `meshup istio profiles`, `meshup istio profile dump NAME`, `meshup istio profile diff A B`:
//! Istio's profiles for the scenario's Istio version — through its istioctl where the version
//! still has `profile` (≤ 1.23), from the release archive's `manifests/profiles/` (in meshup's
//! cache) for 1.24+, where istioctl dropped the command (research/istio.md §2). Output is sorted
//! (1.5–1.7 list profiles in random order).

use std::path::Path;

use clap::{Args, Subcommand};

use super::input::{self, EnvSourced};
use crate::cli::ScenarioArgs;
use crate::compat::{Minor, Version};
use crate::error::{ExitKind, Failure};
use crate::exec::Cmd;
use crate::mesh::locate::{self, Located};
use crate::report::Printer;

#[derive(Debug, Subcommand)]
pub enum IstioCommand {
    /// The profiles of the scenario's Istio version, sorted.
    #[command(after_help = crate::cli::EXIT_POINTER)]
    Profiles(ScenarioArgs),
    /// One profile: `dump NAME`, `diff A B`.
    #[command(subcommand, after_help = crate::cli::EXIT_POINTER)]
    Profile(ProfileCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// The profile's IstioOperator, keys sorted (with the scenario's `--set`s applied).
    #[command(after_help = crate::cli::EXIT_POINTER)]
    Dump(DumpArgs),
    /// How two profiles differ (exit 1 when they do, 0 when identical).
    #[command(after_help = crate::cli::EXIT_POINTER)]
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    pub name: String,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub a: String,
    pub b: String,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

fn has_profile_command(istio: &Version) -> bool {
    istio.minor() <= Minor::new(1, 23)
}

async fn istioctl(l: &Located, argv: &[String]) -> anyhow::Result<String> {
    let out = Cmd::new(&l.istioctl)
        .args(argv)
        .timeout(std::time::Duration::from_secs(60))
        .run()
        .await
        .map_err(|e| Failure::new(ExitKind::Mesh, e.to_string()))?;
    Ok(out.stdout)
}

fn archive_needed(l: &Located) -> Failure {
    Failure::new(
        ExitKind::Tools,
        format!(
            "istioctl {} has no `profile` command (removed in 1.24) and meshup's cache has no release archive of it with manifests/profiles",
            l.istio
        ),
    )
    .hint(format!("`meshup tools install --istio {}` fetches the release archive", l.istio))
}

/// Keys sorted, as YAML: istioctl's order is not stable across versions.
fn sorted_yaml(text: &str) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_yaml::from_str(text)?;
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut e: Vec<_> = m.iter().collect();
                e.sort_by(|a, b| a.0.cmp(b.0));
                serde_json::Value::Object(
                    e.into_iter().map(|(k, v)| (k.clone(), sort(v))).collect(),
                )
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            o => o.clone(),
        }
    }
    Ok(serde_yaml::to_string(&sort(&v))?)
}

async fn names(l: &Located) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = if has_profile_command(&l.istio) {
        istioctl(l, &["profile".into(), "list".into()])
            .await?
            .lines()
            .skip_while(|line| !line.starts_with("Istio configuration profiles:"))
            .skip(1)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        let dir = l.profiles.as_ref().ok_or_else(|| archive_needed(l))?;
        std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".yaml")
                    .map(String::from)
            })
            .collect()
    };
    names.sort();
    Ok(names)
}

async fn dump(l: &Located, name: &str, sets: &[String]) -> anyhow::Result<String> {
    if has_profile_command(&l.istio) {
        let mut argv = vec!["profile".to_string(), "dump".to_string(), name.to_string()];
        for s in sets {
            argv.extend(["--set".to_string(), s.clone()]);
        }
        return sorted_yaml(&istioctl(l, &argv).await?);
    }
    let dir = l.profiles.as_ref().ok_or_else(|| archive_needed(l))?;
    if !sets.is_empty() {
        return Err(Failure::new(
            ExitKind::Usage,
            "`--set` with `profile dump` needs istioctl's `profile` command (Istio ≤ 1.23)",
        )
        .into());
    }
    let file = dir.join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&file).map_err(|_| unknown_profile(l, name, dir))?;
    sorted_yaml(&text)
}

fn unknown_profile(l: &Located, name: &str, dir: &Path) -> Failure {
    Failure::new(
        ExitKind::Usage,
        format!(
            "Istio {} has no `{name}` profile (looked in {})",
            l.istio,
            dir.display()
        ),
    )
}

pub async fn run(
    cmd: &IstioCommand,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    match cmd {
        IstioCommand::Profiles(args) => {
            let s = input::scenario(args, env)?;
            let l = locate::istioctl_for(&s).await?;
            let list = names(&l).await?;
            if printer.json() {
                printer.out_json(
                    &serde_json::json!({"istio": l.istio.to_string(), "profiles": list}),
                    true,
                );
            } else {
                printer.out(&format!(
                    "Istio {} profiles:\n{}\n",
                    l.istio,
                    list.iter()
                        .map(|n| format!("  {n}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
            Ok(ExitKind::Success)
        }
        IstioCommand::Profile(ProfileCommand::Dump(args)) => {
            let s = input::scenario(&args.scenario, env)?;
            let l = locate::istioctl_for(&s).await?;
            check_name(&l, &args.name)?;
            let sets: Vec<String> = s.mesh.set.iter().map(|(k, v)| format!("{k}={v}")).collect();
            printer.out(&dump(&l, &args.name, &sets).await?);
            Ok(ExitKind::Success)
        }
        IstioCommand::Profile(ProfileCommand::Diff(args)) => {
            let s = input::scenario(&args.scenario, env)?;
            let l = locate::istioctl_for(&s).await?;
            check_name(&l, &args.a)?;
            check_name(&l, &args.b)?;
            let (a, b) = (dump(&l, &args.a, &[]).await?, dump(&l, &args.b, &[]).await?);
            if a == b {
                printer.out("The profiles are identical.\n");
                return Ok(ExitKind::Success);
            }
            let diff = similar::TextDiff::from_lines(&a, &b)
                .unified_diff()
                .context_radius(3)
                .header(&args.a, &args.b)
                .to_string();
            let style = printer.style();
            let painted: Vec<String> = diff
                .lines()
                .map(|line| {
                    if line.starts_with('+') {
                        style.green(line)
                    } else if line.starts_with('-') {
                        style.red(line)
                    } else {
                        line.to_string()
                    }
                })
                .collect();
            printer.out(&(painted.join("\n") + "\n"));
            Ok(ExitKind::Differences)
        }
    }
}

/// A profile the version does not have is bad input (exit 2), naming the ones it has.
fn check_name(l: &Located, name: &str) -> anyhow::Result<()> {
    let known = crate::compat::istio::profiles(&l.istio);
    if known.contains(&name) || Path::new(name).is_file() {
        return Ok(());
    }
    Err(Failure::new(
        ExitKind::Usage,
        format!(
            "Istio {} has no `{name}` profile; it has {}",
            l.istio,
            known.join(", ")
        ),
    )
    .into())
}
