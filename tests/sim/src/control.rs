//! The world daemon's control API: the types on the wire, and the small blocking client the
//! fakes use (they are short-lived CLIs; a full async HTTP stack would slow every call).
//! Contract: `CONTRACT.md` ("Control API").

use serde::{Deserialize, Serialize};

/// Written by `meshup-sim serve` to `<world dir>/world.json` once it listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorldInfo {
    /// `http://127.0.0.1:PORT`
    pub control: String,
    pub pid: u32,
    /// The first three octets of this world's loopback range, e.g. `127.31.7`.
    pub loopback_prefix: String,
}

/// `PUT /clusters/{profile}`: create the cluster, or start it again with its stored objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// `v1.15.10`
    pub kubernetes_version: String,
    pub cpus: u32,
    pub memory_mb: u64,
    pub driver: String,
    /// The service CIDR (`--service-cluster-ip-range`), default `10.96.0.0/12`.
    pub service_cidr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub enum ClusterState {
    Running,
    Stopped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    pub profile: String,
    pub spec: ClusterSpec,
    pub state: ClusterState,
    /// `https://127.0.0.1:PORT` while running.
    pub server: Option<String>,
    pub ca_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
    /// The node's IP as `minikube ip` prints it (a loopback address of this world).
    pub node_ip: String,
}

/// `PUT /clusters/{profile}/tunnel`: the tunnel patches an ingress address into every
/// LoadBalancer Service that exists *now* (a tunnel repeats it every poll, as the real one
/// patches every 5 s / 1 s); how the addresses are reached depends on `via`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TunnelRequest {
    /// The fake tunnel's pid (for the single-instance rules and the record).
    pub pid: u32,
    #[serde(default)]
    pub via: Via,
}

/// What makes a patched address answer (research/minikube.md §5).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Via {
    /// The daemon listens on the addresses itself while this pid lives (tests that drive the
    /// control API directly).
    #[default]
    Direct,
    /// Route mode: the addresses answer while the cluster's route is in the world's
    /// `host/routes` (a kernel route outlives a SIGKILLed tunnel).
    Route,
    /// SSH mode: only the `ssh -L` forwards listen (they proxy to `GET .../backends`).
    Forwards,
}

/// `GET /clusters/{profile}/backends`: where a Service port is served inside the cluster (what
/// an `ssh -L ip:port:clusterIP:port` forward connects to, the node's side of the tunnel).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    pub namespace: String,
    pub name: String,
    pub cluster_ip: String,
    pub port: u16,
    /// `127.0.0.1:PORT`
    pub addr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExposedService {
    pub namespace: String,
    pub name: String,
    pub ip: String,
    pub ports: Vec<u16>,
}

/// `GET /clusters/{profile}/requests`: what the API server was asked, for tests that prove
/// meshup watched instead of polling.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestCount {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `discovery`
    pub verb: String,
    /// `pods`, `services/status`, `/version`, `/apis`, ...
    pub resource: String,
    pub namespace: Option<String>,
    pub count: u64,
}
