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

/// `PUT /clusters/{profile}/tunnel`: while registered, every LoadBalancer Service of the
/// cluster gets an ingress address and the data plane listens there.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TunnelRequest {
    /// The fake tunnel's pid (for the single-instance rules and the record).
    pub pid: u32,
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
