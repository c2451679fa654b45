//! `meshup down`: `minikube delete -p`, then meshup's state for the profile; diagnostics bundles
//! stay (CI uploads them after tearing down). `--all` takes every profile meshup has state for
//! and deletes only the clusters meshup created. Events, like `start`.

use serde_json::{Value, json};

use super::input::EnvSourced;
use super::profile::{self, Target};
use crate::cli::DownArgs;
use crate::cluster::status::ClusterState;
use crate::error::{ExitKind, Failure};
use crate::exec::ExecError;
use crate::report::Printer;
use crate::report::events::Reporter;
use crate::state::StateRoot;

pub async fn run(args: &DownArgs, env: &EnvSourced, printer: &Printer) -> anyhow::Result<ExitKind> {
    let root = StateRoot::from_env();
    let names = if args.all {
        if args.profile.cluster_profile.is_some() && !env.has("cluster_profile")
            || args.profile.file.is_some() && !env.has("file")
        {
            return Err(Failure::new(
                ExitKind::Usage,
                "`down --all` takes every profile meshup created; it does not take -p or -f",
            )
            .into());
        }
        root.profiles()?
            .iter()
            .map(|p| p.name().to_owned())
            .collect()
    } else {
        vec![profile::name(&args.profile, env)?]
    };
    let reporter = Reporter::new(printer, "down");
    if names.is_empty() {
        reporter.info("down", "meshup has no profiles to take down");
    }
    let mut done = Vec::new();
    let mut first_error = None;
    for name in &names {
        match down_one(&root, name, args, &reporter).await {
            Ok(outcome) => done.push(outcome),
            Err(err) if is_cancel(&err) => return Err(err),
            Err(err) => {
                // Ends the profile's cluster line unless a later stage already failed.
                reporter.stage_failed(&format!("cluster/{name}"), &err);
                done.push(json!({ "profile": name, "error": format!("{err:#}") }));
                first_error.get_or_insert(err);
            }
        }
    }
    let diagnostics = kept_diagnostics(&root, &names);
    if let Some(err) = first_error {
        // The result event carries it; people get it once on stderr.
        let kind = reporter.result_error(&err);
        crate::report::error::print_text(&crate::error::Failure::of(&err), printer);
        return Ok(kind);
    }
    if !diagnostics.is_empty() {
        reporter.info(
            "down",
            &format!(
                "kept {} diagnostics bundle(s) under {}",
                diagnostics.len(),
                root.diagnostics().display()
            ),
        );
    }
    reporter.result(
        ExitKind::Success,
        json!({ "profiles": done, "diagnosticsKept": diagnostics }),
    );
    Ok(ExitKind::Success)
}

async fn down_one(
    root: &StateRoot,
    name: &str,
    args: &DownArgs,
    r: &Reporter,
) -> anyhow::Result<Value> {
    let target = Target::load(root, name)?;
    let cluster = format!("cluster/{name}");
    let state = format!("state/{name}");
    let what = format!("delete profile `{name}`");
    let mk = &target.minikube;
    if !target.state.exists() && !args.force {
        // Named explicitly, but meshup never had it: delete nothing it did not create.
        let exists = mk
            .status()
            .await
            .map_err(|e| profile::minikube_failure(&what, e))?
            != ClusterState::Missing;
        if exists {
            return Err(Failure::new(
                ExitKind::Usage,
                format!("meshup did not create profile `{name}` (it has no state for it), so it does not delete it"),
            )
            .hint(format!("`meshup down -p {name} --force` deletes it anyway (or `minikube delete -p {name}`)"))
            .into());
        }
        r.stage_skipped(&cluster, "minikube has no such profile");
        r.stage_skipped(&state, "meshup has no state for it");
        return Ok(json!({ "profile": name, "cluster": "absent", "state": "none" }));
    }
    let had_state = target.state.exists();
    let _held = profile::hold(&target.state, "meshup down")?;
    r.stage_started(&cluster, &format!("minikube delete -p {name}"));
    let cluster_outcome = if target.created_by_meshup() || args.force {
        let before = mk.status().await;
        match before {
            Ok(ClusterState::Missing) => {
                r.stage_skipped(&cluster, "minikube has no such profile");
                "absent"
            }
            Ok(_) => match mk.delete().await {
                Ok(()) => {
                    r.stage_done(&cluster, "deleted");
                    "deleted"
                }
                Err(e) => return Err(profile::minikube_failure(&what, e)),
            },
            Err(e) => return Err(profile::minikube_failure(&what, e)),
        }
    } else {
        r.stage_skipped(
            &cluster,
            "meshup did not create it, so it stays (--force deletes it)",
        );
        "kept"
    };
    r.stage_started(&state, &format!("remove {}", target.state.dir().display()));
    if let Err(e) = target.state.remove() {
        r.stage_failed(&state, &e);
        return Err(e);
    }
    if had_state {
        r.stage_done(&state, "removed");
    } else {
        r.stage_skipped(&state, "meshup had no state for it");
    }
    Ok(json!({
        "profile": name,
        "cluster": cluster_outcome,
        "state": if had_state { "removed" } else { "none" },
    }))
}

fn is_cancel(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<ExecError>(),
            Some(ExecError::Cancelled { .. })
        )
    })
}

/// Diagnostics bundles of these profiles (`<profile>-<timestamp>/`): `down` leaves them.
fn kept_diagnostics(root: &StateRoot, names: &[String]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.diagnostics()) else {
        return Vec::new();
    };
    let mut kept: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            names.iter().any(|n| {
                file.strip_prefix(n.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|ts| ts.starts_with(|c: char| c.is_ascii_digit()))
            })
        })
        .map(|e| e.path().display().to_string())
        .collect();
    kept.sort();
    kept
}
