//! Istio's sidecar injection, as its mutating webhook does it at Pod creation: only in a
//! namespace labelled `istio-injection=enabled` (or `istio.io/rev=R`), only while the injector
//! (istiod, or 1.5's istio-sidecar-injector / istio-pilot) is Available. The Istio version is read
//! from the injector's image tag, never from a side channel.

use serde_json::{Value, json};

use super::cluster::Cluster;
use super::store::{key, name_of, ns_of};

/// The version of an Available injector for this revision, if any.
pub fn injector_version(cluster: &Cluster, revision: &str) -> Option<String> {
    let names: Vec<String> = if revision == "default" {
        vec!["istiod".into(), "istio-sidecar-injector".into()]
    } else {
        vec![format!("istiod-{revision}")]
    };
    let deployments = key("apps", "deployments");
    for name in names {
        let Some(d) = cluster.store.get(&deployments, "istio-system", &name) else {
            continue;
        };
        let available = d["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Available" && c["status"] == "True")
        });
        if available {
            let version = image_tag(&d).or_else(|| {
                cluster
                    .store
                    .get(&deployments, "istio-system", "istio-pilot")
                    .and_then(|p| image_tag(&p))
            });
            return Some(version.unwrap_or_else(|| "1.5.0".into()));
        }
    }
    None
}

/// `docker.io/istio/pilot:1.5.0` → `1.5.0`; `...:1.22.0-distroless` → `1.22.0`.
fn image_tag(deployment: &Value) -> Option<String> {
    let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str()?;
    let last = image.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    Some(tag.split('-').next().unwrap_or(tag).to_string())
}

fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

/// The revision a namespace asks for, if it asks for injection.
fn requested_revision(ns: &Value) -> Option<String> {
    let labels = &ns["metadata"]["labels"];
    match labels["istio-injection"].as_str() {
        Some("enabled") => Some("default".into()),
        Some(_) => None,
        None => labels["istio.io/rev"].as_str().map(String::from),
    }
}

pub fn inject(cluster: &Cluster, pod: &mut Value) {
    let Some(ns) = cluster.namespace(ns_of(pod)) else {
        return;
    };
    let Some(revision) = requested_revision(&ns) else {
        return;
    };
    let opted_out = |v: &Value| v["sidecar.istio.io/inject"].as_str() == Some("false");
    if opted_out(&pod["metadata"]["annotations"]) || opted_out(&pod["metadata"]["labels"]) {
        return;
    }
    if pod["spec"]["hostNetwork"] == true {
        return;
    }
    let Some(version) = injector_version(cluster, &revision) else {
        return;
    };
    let native = version_at_least(&version, 1, 27) && cluster.minor() >= 33;
    let status_port = if version_at_least(&version, 1, 6) {
        15021
    } else {
        15020
    };
    let image = format!("docker.io/istio/proxyv2:{version}");
    let init = json!({
        "name": "istio-init", "image": image,
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", format!("15090,15021,{status_port}")],
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}, "runAsUser": 0, "runAsNonRoot": false},
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "10m", "memory": "40Mi"}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    });
    let mut proxy = json!({
        "name": "istio-proxy", "image": image,
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning", "--log_output_level=default:info"],
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": status_port, "scheme": "HTTP"}, "initialDelaySeconds": 1, "periodSeconds": 2, "failureThreshold": 30},
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": true, "readOnlyRootFilesystem": true},
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "10m", "memory": "40Mi"}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    });
    let spec = &mut pod["spec"];
    let mut inits: Vec<Value> = spec["initContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    inits.insert(0, init);
    if native {
        proxy["restartPolicy"] = "Always".into();
        inits.insert(1, proxy);
    } else {
        let mut containers = spec["containers"].as_array().cloned().unwrap_or_default();
        containers.push(proxy);
        spec["containers"] = containers.into();
    }
    spec["initContainers"] = inits.into();
    let app = pod["metadata"]["labels"]["app"]
        .as_str()
        .unwrap_or(name_of(pod))
        .to_string();
    let rev = pod["metadata"]["labels"]["version"]
        .as_str()
        .unwrap_or("latest")
        .to_string();
    let default_container = pod["spec"]["containers"][0]["name"].clone();
    let meta = &mut pod["metadata"];
    meta["labels"]["security.istio.io/tlsMode"] = "istio".into();
    meta["labels"]["service.istio.io/canonical-name"] = app.into();
    meta["labels"]["service.istio.io/canonical-revision"] = rev.into();
    let status = json!({
        "initContainers": if native { json!(["istio-init", "istio-proxy"]) } else { json!(["istio-init"]) },
        "containers": if native { json!([]) } else { json!(["istio-proxy"]) },
        "volumes": ["istio-envoy", "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"],
        "imagePullSecrets": null, "revision": revision,
    });
    meta["annotations"]["sidecar.istio.io/status"] = status.to_string().into();
    meta["annotations"]["kubectl.kubernetes.io/default-container"] = default_container;
}

/// Whether a container (by its spec) is a sidecar that keeps running (the classic istio-proxy
/// container, or a native sidecar init container).
pub fn is_sidecar(container: &Value) -> bool {
    container["name"] == "istio-proxy"
}
