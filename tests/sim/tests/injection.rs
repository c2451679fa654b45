//! Sidecar injection only through the MutatingWebhookConfiguration in the store, and
//! istio-proxy readiness that needs istiod (research/istio.md §6.4–6.7).

mod common;

use std::time::Duration;

use common::{cluster, install_injector};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

async fn namespace(client: &kube::Client, name: &str, labels: serde_json::Value) {
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap(),
    )
    .await
    .unwrap();
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "docker.io/kennethreitz/httpbin"}]}}))
    .unwrap()
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn until<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn containers(p: &Pod) -> Vec<String> {
    let spec = p.spec.as_ref().unwrap();
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .map(|c| c.name.clone())
        .collect()
}

#[tokio::test]
async fn without_the_webhook_configuration_istiod_alone_injects_nothing() {
    let (_world, client) = cluster("nowebhook", "v1.30.0").await;
    install_injector(&client, "1.22.0", 1).await;
    // the webhook goes (as `kubectl delete mutatingwebhookconfiguration istio-sidecar-injector`)
    let group = kube::discovery::group(&client, "admissionregistration.k8s.io")
        .await
        .unwrap();
    let (ar, _) = group
        .recommended_kind("MutatingWebhookConfiguration")
        .unwrap();
    let mwcs: Api<kube::api::DynamicObject> = Api::all_with(client.clone(), &ar);
    mwcs.delete("istio-sidecar-injector", &Default::default())
        .await
        .unwrap();
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    until("istiod available", async || {
        let d = deps.get("istiod").await.ok()?;
        (d.status?.available_replicas? == 1).then_some(())
    })
    .await;
    namespace(&client, "smoke", json!({"istio-injection": "enabled"})).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "smoke");
    let p = pods
        .create(&PostParams::default(), &pod("app"))
        .await
        .unwrap();
    assert_eq!(containers(&p), ["app"]);
    let p = until("ready", async || pods.get("app").await.ok().filter(ready)).await;
    assert_eq!(containers(&p), ["app"], "a Ready Pod without istio-proxy");
}

#[tokio::test]
async fn the_webhook_selects_namespaces_by_label_and_its_service_must_have_endpoints() {
    let (_world, client) = cluster("webhook", "v1.15.10").await;
    // istiod down: webhook present, its Service without endpoints, failurePolicy Fail
    install_injector(&client, "1.5.0", 0).await;
    namespace(&client, "smoke", json!({"istio-injection": "enabled"})).await;
    namespace(&client, "plain", json!({})).await;
    let plain: Api<Pod> = Api::namespaced(client.clone(), "plain");
    let p = plain
        .create(&PostParams::default(), &pod("app"))
        .await
        .unwrap();
    assert_eq!(
        containers(&p),
        ["app"],
        "an unlabelled namespace is not selected"
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), "smoke");
    let err = pods
        .create(&PostParams::default(), &pod("app"))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("{err}")
    };
    assert_eq!(status.code, 500);
    assert_eq!(
        status.message,
        "Internal error occurred: failed calling webhook \"sidecar-injector.istio.io\": Post https://istiod.istio-system.svc:443/inject?timeout=10s: no endpoints available for service \"istiod\""
    );

    // a Deployment's ReplicaSet says why it has no Pod, and gets one once istiod is up
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "smoke");
    deps.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}})).unwrap())
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(client.clone(), "smoke");
    until("FailedCreate", async || {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|e| {
            e.reason.as_deref() == Some("FailedCreate")
                && e.message.as_deref().is_some_and(|m| {
                    m.starts_with("Error creating: Internal error occurred: failed calling webhook")
                })
        })
    })
    .await;
    let istiod: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    istiod
        .patch(
            "istiod",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    let web = until("an injected, ready web pod", async || {
        let list = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .ok()?;
        list.items.into_iter().find(ready)
    })
    .await;
    assert_eq!(containers(&web), ["web", "istio-proxy", "istio-init"]);
}

#[tokio::test]
async fn istio_proxy_is_not_ready_until_istiod_is() {
    let (_world, client) = cluster("proxyready", "v1.30.0").await;
    namespace(&client, "istio-system", json!({})).await;
    let gw = json!({"app": "istio-ingressgateway", "istio": "ingressgateway"});
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    deps.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "istio-ingressgateway"}, "spec": {"selector": {"matchLabels": gw},
        "template": {"metadata": {"labels": gw}, "spec": {"containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0"}]}}}})).unwrap())
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "istio-system");
    let running = until("gateway pod running", async || {
        let list = pods
            .list(&ListParams::default().labels("istio=ingressgateway"))
            .await
            .ok()?;
        list.items
            .into_iter()
            .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await; // well past sidecarReadyMs
    let p = pods
        .get(&running.metadata.name.clone().unwrap())
        .await
        .unwrap();
    assert!(!ready(&p), "istio-proxy ready without istiod");
    let log = pods
        .logs(&running.metadata.name.clone().unwrap(), &Default::default())
        .await
        .unwrap();
    assert!(log.contains("Envoy proxy is NOT ready"), "{log}");

    install_injector(&client, "1.22.0", 1).await;
    until("gateway ready once istiod is", async || {
        pods.get(&running.metadata.name.clone().unwrap())
            .await
            .ok()
            .filter(ready)
    })
    .await;
}

/// kubectl's READY column counts native sidecars (init containers with `restartPolicy: Always`).
#[tokio::test]
async fn the_pod_table_counts_a_native_sidecar_in_ready() {
    let (_world, client) = cluster("native", "v1.33.1").await;
    install_injector(&client, "1.27.0", 1).await;
    namespace(&client, "smoke", json!({"istio-injection": "enabled"})).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "smoke");
    pods.create(&PostParams::default(), &pod("app"))
        .await
        .unwrap();
    let p = until("ready", async || pods.get("app").await.ok().filter(ready)).await;
    assert_eq!(
        p.spec.as_ref().unwrap().containers.len(),
        1,
        "istio-proxy is an init container"
    );
    let req = hyper::http::Request::get("/api/v1/namespaces/smoke/pods")
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Vec::new())
        .unwrap();
    let table: serde_json::Value = client.request(req).await.unwrap();
    assert_eq!(table["rows"][0]["cells"][1], "2/2", "{table}");
}

/// The `SidecarNeverReady` knob: the app is ready, istio-proxy never is, and the kubelet says so.
#[tokio::test]
async fn a_sidecar_that_never_gets_ready_keeps_the_pod_unready() {
    let mut knobs = meshup_sim::Knobs::default();
    knobs
        .cluster
        .pod_failures
        .push(meshup_sim::knobs::PodFailure {
            pod: "app".into(),
            namespace: Some("smoke".into()),
            failure: meshup_sim::knobs::PodFailureKind::SidecarNeverReady,
        });
    let (_world, client) = common::cluster_with(knobs, "stuck", "v1.30.0").await;
    install_injector(&client, "1.22.0", 1).await;
    let istiod: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    until("istiod available", async || {
        (istiod
            .get("istiod")
            .await
            .ok()?
            .status?
            .available_replicas?
            == 1)
            .then_some(())
    })
    .await;
    namespace(&client, "smoke", json!({"istio-injection": "enabled"})).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "smoke");
    pods.create(&PostParams::default(), &pod("app"))
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(client.clone(), "smoke");
    until("probe failure event", async || {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("Unhealthy"))
    })
    .await;
    let p = pods.get("app").await.unwrap();
    assert!(!ready(&p));
    let statuses = p.status.unwrap().container_statuses.unwrap();
    let ready_of = |n: &str| statuses.iter().find(|s| s.name == n).unwrap().ready;
    assert!(ready_of("app"));
    assert!(!ready_of("istio-proxy"));
}
