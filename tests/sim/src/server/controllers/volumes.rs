//! The kubelet's volume setup, where it can fail: a projected `serviceAccountToken` volume needs
//! the TokenRequest API (`serviceaccounts/token`). On a cluster without it (minikube's
//! Kubernetes 1.15 as it starts it) the kubelet cannot fetch the token, so the Pod stays
//! `ContainerCreating` and the kubelet repeats a `FailedMount` event — what `third-party-jwt`
//! manifests do there for real (research/istio.md §3.3, §8.3: `MountVolume.SetUp failed for
//! volume "istio-token" : failed to fetch token: the server could not find the requested
//! resource`, kubeflow#959).

use serde_json::Value;

use crate::server::cluster::Cluster;

/// The first projected volume with a `serviceAccountToken` source.
fn projected_token_volume(pod: &Value) -> Option<&str> {
    pod["spec"]["volumes"].as_array()?.iter().find_map(|v| {
        let sources = v["projected"]["sources"].as_array()?;
        sources
            .iter()
            .any(|s| s["serviceAccountToken"].is_object())
            .then(|| v["name"].as_str())?
    })
}

/// The `FailedMount` message when this Pod cannot start on this cluster, `None` when it can.
pub fn mount_failure(cluster: &Cluster, pod: &Value) -> Option<String> {
    if cluster.serves_token_request() {
        return None;
    }
    let volume = projected_token_volume(pod)?;
    Some(format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : failed to fetch token: the server could not find the requested resource"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_projected_token_volume() {
        let pod = json!({"spec": {"volumes": [
            {"name": "config", "configMap": {"name": "istio"}},
            {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "istio-ca", "path": "istio-token"}}]}},
        ]}});
        assert_eq!(projected_token_volume(&pod), Some("istio-token"));
        let plain = json!({"spec": {"volumes": [{"name": "x", "projected": {"sources": [{"configMap": {"name": "a"}}]}}]}});
        assert_eq!(projected_token_volume(&plain), None);
    }
}
