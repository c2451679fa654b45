//! The emulated API server, driven by kube-rs over HTTPS with client certificates.

mod common;

use std::time::Duration;

use common::{cluster, cluster_with};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::{self, Discovery};
use meshup_sim::{Knobs, World};
use serde_json::json;

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}),
    )
    .unwrap()
}

/// A JSON merge patch of the ConfigMap `name`.
async fn merge_patch(cms: &Api<ConfigMap>, name: &str, patch: serde_json::Value) -> ConfigMap {
    cms.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap()
}

#[tokio::test]
async fn lists_creates_patches_and_selects() {
    let (_world, client) = cluster("api", "v1.30.0").await;

    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, "v1.30.0");

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| n.metadata.name.unwrap())
        .collect();
    for ns in ["default", "kube-system", "kube-public"] {
        assert!(names.contains(&ns.to_string()), "{names:?}");
    }

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = cms
        .create(&PostParams::default(), &cm("a", json!({"app": "x"})))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    cms.create(&PostParams::default(), &cm("b", json!({"app": "y"})))
        .await
        .unwrap();
    let err = cms
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err:?}"
    );

    let selected = cms
        .list(&ListParams::default().labels("app=x"))
        .await
        .unwrap();
    assert_eq!(selected.items.len(), 1);
    let by_field = cms
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(by_field.items[0].metadata.name.as_deref(), Some("b"));

    // merge, strategic and JSON patch
    let p = merge_patch(&cms, "a", json!({"data": {"m": "1"}})).await;
    assert_eq!(p.data.as_ref().unwrap()["m"], "1");
    let p = cms
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"s": "2"}}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.labels.as_ref().unwrap()["s"], "2");
    let jp: json_patch::Patch =
        serde_json::from_value(json!([{"op": "add", "path": "/data/j", "value": "3"}])).unwrap();
    let p = cms
        .patch("a", &PatchParams::default(), &Patch::<()>::Json(jp))
        .await
        .unwrap();
    assert_eq!(p.data.as_ref().unwrap()["j"], "3");

    // optimistic concurrency on replace
    let mut stale = created.clone();
    stale.data = Some([("k".to_string(), "w".to_string())].into());
    let err = cms
        .replace("a", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err:?}"
    );

    cms.delete("b", &DeleteParams::default()).await.unwrap();
    let err = cms.get("b").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );

    // a namespaced create into a missing namespace
    let elsewhere: Api<ConfigMap> = Api::namespaced(client.clone(), "nope");
    let err = elsewhere
        .create(&PostParams::default(), &cm("c", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );

    // unsupported field selectors are refused as the real server does
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    assert!(
        pods.list(&ListParams::default().fields("status.phase=Running"))
            .await
            .is_ok()
    );
    let err = cms
        .list(&ListParams::default().fields("data.k=v"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400),
        "{err:?}"
    );
}

#[tokio::test]
async fn watch_delivers_events_in_order_and_resumes() {
    let (world, client) = cluster("w", "v1.30.0").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let list = cms.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();

    let stream = cms
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap();
    let writer = {
        let cms = cms.clone();
        tokio::spawn(async move {
            cms.create(&PostParams::default(), &cm("w1", json!({})))
                .await
                .unwrap();
            merge_patch(&cms, "w1", json!({"data": {"k": "2"}})).await;
            cms.delete("w1", &DeleteParams::default()).await.unwrap();
        })
    };
    let events: Vec<WatchEvent<ConfigMap>> = stream.take(3).try_collect().await.unwrap();
    writer.await.unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            _ => "OTHER",
        })
        .collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);

    // resuming from the list's resourceVersion replays what happened since
    let replay: Vec<WatchEvent<ConfigMap>> = cms
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .take(3)
        .try_collect()
        .await
        .unwrap();
    assert!(matches!(replay[0], WatchEvent::Added(_)));
    assert!(matches!(replay[2], WatchEvent::Deleted(_)));

    // the watch is counted as a watch, not a list
    assert!(world.request_count("w", "watch", "configmaps") >= 2);
    assert_eq!(world.request_count("w", "list", "configmaps"), 1);
}

/// client-go (kubectl ≥ 1.35's `wait`, informers) first asks for a streaming list
/// (`sendInitialEvents=true`). The emulator answers as a server with the WatchList feature gate
/// off: 422 Invalid, after which client-go falls back to LIST then WATCH (SRC
/// k8s.io/apimachinery/pkg/apis/meta/internalversion/validation `validateWatchOptions`).
#[tokio::test]
async fn a_streaming_list_is_refused_as_with_the_watch_list_gate_off() {
    let (_world, client) = cluster("sl", "v1.30.0").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let err = cms
        .watch(&WatchParams::streaming_lists().timeout(5), "")
        .await
        .err()
        .expect("a streaming list is refused");
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{s:?}");
            assert!(s.message.contains("sendInitialEvents"), "{s:?}");
        }
        other => panic!("expected a 422, got {other:?}"),
    }
}

#[tokio::test]
async fn too_old_resource_version_is_gone() {
    let mut knobs = Knobs::default();
    knobs.cluster.watch_history = Some(5);
    let (_world, client) = cluster_with(knobs, "old", "v1.30.0").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = cms
        .create(&PostParams::default(), &cm("c0", json!({})))
        .await
        .unwrap();
    for i in 1..20 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), json!({})))
            .await
            .unwrap();
    }
    let rv = first.metadata.resource_version.unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    match stream.next().await {
        Some(Ok(WatchEvent::Error(status))) => assert_eq!(status.code, 410),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }

    // kube-runtime's watcher recovers by listing again
    use kube::runtime::{WatchStreamExt, watcher};
    let seen = watcher(cms.clone(), watcher::Config::default())
        .applied_objects()
        .take(20)
        .try_collect::<Vec<_>>();
    let seen = tokio::time::timeout(Duration::from_secs(20), seen)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.len(), 20);
}

#[tokio::test]
async fn discovery_follows_the_kubernetes_version() {
    let world = World::start(Knobs::default());
    world.start_cluster("old", "v1.15.10");
    world.start_cluster("new", "v1.30.0");
    let old = world.kube_client("old").await.unwrap();
    let new = world.kube_client("new").await.unwrap();

    let err = old
        .list_api_group_resources("admissionregistration.k8s.io/v1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
    assert!(
        old.list_api_group_resources("admissionregistration.k8s.io/v1beta1")
            .await
            .is_ok()
    );
    assert!(
        old.list_api_group_resources("apiextensions.k8s.io/v1beta1")
            .await
            .is_ok()
    );
    assert!(
        new.list_api_group_resources("admissionregistration.k8s.io/v1")
            .await
            .is_ok()
    );
    let err = new
        .list_api_group_resources("apiextensions.k8s.io/v1beta1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );

    // serviceaccounts/token: not on minikube's 1.15, listed on 1.30
    let has_token = |list: k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList| {
        list.resources
            .iter()
            .any(|r| r.name == "serviceaccounts/token")
    };
    assert!(!has_token(old.list_core_api_resources("v1").await.unwrap()));
    assert!(has_token(new.list_core_api_resources("v1").await.unwrap()));

    // kube's discovery runs end to end
    let discovery = Discovery::new(old.clone()).run().await.unwrap();
    assert!(discovery.has_group("apps"));
    let webhooks = discovery.get("admissionregistration.k8s.io").unwrap();
    assert_eq!(webhooks.preferred_version_or_latest(), "v1beta1");
}

#[tokio::test]
async fn custom_resources_appear_once_their_crd_is_established() {
    let (_world, client) = cluster("crd", "v1.15.10").await;
    let gvk = GroupVersionKind::gvk(
        "apiextensions.k8s.io",
        "v1beta1",
        "CustomResourceDefinition",
    );
    let (ar, _) = discovery::pinned_kind(&client, &gvk).await.unwrap();
    let crds: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gateways.networking.istio.io"},
        "spec": {"group": "networking.istio.io", "scope": "Namespaced",
                 "names": {"kind": "Gateway", "plural": "gateways", "singular": "gateway", "listKind": "GatewayList"},
                 "versions": [{"name": "v1alpha3", "served": true, "storage": true}]},
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    let crd_api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    // the v1 typed API is not served on 1.15: wait through the dynamic one instead
    assert!(crd_api.get("gateways.networking.istio.io").await.is_err());
    let established = async {
        loop {
            let c = crds.get("gateways.networking.istio.io").await.unwrap();
            if c.data["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Established" && c["status"] == "True")
            }) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), established)
        .await
        .unwrap();

    let gw_gvk = GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "Gateway");
    let (gw_ar, _) = discovery::pinned_kind(&client, &gw_gvk).await.unwrap();
    let gws: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &gw_ar);
    let gw: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "Gateway",
        "metadata": {"name": "gw"},
        "spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]},
    }))
    .unwrap();
    gws.create(&PostParams::default(), &gw).await.unwrap();
    let back = gws.get("gw").await.unwrap();
    assert_eq!(back.data["spec"]["servers"][0]["port"]["number"], 80);
}

#[tokio::test]
async fn a_client_without_the_clusters_certificate_is_refused() {
    let world = World::start(Knobs::default());
    let info = world.start_cluster("tls", "v1.30.0");
    let other = World::start(Knobs::default());
    let foreign = other.start_cluster("tls", "v1.30.0");
    // the right CA and server, but a client certificate from another cluster's CA
    let mut mixed = info.clone();
    mixed.client_cert_pem = foreign.client_cert_pem.clone();
    mixed.client_key_pem = foreign.client_key_pem.clone();
    let kc =
        kube::config::Kubeconfig::from_yaml(&meshup_sim::world::kubeconfig_yaml(&mixed)).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    assert!(client.apiserver_version().await.is_err());
}

#[tokio::test]
async fn a_label_selected_watch_sees_objects_leave_and_enter_the_selection() {
    let (_world, client) = cluster("sel", "v1.30.0").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let stream = cms
        .watch(&WatchParams::default().labels("team=a").timeout(5), &rv)
        .await
        .unwrap();
    cms.create(&PostParams::default(), &cm("s", json!({"team": "b"})))
        .await
        .unwrap();
    merge_patch(&cms, "s", json!({"metadata": {"labels": {"team": "a"}}})).await;
    merge_patch(&cms, "s", json!({"data": {"x": "1"}})).await;
    merge_patch(&cms, "s", json!({"metadata": {"labels": {"team": "c"}}})).await;
    let events: Vec<WatchEvent<ConfigMap>> = stream.take(3).try_collect().await.unwrap();
    assert!(matches!(events[0], WatchEvent::Added(_)), "{events:?}");
    assert!(matches!(events[1], WatchEvent::Modified(_)), "{events:?}");
    assert!(matches!(events[2], WatchEvent::Deleted(_)), "{events:?}");
}

#[tokio::test]
async fn server_side_apply_creates_then_updates_and_wants_a_field_manager() {
    let (_world, client) = cluster("ssa", "v1.30.0").await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "1"}});
    let pp = PatchParams::apply("meshup-test");
    let created = cms
        .patch("applied", &pp, &Patch::Apply(&body))
        .await
        .unwrap();
    assert_eq!(created.data.unwrap()["a"], "1");
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "2"}});
    let updated = cms
        .patch("applied", &pp, &Patch::Apply(&body))
        .await
        .unwrap();
    assert_eq!(updated.data.unwrap()["a"], "2");
    let err = cms
        .patch("applied", &PatchParams::default(), &Patch::Apply(&body))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422),
        "{err:?}"
    );
}
