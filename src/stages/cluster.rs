//! The cluster stage: make the minikube profile match the scenario, doing as little as possible.
//! Running and unchanged → nothing; stopped or half-started → start again; newer Kubernetes →
//! upgrade after consent; anything minikube cannot change in place → recreate, only when asked.

use crate::cluster::change::{self, Change, Desired};
use crate::cluster::events::MinikubeEvent;
use crate::cluster::minikube::{Minikube, StartArgs};
use crate::error::{ExitKind, Failure};

/// What the stage needs to know about the run, beyond the cluster itself.
pub struct Consent<'a> {
    /// `--yes` (or CI mode with `--yes`): changes that need consent go ahead.
    pub yes: bool,
    /// `--recreate`: a profile that cannot be changed in place is deleted and created again.
    pub recreate: bool,
    /// Asks the user (None when there is nobody to ask: no TTY, CI).
    pub ask: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

impl Consent<'_> {
    fn allows(&self, given: bool, question: &str) -> bool {
        given || self.ask.is_some_and(|ask| ask(question))
    }
}

/// Progress of the stage, for the reporter.
pub trait ClusterProgress: Send {
    fn planned(&mut self, change: &Change);
    fn minikube(&mut self, event: &MinikubeEvent);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterOutcome {
    pub change: Change,
    /// What was done, in a few words: "created", "nothing changed", "started again", ...
    pub done: &'static str,
}

pub async fn ensure(
    minikube: &Minikube,
    start: &StartArgs,
    desired: &Desired,
    consent: &Consent<'_>,
    progress: &mut dyn ClusterProgress,
) -> anyhow::Result<ClusterOutcome> {
    let state = minikube.status().await.map_err(cluster_error)?;
    let profile = minikube.profile_info().await.map_err(cluster_error)?;
    let change = change::plan(&state, profile.as_ref(), desired);
    progress.planned(&change);
    let mut on_event = |e: &MinikubeEvent| progress.minikube(e);
    let done = match &change {
        Change::Nothing => "nothing changed",
        Change::Create => {
            minikube.start(start, &mut on_event).await?;
            "created"
        }
        Change::Resume { .. } => {
            minikube.start(start, &mut on_event).await?;
            "started again"
        }
        Change::Upgrade { from, to } => {
            let question = format!(
                "Upgrade profile `{}` from Kubernetes {from} to {to} in place?",
                minikube.profile()
            );
            if !consent.allows(consent.yes, &question) {
                return Err(Failure::new(
                    ExitKind::Cluster,
                    format!(
                        "profile `{}` runs Kubernetes {from}; the scenario wants {to}, an in-place upgrade that needs your consent",
                        minikube.profile()
                    ),
                )
                .hint("run again with `--yes` to upgrade, or `--recreate` to start from a new cluster")
                .details(serde_json::to_value(&change)?)
                .into());
            }
            minikube.start(start, &mut on_event).await?;
            "upgraded"
        }
        Change::Recreate { differences } => {
            let listed: Vec<String> = differences.iter().map(|d| format!("  {d}")).collect();
            let question = format!(
                "Profile `{}` differs from the scenario:\n{}\nDelete it and create it again?",
                minikube.profile(),
                listed.join("\n")
            );
            if !consent.allows(consent.recreate, &question) {
                return Err(Failure::new(
                    ExitKind::Cluster,
                    format!(
                        "profile `{}` exists with other settings, which minikube cannot change in place:\n{}",
                        minikube.profile(),
                        listed.join("\n")
                    ),
                )
                .hint("run again with `--recreate` to delete and recreate it (its workloads are lost), or use another `--cluster-profile`")
                .details(serde_json::to_value(&change)?)
                .into());
            }
            minikube.delete().await.map_err(cluster_error)?;
            minikube.start(start, &mut on_event).await?;
            "recreated"
        }
    };
    Ok(ClusterOutcome { change, done })
}

fn cluster_error(err: crate::exec::ExecError) -> anyhow::Error {
    match err {
        e @ crate::exec::ExecError::Cancelled { .. } => e.into(),
        e => Failure::new(ExitKind::Cluster, e.to_string()).into(),
    }
}
