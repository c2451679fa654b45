//! What `status`, `stop` and `down` share: which profile is meant, meshup's state for it, and
//! the minikube that manages it.

use std::path::PathBuf;

use super::input::{self, EnvSourced};
use crate::cli::{ProfileArgs, ScenarioArgs};
use crate::cluster::minikube::Minikube;
use crate::error::{ExitKind, Failure};
use crate::exec::ExecError;
use crate::state::{ProfileState, Record, StateRoot};

/// The isolated kubeconfig (`start --isolated-kubeconfig`) inside the profile's state dir.
pub const KUBECONFIG_FILE: &str = "kubeconfig";

/// One profile, as meshup knows it.
pub struct Target {
    pub name: String,
    pub state: ProfileState,
    /// meshup's record (empty when meshup has none).
    pub record: Record,
    pub minikube: Minikube,
    /// The profile's own kubeconfig, when it has one.
    pub kubeconfig: Option<PathBuf>,
}

impl Target {
    pub fn load(root: &StateRoot, name: &str) -> anyhow::Result<Target> {
        let state = root.profile(name);
        let record = state.record()?;
        let mut minikube = Minikube::new(minikube_bin(&record), name);
        let kubeconfig = Some(state.file(KUBECONFIG_FILE)).filter(|p| p.is_file());
        if let Some(path) = &kubeconfig {
            // minikube reads and cleans the context where it wrote it.
            minikube = minikube.with_kubeconfig(path);
        }
        Ok(Target {
            name: name.to_owned(),
            state,
            record,
            minikube,
            kubeconfig,
        })
    }

    /// meshup created this profile (its record says so): `down` may delete it.
    pub fn created_by_meshup(&self) -> bool {
        self.state.exists() && self.record.created_by_meshup
    }
}

/// `-p`, else the scenario's profile (`-f`), else the default; validated like `start`'s.
pub fn name(args: &ProfileArgs, env: &EnvSourced) -> anyhow::Result<String> {
    let scenario_args = ScenarioArgs {
        file: args.file.clone(),
        cluster_profile: args.cluster_profile.clone(),
        ..ScenarioArgs::default()
    };
    Ok(input::scenario(&scenario_args, env)?.cluster.profile)
}

/// The minikube meshup used for the profile (recorded by `start`), else the one on PATH.
pub fn minikube_bin(record: &Record) -> PathBuf {
    record.scenario["tools"]["minikube"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map_or_else(|| PathBuf::from("minikube"), PathBuf::from)
}

/// A minikube call that failed, as the exit it means: no minikube is a preflight problem (3),
/// anything else the cluster's (5); a shutdown stays a shutdown.
pub fn minikube_failure(what: &str, err: ExecError) -> anyhow::Error {
    match err {
        e @ ExecError::Cancelled { .. } => e.into(),
        ExecError::NotFound { program } => Failure::new(
            ExitKind::Preflight,
            format!("cannot {what}: `{program}` was not found"),
        )
        .hint("install minikube (https://minikube.sigs.k8s.io/docs/start/) or put it on PATH")
        .into(),
        e => Failure::new(ExitKind::Cluster, format!("cannot {what}: {e}")).into(),
    }
}

/// `status` and `stop` of a profile minikube does not have: exit 11.
pub fn missing(target: &Target) -> anyhow::Error {
    let mut failure = Failure::new(
        ExitKind::NoProfile,
        format!("there is no cluster profile `{}`", target.name),
    )
    .details(serde_json::json!({
        "profile": target.name,
        "meshupState": target.state.exists().then(|| target.state.dir().display().to_string()),
    }));
    failure = if target.state.exists() {
        failure.hint(format!(
            "meshup still has state for it in {}; `meshup down -p {}` removes it",
            target.state.dir().display(),
            target.name
        ))
    } else {
        failure.hint(format!(
            "`meshup start -p {}` creates it; `minikube profile list` shows the profiles there are",
            target.name
        ))
    };
    failure.into()
}

/// Holds the profile's lock for a command; a state dir created only for the lock goes away with
/// it, so a command on a profile meshup never had leaves nothing behind (and `down --all` never
/// mistakes the profile for one of meshup's).
pub struct Held {
    lock: Option<crate::state::ProfileLock>,
    state: ProfileState,
    made: bool,
}

pub fn hold(state: &ProfileState, command: &str) -> anyhow::Result<Held> {
    let made = !state.exists();
    let lock = state.lock(command)?;
    Ok(Held {
        lock: Some(lock),
        state: state.clone(),
        made,
    })
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.lock.take());
        if self.made {
            let _ = self.state.remove();
        }
    }
}
