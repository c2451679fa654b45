//! The cluster's controllers. One task per running cluster wakes on every change to the store
//! and reconciles everything (the world is small); timed steps run as child tasks, aborted
//! with the cluster.

pub mod events;
pub mod namespaces;
pub mod pods;
pub mod services;
pub mod volumes;
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
        let rv = *changes.borrow_and_update();
        reconcile(&cluster, &mut state);
        state.listeners.finish_closing().await;
        cluster.mark_processed(rv);
        tokio::select! {
            changed = changes.changed() => if changed.is_err() {
                return;
            },
            () = cluster.kick.notified() => {}
        }
        // Let a burst of writes land before the next pass.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn reconcile(cluster: &Arc<Cluster>, state: &mut State) {
    while state.tasks.try_join_next().is_some() {}
    // Each controller on its own: one that trips over a malformed object must not stop the rest.
    let guarded = |name: &str, f: &mut dyn FnMut()| {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
            eprintln!("controllers {}: {name} panicked", cluster.profile);
        }
    };
    guarded("namespaces", &mut || namespaces::reconcile(cluster, state));
    guarded("crds", &mut || namespaces::establish_crds(cluster, state));
    guarded("workloads", &mut || workloads::reconcile(cluster));
    guarded("pods", &mut || pods::reconcile(cluster, state));
    guarded("gc", &mut || namespaces::collect_garbage(cluster));
    guarded("dataplane", &mut || state.listeners.reconcile(cluster));
}
