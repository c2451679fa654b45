//! The gateways (ports by version, the 1.6.0–1.6.5 demo status-port quirk) and 1.5/1.6 addons.

use serde_json::{Value, json};

use super::iop::{Istio, Settings};
use super::manifest::{Component, NS, deployment, labels, service_account, token_volume};

pub(super) fn gateway_ports(istio: &Istio, s: &Settings) -> Vec<(String, u16, u16)> {
    let p = |n: &str, port: u16, target: u16| (n.to_string(), port, target);
    let demo = s.profile == "demo";
    match istio.minor {
        5 => {
            let mut v = vec![
                p("status-port", 15020, 15020),
                p("http2", 80, 80),
                p("https", 443, 443),
                p("kiali", 15029, 15029),
                p("prometheus", 15030, 15030),
                p("grafana", 15031, 15031),
                p("tracing", 15032, 15032),
                p("tls", 15443, 15443),
            ];
            if demo {
                v.push(p("tcp", 31400, 31400));
            }
            v
        }
        6..=9 => {
            let status = if istio.minor == 6 && istio.patch <= 5 && demo {
                15020
            } else {
                15021
            };
            let mut v = vec![
                p("status-port", status, status),
                p("http2", 80, 8080),
                p("https", 443, 8443),
            ];
            if demo && istio.minor >= 7 {
                v.push(p("tcp", 31400, 31400));
            }
            v.push(p("tls", 15443, 15443));
            v
        }
        _ => {
            let mut v = vec![
                p("status-port", 15021, 15021),
                p("http2", 80, 8080),
                p("https", 443, 8443),
            ];
            if demo {
                v.push(p("tcp", 31400, 31400));
                v.push(p("tls", 15443, 15443));
            }
            v
        }
    }
}

pub(super) fn gateway(
    istio: &Istio,
    s: &Settings,
    c: Component,
    name: &str,
    istio_label: &str,
    svc_type: &str,
    ports: Vec<(String, u16, u16)>,
) -> Vec<Value> {
    let pod_labels = json!({"app": name, "istio": istio_label});
    let status_port = ports
        .iter()
        .find(|p| p.0 == "status-port")
        .map(|p| p.2)
        .unwrap_or(15021);
    let (vols, mounts) = token_volume(s);
    let container = json!({
        "name": "istio-proxy",
        "image": format!("{}/proxyv2:{}", s.hub, s.tag),
        "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning"],
        "ports": ports.iter().map(|(n, _, t)| json!({"containerPort": t, "protocol": "TCP", "name": n})).collect::<Vec<_>>(),
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": status_port, "scheme": "HTTP"}, "failureThreshold": 30, "initialDelaySeconds": 1, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2000m", "memory": "1024Mi"}},
        "env": [{"name": "JWT_POLICY", "value": s.jwt_policy}, {"name": "ISTIO_META_ROUTER_MODE", "value": "sni-dnat"}],
        "volumeMounts": mounts,
    });
    let dep = deployment(istio, c, name, pod_labels.clone(), container, vols);
    let svc = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS, "labels": labels(istio, c, pod_labels.clone())},
        "spec": {"type": svc_type, "selector": pod_labels, "ports": ports.iter().map(|(n, p, t)| json!({"name": n, "port": p, "targetPort": t, "protocol": "TCP"})).collect::<Vec<_>>()}
    });
    vec![
        service_account(istio, c, &format!("{name}-service-account")),
        dep,
        svc,
    ]
}

pub(super) fn addon(istio: &Istio, name: &str, image: &str, port: u16) -> Vec<Value> {
    let c = Component::AddonComponents;
    let l = json!({"app": name});
    vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS, "labels": labels(istio, c, l.clone())},
               "spec": {"replicas": 1, "selector": {"matchLabels": l}, "template": {"metadata": {"labels": l, "annotations": {"sidecar.istio.io/inject": "false"}},
                        "spec": {"containers": [{"name": name, "image": image, "ports": [{"containerPort": port}]}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS, "labels": labels(istio, c, l.clone())},
               "spec": {"selector": l, "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}}),
    ]
}
