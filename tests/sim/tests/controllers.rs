//! The emulated cluster's controllers: Deployments → Pods → Ready, sidecar injection (classic
//! and native), failure knobs, namespace deletion. Waits are watches with a generous timeout.

mod common;

use std::time::Duration;

use common::{cluster, cluster_with};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::wait::{Condition, await_condition};
use meshup_sim::Knobs;
use meshup_sim::knobs::{PodFailure, PodFailureKind};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

fn deployment(name: &str, ns: &str, image: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": name, "image": image, "ports": [{"containerPort": 80}]}]}}},
    }))
    .unwrap()
}

fn available() -> impl Condition<Deployment> {
    |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Available" && c.status == "True")
            })
    }
}

async fn create_deployment(
    api: &Api<Deployment>,
    name: &str,
    ns: &str,
    image: &str,
    replicas: i32,
) {
    api.create(
        &PostParams::default(),
        &deployment(name, ns, image, replicas),
    )
    .await
    .unwrap();
}

/// Creates the Deployment and waits until it is Available.
async fn deploy(
    api: &Api<Deployment>,
    name: &str,
    ns: &str,
    image: &str,
    replicas: i32,
) -> Deployment {
    create_deployment(api, name, ns, image, replicas).await;
    wait_available(api, name).await
}

async fn wait_available(api: &Api<Deployment>, name: &str) -> Deployment {
    tokio::time::timeout(WAIT, await_condition(api.clone(), name, available()))
        .await
        .unwrap_or_else(|_| panic!("deployment {name} not Available"))
        .unwrap()
        .unwrap()
}

async fn pods_of(client: &kube::Client, ns: &str, app: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pods.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
}

async fn namespace(client: &kube::Client, name: &str, labels: serde_json::Value) {
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap();
    nss.create(&PostParams::default(), &ns).await.unwrap();
}

/// Installs what the fake istioctl would for injection: istiod, its Service and the webhook.
async fn install_istiod(client: &kube::Client, version: &str) {
    common::install_injector(client, version, 1).await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    wait_available(&api, "istiod").await;
}

#[tokio::test]
async fn a_deployments_pods_become_ready_and_go_with_it() {
    let (_world, client) = cluster("c", "v1.30.0").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d = deploy(&api, "web", "default", "nginx:1.25", 2).await;
    let status = d.status.unwrap();
    assert_eq!(status.replicas, Some(2));
    assert_eq!(status.ready_replicas, Some(2));
    assert_eq!(status.available_replicas, Some(2));
    assert_eq!(status.updated_replicas, Some(2));
    assert_eq!(status.observed_generation, d.metadata.generation);

    let pods = pods_of(&client, "default", "web").await;
    assert_eq!(pods.len(), 2);
    for p in &pods {
        let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(owner.kind, "ReplicaSet");
        let s = p.status.as_ref().unwrap();
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert!(
            s.container_statuses
                .as_ref()
                .unwrap()
                .iter()
                .all(|c| c.ready)
        );
        assert!(p.spec.as_ref().unwrap().node_name.is_some());
    }
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    for r in [
        "Scheduled",
        "Started",
        "ScalingReplicaSet",
        "SuccessfulCreate",
    ] {
        assert!(
            reasons.iter().any(|x| x == r),
            "no {r} event in {reasons:?}"
        );
    }

    api.delete("web", &DeleteParams::default()).await.unwrap();
    let gone = async {
        while !pods_of(&client, "default", "web").await.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, gone)
        .await
        .expect("pods deleted with their deployment");
}

#[tokio::test]
async fn pods_in_an_injected_namespace_get_a_sidecar_once_istiod_is_available() {
    let (_world, client) = cluster("mesh", "v1.15.10").await;
    namespace(&client, "smoke", json!({"istio-injection": "enabled"})).await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "smoke");

    // before istiod: no sidecar
    deploy(&api, "early", "smoke", "nginx:1.25", 1).await;
    let early = &pods_of(&client, "smoke", "early").await[0];
    assert_eq!(early.spec.as_ref().unwrap().containers.len(), 1);

    install_istiod(&client, "1.5.0").await;
    deploy(&api, "app", "smoke", "nginx:1.25", 1).await;
    let pod = &pods_of(&client, "smoke", "app").await[0];
    let spec = pod.spec.as_ref().unwrap();
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["app", "istio-proxy"]);
    assert_eq!(spec.init_containers.as_ref().unwrap()[0].name, "istio-init");
    assert_eq!(
        spec.containers[1].image.as_deref(),
        Some("docker.io/istio/proxyv2:1.5.0")
    );
    let statuses = pod
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap();
    assert!(statuses.iter().any(|c| c.name == "istio-proxy" && c.ready));
}

#[tokio::test]
async fn istio_1_27_on_kubernetes_1_33_injects_a_native_sidecar() {
    let (_world, client) = cluster("native", "v1.33.1").await;
    install_istiod(&client, "1.27.0").await;
    namespace(&client, "smoke", json!({"istio-injection": "enabled"})).await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "smoke");
    deploy(&api, "app", "smoke", "nginx:1.25", 1).await;
    let pod = &pods_of(&client, "smoke", "app").await[0];
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.containers.len(), 1);
    let proxy = spec
        .init_containers
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.name == "istio-proxy")
        .expect("native sidecar");
    assert_eq!(proxy.restart_policy.as_deref(), Some("Always"));
    let init_statuses = pod
        .status
        .as_ref()
        .unwrap()
        .init_container_statuses
        .as_ref()
        .unwrap();
    assert!(
        init_statuses
            .iter()
            .any(|c| c.name == "istio-proxy" && c.ready && c.started == Some(true))
    );
}

#[tokio::test]
async fn failure_knobs_keep_pods_from_becoming_ready() {
    let mut knobs = Knobs::default();
    for (pod, failure) in [
        ("pull-*", PodFailureKind::ImagePullBackOff),
        ("crash-*", PodFailureKind::CrashLoopBackOff),
        ("lazy-*", PodFailureKind::NeverReady),
    ] {
        knobs.cluster.pod_failures.push(PodFailure {
            pod: pod.into(),
            namespace: None,
            failure,
        });
    }
    let (_world, client) = cluster_with(knobs, "f", "v1.30.0").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    for name in ["pull", "crash", "lazy"] {
        create_deployment(&api, name, "default", "example/app:1", 1).await;
    }
    let reason = |p: &Pod| -> Option<String> {
        p.status.as_ref()?.container_statuses.as_ref()?[0]
            .state
            .as_ref()?
            .waiting
            .as_ref()?
            .reason
            .clone()
    };
    let settled = async {
        loop {
            let pull = pods_of(&client, "default", "pull").await;
            let crash = pods_of(&client, "default", "crash").await;
            let lazy = pods_of(&client, "default", "lazy").await;
            let ok = pull.first().and_then(reason).as_deref() == Some("ImagePullBackOff")
                && crash.first().and_then(reason).as_deref() == Some("CrashLoopBackOff")
                && lazy.first().is_some_and(|p| {
                    p.status.as_ref().unwrap().phase.as_deref() == Some("Running")
                });
            if ok {
                return (pull, crash, lazy);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (pull, crash, lazy) = tokio::time::timeout(WAIT, settled)
        .await
        .expect("failures show");
    assert_eq!(
        pull[0].status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    assert!(
        crash[0]
            .status
            .as_ref()
            .unwrap()
            .container_statuses
            .as_ref()
            .unwrap()[0]
            .restart_count
            >= 1
    );
    for p in [&pull[0], &crash[0], &lazy[0]] {
        let ready = p
            .status
            .as_ref()
            .unwrap()
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "False");
    }
    let d = api.get("lazy").await.unwrap();
    let avail = d
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Available")
        .unwrap();
    assert_eq!(avail.status, "False");
}

#[tokio::test]
async fn a_deleted_namespace_takes_its_objects_with_it() {
    let (_world, client) = cluster("ns", "v1.30.0").await;
    namespace(&client, "tmp", json!({})).await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "tmp");
    create_deployment(&api, "x", "tmp", "nginx:1", 1).await;
    let nss: Api<Namespace> = Api::all(client.clone());
    let uid = nss.get("tmp").await.unwrap().metadata.uid.unwrap();
    nss.delete("tmp", &DeleteParams::default()).await.unwrap();
    let gone = await_condition(
        nss.clone(),
        "tmp",
        kube::runtime::conditions::is_deleted(&uid),
    );
    tokio::time::timeout(WAIT, gone)
        .await
        .expect("namespace gone")
        .unwrap();
    assert!(pods_of(&client, "tmp", "x").await.is_empty());
    assert!(api.get_opt("x").await.unwrap().is_none());
}

#[tokio::test]
async fn a_malformed_builtin_object_is_refused_and_the_cluster_goes_on() {
    let (_world, client) = cluster("bad", "v1.30.0").await;
    let odd = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "odd"},
                     "spec": {"selector": {"matchLabels": {}}, "template": {"metadata": {"labels": ["x"]}, "spec": "nope"}}});
    let req = hyper::Request::post("/apis/apps/v1/namespaces/default/deployments")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&odd).unwrap())
        .unwrap();
    let err = client.request_text(req).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400),
        "{err:?}"
    );
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deploy(&api, "fine", "default", "nginx:1", 1).await;
}

#[tokio::test]
async fn a_slow_pull_holds_back_only_the_pods_it_names() {
    let mut knobs = Knobs::default();
    knobs.cluster.slow_pulls.push(meshup_sim::knobs::SlowPull {
        pod: "slow-*".into(),
        namespace: None,
        pull_ms: 600_000,
    });
    let (_world, client) = cluster_with(knobs, "s", "v1.30.0").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    create_deployment(&api, "slow", "default", "example/big:1", 1).await;
    deploy(&api, "fast", "default", "example/small:1", 1).await;
    let slow = pods_of(&client, "default", "slow").await;
    let status = slow[0].status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"), "{status:?}");
    assert!(
        status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "PodScheduled" && c.status == "True"),
        "scheduled, still pulling: {status:?}"
    );
}
