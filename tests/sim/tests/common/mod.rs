//! What the emulated cluster's tests share: a world with one running cluster and a client of it.

#![allow(dead_code)]

use meshup_sim::{Knobs, World};

/// A world with these knobs and a running cluster `name` at Kubernetes `version`, and a kube
/// client for it (the world must outlive the client: dropping it stops the cluster).
pub async fn cluster_with(knobs: Knobs, name: &str, version: &str) -> (World, kube::Client) {
    let world = World::start(knobs);
    world.start_cluster(name, version);
    let client = world.kube_client(name).await.unwrap();
    (world, client)
}

/// [`cluster_with`] the default knobs.
pub async fn cluster(name: &str, version: &str) -> (World, kube::Client) {
    cluster_with(Knobs::default(), name, version).await
}
