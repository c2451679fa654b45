//! The stages of `meshup start`, one file each (kind's actions): each does one thing to the
//! world and reports what it did. The engine (`src/engine/`) runs them as the plan's graph says.

pub mod cluster;
pub mod cluster_progress;
pub mod diagnostics;
pub mod mesh;
pub mod preflight;
pub mod smoke;
pub mod tools;
pub mod tunnel;
pub mod verify;

use std::sync::Arc;

use crate::engine::Stage;

/// Every stage this build has; the plan's graph says which run and in what order. A stage the
/// plan names but this list lacks is reported as skipped.
pub fn all() -> Vec<Arc<dyn Stage>> {
    vec![
        Arc::new(preflight::Preflight),
        Arc::new(tools::Tools),
        Arc::new(cluster::Cluster),
        Arc::new(tunnel::Tunnel),
        Arc::new(mesh::Mesh),
        Arc::new(smoke::Smoke),
        Arc::new(verify::Verify),
    ]
}
