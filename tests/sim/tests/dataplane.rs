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
    common::install_injector(&client, "1.22.0", 1).await;
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

/// The gateway Service selects only `app`; the Gateway selects `istio`, a label of the Pods
/// (Istio matches Gateway selectors against workload labels, not against Services).
async fn gateway_world(name: &str, version: &str) -> (meshup_sim::World, kube::Client, String) {
    let (world, client) = cluster(name, version).await;
    common::install_injector(&client, "1.22.0", 1).await;
    let nss: Api<Namespace> = Api::all(client.clone());
    create(
        &nss,
        json!({"metadata": {"name": "smoke", "labels": {"istio-injection": "enabled"}}}),
    )
    .await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    let pod_labels = json!({"app": "istio-ingressgateway", "istio": "ingressgateway"});
    create(&deps, json!({"metadata": {"name": "istio-ingressgateway"}, "spec": {"selector": {"matchLabels": pod_labels},
        "template": {"metadata": {"labels": pod_labels, "annotations": {"sidecar.istio.io/inject": "false"}},
                     "spec": {"containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0"}]}}}})).await;
    let svcs: Api<Service> = Api::namespaced(client.clone(), "istio-system");
    create(&svcs, json!({"metadata": {"name": "istio-ingressgateway"}, "spec": {"type": "LoadBalancer", "selector": {"app": "istio-ingressgateway"},
        "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021}, {"name": "http2", "port": 80, "targetPort": 8080},
                  {"name": "https", "port": 443, "targetPort": 8443}]}})).await;
    let exposed = world.control().put_tunnel(name, 1).unwrap().unwrap();
    let ip = exposed[0].ip.clone();
    istio_crd(&client, "gateways", "Gateway").await;
    istio_crd(&client, "virtualservices", "VirtualService").await;
    (world, client, ip)
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[tokio::test]
async fn routing_follows_gateway_hosts_virtualservice_service_and_container_ports() {
    let (_world, client, ip) = gateway_world("route", "v1.30.0").await;
    let gws = dynamic(&client, "Gateway", "smoke").await;
    gws.create(&PostParams::default(), &serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway", "metadata": {"name": "smoke-gw"},
        "spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["smoke.example"]}]},
    })).unwrap()).await.unwrap();
    // a Gateway whose selector matches no Pod: its port never listens
    gws.create(&PostParams::default(), &serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway", "metadata": {"name": "egress-only"},
        "spec": {"selector": {"istio": "egressgateway"}, "servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*"]}]},
    })).unwrap()).await.unwrap();

    let smoke: Api<Deployment> = Api::namespaced(client.clone(), "smoke");
    create(&smoke, json!({"metadata": {"name": "httpbin"}, "spec": {"selector": {"matchLabels": {"app": "httpbin"}},
        "template": {"metadata": {"labels": {"app": "httpbin"}}, "spec": {"containers": [{"name": "httpbin", "image": "docker.io/kennethreitz/httpbin",
            "ports": [{"name": "http", "containerPort": 80}]}]}}}})).await;
    create(&smoke, json!({"metadata": {"name": "silent"}, "spec": {"selector": {"matchLabels": {"app": "silent"}},
        "template": {"metadata": {"labels": {"app": "silent"}}, "spec": {"containers": [{"name": "sleep", "image": "busybox:1.36", "ports": [{"containerPort": 80}]}]}}}})).await;
    let svcs: Api<Service> = Api::namespaced(client.clone(), "smoke");
    create(&svcs, json!({"metadata": {"name": "httpbin"}, "spec": {"selector": {"app": "httpbin"}, "ports": [{"name": "http", "port": 8000, "targetPort": 80}]}})).await;
    create(&svcs, json!({"metadata": {"name": "wrong-target"}, "spec": {"selector": {"app": "httpbin"}, "ports": [{"name": "http", "port": 8001, "targetPort": 9999}]}})).await;
    create(&svcs, json!({"metadata": {"name": "named-missing"}, "spec": {"selector": {"app": "httpbin"}, "ports": [{"name": "grpc", "port": 8002, "targetPort": "grpc"}]}})).await;
    create(&svcs, json!({"metadata": {"name": "silent"}, "spec": {"selector": {"app": "silent"}, "ports": [{"name": "http", "port": 80}]}})).await;
    let vss = dynamic(&client, "VirtualService", "smoke").await;
    let route = |prefix: &str, host: &str, port: u16| json!({"match": [{"uri": {"prefix": prefix}}], "route": [{"destination": {"host": host, "port": {"number": port}}}]});
    vss.create(&PostParams::default(), &serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService", "metadata": {"name": "smoke"},
        "spec": {"hosts": ["smoke.example"], "gateways": ["smoke-gw"], "http": [
            route("/get", "httpbin", 8000),
            route("/wrong-port", "httpbin.smoke.svc.cluster.local", 9000),
            route("/refused", "wrong-target", 8001),
            route("/named", "named-missing", 8002),
            route("/silent", "silent", 80),
        ]},
    })).unwrap()).await.unwrap();

    // the real httpbin's answer, through Envoy
    let (_, ok) = eventually("200 from httpbin", || {
        get(&ip, 80, "smoke.example", "/get").filter(|(c, _)| *c == 200)
    })
    .await;
    assert!(ok.to_lowercase().contains("server: istio-envoy"), "{ok}");
    let answer: serde_json::Value = serde_json::from_str(body(&ok)).unwrap();
    assert_eq!(answer["url"], "http://smoke.example/get", "{ok}");
    assert_eq!(answer["headers"]["Host"], "smoke.example", "{ok}");

    // Envoy's own answers
    let (code, text) = get(&ip, 80, "other.example", "/get").unwrap();
    assert_eq!(code, 404, "a host no Gateway server takes: {text}");
    let (code, text) = get(&ip, 80, "smoke.example", "/nowhere").unwrap();
    assert_eq!((code, body(&text)), (404, ""), "no route: {text}");
    let (code, text) = get(&ip, 80, "smoke.example", "/wrong-port").unwrap();
    assert_eq!((code, body(&text)), (503, "no healthy upstream"), "{text}");
    let (code, text) = get(&ip, 80, "smoke.example", "/named").unwrap();
    assert_eq!((code, body(&text)), (503, "no healthy upstream"), "{text}");
    let connect = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
    let (code, text) = get(&ip, 80, "smoke.example", "/refused").unwrap();
    assert_eq!((code, body(&text)), (503, connect), "{text}");
    let (_, text) = eventually("silent pod ready", || {
        get(&ip, 80, "smoke.example", "/silent").filter(|(_, t)| body(t) != "no healthy upstream")
    })
    .await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert_eq!(body(&text), connect, "a container that serves nothing");

    assert!(
        get(&ip, 443, "smoke.example", "/").is_none(),
        "a Gateway selecting no Pod opened a port"
    );
}
