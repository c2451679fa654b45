//! The cluster's controllers. One task per running cluster wakes on every change to the store
//! and reconciles everything (the world is small); timed steps run as child tasks, aborted
//! with the cluster.

pub mod events;
pub mod namespaces;
pub mod pods;
pub mod services;
pub mod workloads;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::cluster::Cluster;
use super::dataplane::Listeners;

pub struct State {
    pub tasks: JoinSet<()>,
    /// uids a timed task already handles.
    pub tracked: HashSet<String>,
    pub listeners: Listeners,
}

pub async fn run(cluster: Arc<Cluster>) {
    let mut changes = cluster.store.subscribe();
    let mut state = State {
        tasks: JoinSet::new(),
        tracked: HashSet::new(),
        listeners: Listeners::default(),
    };
    loop {
        changes.borrow_and_update();
        reconcile(&cluster, &mut state);
        if changes.changed().await.is_err() {
            return;
        }
        // Let a burst of writes land before the next pass.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn reconcile(cluster: &Arc<Cluster>, state: &mut State) {
    while state.tasks.try_join_next().is_some() {}
    namespaces::reconcile(cluster, state);
    namespaces::establish_crds(cluster, state);
    workloads::reconcile(cluster);
    pods::reconcile(cluster, state);
    services::sync_load_balancers(cluster);
    namespaces::collect_garbage(cluster);
    state.listeners.reconcile(cluster);
}
