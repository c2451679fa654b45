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
        let one = if args.mesh_only {
            mesh_down(&root, name, &reporter).await
        } else {
            down_one(&root, name, args.force, &reporter).await
        };
        match one {
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

/// One profile down: its cluster (if meshup created it, or `force`), then its state.
pub(crate) async fn down_one(
    root: &StateRoot,
    name: &str,
    force: bool,
    r: &Reporter,
) -> anyhow::Result<Value> {
    let target = Target::load(root, name)?;
    let cluster = format!("cluster/{name}");
    let state = format!("state/{name}");
    let what = format!("delete profile `{name}`");
    let mk = &target.minikube;
    // Without meshup's state, no minikube means no such cluster: nothing to delete. (With
    // state, the recorded minikube must say so itself.)
    let no_state = !target.state.exists();
    let status = || async move {
        match mk.status().await {
            Err(ExecError::NotFound { .. }) if no_state => Ok(ClusterState::Missing),
            other => other,
        }
    };
    r.stage_started(&cluster, &format!("minikube delete -p {name}"));
    if !target.state.exists() && !force {
        // Named explicitly, but meshup never had it: delete nothing it did not create.
        let exists = status()
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
    // The tunnel first, while the API server still answers: nothing of it may outlive the
    // cluster (supervisor, minikube tunnel, ssh forwards, addresses).
    let tunnel = super::tunnel::stop(&target).await;
    if tunnel.supervisor.is_some() || !tunnel.tunnels.is_empty() || !tunnel.forwards.is_empty() {
        r.info(
            &cluster,
            &format!(
                "stopped the tunnel{}",
                super::tunnel::describe_stop(&tunnel)
            ),
        );
    }
    let cluster_outcome = if target.created_by_meshup() || force {
        let before = status().await;
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

/// `--mesh-only` for one profile: under its lock, only the mesh.
async fn mesh_down(root: &StateRoot, name: &str, r: &Reporter) -> anyhow::Result<Value> {
    let state = root.profile(name);
    if !state.exists() {
        r.stage_skipped(
            &format!("mesh/{name}"),
            "meshup has no state for this profile",
        );
        return Ok(json!({ "profile": name, "mesh": "none" }));
    }
    let _held = profile::hold(&state, "meshup down --mesh-only")?;
    mesh_only(name, &state, r).await
}

/// `--mesh-only`: the recorded manifest's objects deleted, the record forgotten, the cluster
/// and the rest of the state kept.
async fn mesh_only(
    name: &str,
    state: &crate::state::ProfileState,
    r: &Reporter,
) -> anyhow::Result<Value> {
    let stage = format!("mesh/{name}");
    let Some((record, manifest)) = crate::mesh::record::load(state)? else {
        r.stage_skipped(
            &stage,
            "meshup has no record of installing a mesh on this profile",
        );
        return Ok(json!({ "profile": name, "mesh": "none" }));
    };
    r.stage_started(
        &stage,
        &format!(
            "remove Istio {} as recorded ({})",
            record.istio,
            crate::mesh::record::manifest_path(state).display()
        ),
    );
    let kubeconfig = Some(state.file("kubeconfig")).filter(|p| p.is_file());
    let client =
        crate::k8s::client_for_context(name, kubeconfig.as_deref(), ExitKind::Mesh).await?;
    let removed = match crate::mesh::remove::remove(&client.client, &manifest).await {
        Ok(removed) => removed,
        Err(e) => {
            r.stage_failed(&stage, &e);
            return Err(e);
        }
    };
    crate::mesh::record::remove(state)?;
    r.stage_done(
        &stage,
        &format!(
            "{} objects deleted, {} already gone",
            removed.deleted, removed.absent
        ),
    );
    Ok(json!({ "profile": name, "mesh": "removed", "istio": record.istio, "removed": removed }))
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
