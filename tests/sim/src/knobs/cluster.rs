//! Knobs of the emulated cluster: API server and controllers. Durations in milliseconds.
//! Documented in `KNOBS.md` ("Cluster").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterKnobs {
    /// Whether `serviceaccounts/token` is listed under `/api/v1`. Unset: listed from
    /// Kubernetes 1.20 on (minikube's 1.15 did not enable it).
    pub service_account_token: Option<bool>,
    pub delays: Delays,
    /// Pods that fail, by name pattern (first match wins).
    pub pod_failures: Vec<PodFailure>,
    /// Pods whose images take longer to pull than `delays.imagePullMs` (a big image on a slow
    /// link), by name pattern (first match wins).
    pub slow_pulls: Vec<SlowPull>,
    pub api: ApiFaults,
    /// How many watch events the API server keeps for resuming watches; older
    /// resourceVersions get `410 Gone`.
    pub watch_history: Option<usize>,
}

/// How long each step of the controllers takes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Delays {
    /// Pod created → scheduled to the node.
    pub pod_schedule_ms: u64,
    /// Scheduled → image pulled (per pod).
    pub image_pull_ms: u64,
    /// Pulled → containers running.
    pub container_start_ms: u64,
    /// Running → application containers ready.
    pub container_ready_ms: u64,
    /// Running → `istio-proxy` ready (a sidecar-injected pod is Ready only then).
    pub sidecar_ready_ms: u64,
    /// CRD created → `Established`.
    pub crd_establish_ms: u64,
    /// Namespace deleted → gone (its objects deleted first).
    pub namespace_delete_ms: u64,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            pod_schedule_ms: 20,
            image_pull_ms: 50,
            container_start_ms: 50,
            container_ready_ms: 50,
            sidecar_ready_ms: 100,
            crd_establish_ms: 20,
            namespace_delete_ms: 50,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PodFailure {
    /// Glob over the pod name (`*` any run of characters), e.g. `httpbin-*`.
    pub pod: String,
    /// Only in this namespace (any when unset).
    pub namespace: Option<String>,
    pub failure: PodFailureKind,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SlowPull {
    /// Glob over the pod name, e.g. `istio-ingressgateway-*`.
    pub pod: String,
    /// Only in this namespace (any when unset).
    pub namespace: Option<String>,
    pub pull_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum PodFailureKind {
    /// The image never pulls: `ErrImagePull`, then `ImagePullBackOff`; the pod stays Pending.
    #[default]
    ImagePullBackOff,
    /// The first app container exits 1 again and again: `CrashLoopBackOff`, restarts counted.
    CrashLoopBackOff,
    /// Running, but the readiness probe never passes.
    NeverReady,
    /// The app gets ready but `istio-proxy`'s readiness probe never passes (as when it cannot
    /// reach istiod or its configuration is rejected).
    SidecarNeverReady,
}

/// Faults of the API server (not of the control API).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiFaults {
    /// Fraction (0..1) of requests answered `503 Service Unavailable`.
    pub error_rate: f64,
    /// Fraction (0..1) of requests whose connection is reset without an answer.
    pub reset_rate: f64,
    /// Periods, counted from each start of the cluster, during which the API server's port
    /// refuses connections.
    pub outages: Vec<Outage>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Outage {
    pub after_ms: u64,
    pub for_ms: u64,
}

impl ClusterKnobs {
    /// How long this pod's images take to pull.
    pub fn image_pull_ms(&self, namespace: &str, pod: &str) -> u64 {
        self.slow_pulls
            .iter()
            .find(|s| s.namespace.as_deref().is_none_or(|n| n == namespace) && glob(&s.pod, pod))
            .map_or(self.delays.image_pull_ms, |s| s.pull_ms)
    }

    /// The failure configured for a pod, if any.
    pub fn pod_failure(&self, namespace: &str, pod: &str) -> Option<PodFailureKind> {
        self.pod_failures
            .iter()
            .find(|f| f.namespace.as_deref().is_none_or(|n| n == namespace) && glob(&f.pod, pod))
            .map(|f| f.failure)
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("httpbin-*", "httpbin-abc-12"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxc"));
        assert!(!glob("ab", "abc"));
        assert!(!glob("a*a", "a"));
    }
}
