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

/// What `istioctl install` puts in place for injection (research/istio.md §6.2–6.5): an
/// `istiod` Deployment of this Istio version (Pod labels `app=istiod, istio=pilot`), its Service
/// (443 → 15017) and the `istio-sidecar-injector` MutatingWebhookConfiguration
/// (`failurePolicy: Fail`, `istio-injection=enabled`), in the admissionregistration version
/// discovery prefers. `replicas: 0` leaves the webhook without endpoints (istiod down).
pub async fn install_injector(client: &kube::Client, version: &str, replicas: i32) {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Namespace, Service};
    use kube::api::{Api, DynamicObject, PostParams};
    use serde_json::json;
    let pp = PostParams::default();
    let nss: Api<Namespace> = Api::all(client.clone());
    if nss.get_opt("istio-system").await.unwrap().is_none() {
        nss.create(
            &pp,
            &serde_json::from_value(json!({"metadata": {"name": "istio-system"}})).unwrap(),
        )
        .await
        .unwrap();
    }
    let labels = json!({"app": "istiod", "istio": "pilot"});
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    deps.create(&pp, &serde_json::from_value(json!({"metadata": {"name": "istiod"}, "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "discovery", "image": format!("docker.io/istio/pilot:{version}")}]}}}})).unwrap())
        .await
        .unwrap();
    let svcs: Api<Service> = Api::namespaced(client.clone(), "istio-system");
    svcs.create(&pp, &serde_json::from_value(json!({"metadata": {"name": "istiod"}, "spec": {"selector": labels,
        "ports": [{"name": "https-webhook", "port": 443, "targetPort": 15017}, {"name": "https-dns", "port": 15012}]}})).unwrap())
        .await
        .unwrap();
    let group = kube::discovery::group(client, "admissionregistration.k8s.io")
        .await
        .unwrap();
    let (ar, _) = group
        .recommended_kind("MutatingWebhookConfiguration")
        .unwrap();
    let mwcs: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let mut webhook = json!({"name": "sidecar-injector.istio.io",
        "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system", "path": "/inject"}, "caBundle": ""},
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "failurePolicy": "Fail", "namespaceSelector": {"matchLabels": {"istio-injection": "enabled"}}});
    if ar.version == "v1" {
        webhook["sideEffects"] = json!("None");
        webhook["admissionReviewVersions"] = json!(["v1beta1", "v1"]);
    }
    let mwc: DynamicObject = serde_json::from_value(json!({"apiVersion": ar.api_version, "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "istio-sidecar-injector", "labels": {"app": "sidecar-injector", "istio.io/rev": "default"}},
        "webhooks": [webhook]}))
    .unwrap();
    mwcs.create(&pp, &mwc).await.unwrap();
    if replicas > 0 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while deps
            .get("istiod")
            .await
            .unwrap()
            .status
            .and_then(|s| s.available_replicas)
            != Some(replicas)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "istiod never available"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
