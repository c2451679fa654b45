//! The loopback data plane: LoadBalancer addresses only while a tunnel is registered, the
//! gateway's status port, and routing through a Gateway + VirtualService.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{cluster, cluster_with};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::api::{Api, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery;
use meshup_sim::Knobs;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// A plain HTTP/1.1 GET over loopback; None when the connection is refused.
fn get(ip: &str, port: u16, host: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect((ip, port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let code = out.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, out))
}

async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn create<K>(api: &Api<K>, v: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(&PostParams::default(), &serde_json::from_value(v).unwrap())
        .await
        .unwrap();
}

async fn istio_crd(client: &kube::Client, plural: &str, kind: &str) {
    let (ar, _) = discovery::pinned_kind(
        client,
        &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
    )
    .await
    .unwrap();
    let crds: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.networking.istio.io")},
        "spec": {"group": "networking.istio.io", "scope": "Namespaced",
                 "names": {"kind": kind, "plural": plural},
                 "versions": [{"name": "v1beta1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}}]},
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
}

async fn dynamic(client: &kube::Client, kind: &str, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1beta1", kind);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok((ar, _)) = discovery::pinned_kind(client, &gvk).await {
            return Api::namespaced_with(client.clone(), ns, &ar);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{kind} never served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn gateway_address_status_port_and_routing_on_loopback() {
    let (world, client) = cluster("dp", "v1.30.0").await;
    let nss: Api<Namespace> = Api::all(client.clone());
    create(&nss, json!({"metadata": {"name": "istio-system"}})).await;
    create(
        &nss,
        json!({"metadata": {"name": "smoke", "labels": {"istio-injection": "enabled"}}}),
    )
    .await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    let gw_labels = json!({"app": "istio-ingressgateway", "istio": "ingressgateway"});
    create(&deps, json!({"metadata": {"name": "istiod"}, "spec": {"selector": {"matchLabels": {"app": "istiod"}},
        "template": {"metadata": {"labels": {"app": "istiod"}}, "spec": {"containers": [{"name": "discovery", "image": "docker.io/istio/pilot:1.22.0"}]}}}})).await;
    create(&deps, json!({"metadata": {"name": "istio-ingressgateway"}, "spec": {"selector": {"matchLabels": gw_labels},
        "template": {"metadata": {"labels": gw_labels}, "spec": {"containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0"}]}}}})).await;
    let svcs: Api<Service> = Api::namespaced(client.clone(), "istio-system");
    create(&svcs, json!({"metadata": {"name": "istio-ingressgateway"}, "spec": {"type": "LoadBalancer", "selector": gw_labels,
        "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021}, {"name": "http2", "port": 80, "targetPort": 8080}]}})).await;

    // no tunnel: no address
    tokio::time::sleep(Duration::from_millis(100)).await;
    let svc = svcs.get("istio-ingressgateway").await.unwrap();
    assert!(svc.status.unwrap().load_balancer.unwrap().ingress.is_none());

    let exposed = world
        .control()
        .put_tunnel("dp", std::process::id())
        .unwrap()
        .unwrap();
    assert_eq!(exposed.len(), 1);
    let ip = exposed[0].ip.clone();
    assert!(
        ip.starts_with(&format!("{}.", world.info().loopback_prefix)),
        "{ip}"
    );
    let svc = svcs.get("istio-ingressgateway").await.unwrap();
    assert_eq!(
        svc.status.unwrap().load_balancer.unwrap().ingress.unwrap()[0]
            .ip
            .as_deref(),
        Some(ip.as_str())
    );

    // the control API answers once the data plane listens
    assert!(get(&ip, 15021, "x", "/healthz/ready").is_some());
    let (code, _) = eventually("healthz 200", || {
        get(&ip, 15021, "x", "/healthz/ready").filter(|(c, _)| *c == 200)
    })
    .await;
    assert_eq!(code, 200);
    // port 80: no Gateway yet, so nothing listens
    assert!(get(&ip, 80, "x", "/").is_none());

    istio_crd(&client, "gateways", "Gateway").await;
    istio_crd(&client, "virtualservices", "VirtualService").await;
    let gws = dynamic(&client, "Gateway", "smoke").await;
    gws.create(&PostParams::default(), &serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway", "metadata": {"name": "smoke-gw"},
        "spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]},
    })).unwrap()).await.unwrap();
    let (code, text) = eventually("404 from the gateway", || {
        get(&ip, 80, "smoke.example", "/")
    })
    .await;
    assert_eq!(code, 404);
    assert!(
        text.to_lowercase().contains("server: istio-envoy"),
        "{text}"
    );

    // a routed, injected, ready backend
    let smoke: Api<Deployment> = Api::namespaced(client.clone(), "smoke");
    create(&smoke, json!({"metadata": {"name": "httpbin"}, "spec": {"selector": {"matchLabels": {"app": "httpbin"}},
        "template": {"metadata": {"labels": {"app": "httpbin"}}, "spec": {"containers": [{"name": "httpbin", "image": "kennethreitz/httpbin"}]}}}})).await;
    let smoke_svcs: Api<Service> = Api::namespaced(client.clone(), "smoke");
    create(&smoke_svcs, json!({"metadata": {"name": "httpbin"}, "spec": {"selector": {"app": "httpbin"}, "ports": [{"name": "http", "port": 8000, "targetPort": 80}]}})).await;
    let vss = dynamic(&client, "VirtualService", "smoke").await;
    vss.create(&PostParams::default(), &serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService", "metadata": {"name": "httpbin"},
        "spec": {"hosts": ["*"], "gateways": ["smoke-gw"], "http": [{"match": [{"uri": {"prefix": "/status"}}],
                 "route": [{"destination": {"host": "httpbin", "port": {"number": 8000}}}]}]},
    })).unwrap()).await.unwrap();
    let (_, text) = eventually("200 through the gateway", || {
        get(&ip, 80, "smoke.example", "/status/200").filter(|(c, _)| *c == 200)
    })
    .await;
    assert!(
        text.to_lowercase().contains("server: istio-envoy"),
        "{text}"
    );
    assert_eq!(get(&ip, 80, "smoke.example", "/other").unwrap().0, 404);

    // the tunnel goes: the address is withdrawn and nothing answers
    world.control().delete_tunnel("dp").unwrap();
    let svc = svcs.get("istio-ingressgateway").await.unwrap();
    assert!(svc.status.unwrap().load_balancer.unwrap().ingress.is_none());
    assert!(
        get(&ip, 15021, "x", "/healthz/ready").is_none(),
        "listening after the tunnel went"
    );
}

#[tokio::test]
async fn status_port_is_503_until_the_gateway_pods_are_ready() {
    let mut knobs = Knobs::default();
    knobs.cluster.delays.container_ready_ms = 60_000;
    let (world, client) = cluster_with(knobs, "slow", "v1.15.10").await;
    let nss: Api<Namespace> = Api::all(client.clone());
    create(&nss, json!({"metadata": {"name": "istio-system"}})).await;
    let labels = json!({"istio": "ingressgateway"});
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    create(&deps, json!({"metadata": {"name": "istio-ingressgateway"}, "spec": {"selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.5.0"}]}}}})).await;
    let svcs: Api<Service> = Api::namespaced(client.clone(), "istio-system");
    create(&svcs, json!({"metadata": {"name": "istio-ingressgateway"}, "spec": {"type": "LoadBalancer", "selector": labels,
        "ports": [{"name": "status-port", "port": 15020}]}})).await;
    let exposed = world.control().put_tunnel("slow", 1).unwrap().unwrap();
    let ip = exposed[0].ip.clone();
    let (code, _) = eventually("status port answers", || {
        get(&ip, 15020, "x", "/healthz/ready")
    })
    .await;
    assert_eq!(code, 503);
}
