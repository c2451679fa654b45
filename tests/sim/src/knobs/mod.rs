//! Every behaviour of the world a test can set. Read from `<world dir>/knobs.yaml` at each use,
//! so a test may change them between two invocations. Documented in `KNOBS.md`.

mod cluster;
mod tools;

pub use cluster::*;
pub use tools::*;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Knobs {
    /// The emulated API server and its controllers (owned by `server`).
    pub cluster: ClusterKnobs,
    pub minikube: MinikubeKnobs,
    pub istioctl: IstioctlKnobs,
    pub kubectl: KubectlKnobs,
    pub docker: DockerKnobs,
    pub host: HostKnobs,
}
