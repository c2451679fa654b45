//! Istio's sidecar injection, as the API server runs it at Pod creation: through the
//! `MutatingWebhookConfiguration`s actually in the store (research/istio.md §6.4–6.5). A webhook
//! whose rules cover Pod CREATE and whose namespaceSelector / objectSelector match calls its
//! service (`istiod` or `istiod-<rev>`, 1.5's `istio-sidecar-injector`): with a Ready Pod behind
//! that service the Pod is injected; with none, `failurePolicy: Fail` rejects the creation the
//! way the real API server does and `Ignore` lets the Pod in without a sidecar. No webhook, no
//! sidecar. The Istio version is read from the injector Pod's image tag, never a side channel.

use std::sync::Arc;

use serde_json::{Value, json};

use super::cluster::Cluster;
use super::select::LabelSelector;
use super::status::ApiError;
use super::store::{key, name_of, ns_of};

/// A `metav1.LabelSelector` (matchLabels + matchExpressions) against labels; an empty or
/// missing selector matches everything, as in the API server's webhook dispatcher.
pub fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in selector["matchLabels"].as_object().into_iter().flatten() {
        parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    for e in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let k = e["key"].as_str().unwrap_or_default();
        let vals: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{k} in ({})", vals.join(",")),
            "NotIn" => format!("{k} notin ({})", vals.join(",")),
            "Exists" => k.to_string(),
            "DoesNotExist" => format!("!{k}"),
            _ => return false,
        });
    }
    let empty = json!({});
    let labels = if labels.is_object() { labels } else { &empty };
    LabelSelector::parse(&parts.join(",")).is_ok_and(|s| s.matches(labels))
}

fn covers_pod_create(webhook: &Value) -> bool {
    webhook["rules"].as_array().into_iter().flatten().any(|r| {
        let has = |field: &str, want: &str| {
            r[field]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v == want || v == "*")
        };
        has("operations", "CREATE")
            && has("apiGroups", "")
            && has("apiVersions", "v1")
            && has("resources", "pods")
    })
}

/// The Ready Pods behind a webhook's service (its endpoints).
fn endpoints(cluster: &Cluster, ns: &str, name: &str) -> Vec<Arc<Value>> {
    let Some(svc) = cluster.store.get(&key("", "services"), ns, name) else {
        return vec![];
    };
    let Some(sel) = svc["spec"]["selector"]
        .as_object()
        .filter(|s| !s.is_empty())
    else {
        return vec![];
    };
    let selector = json!({"matchLabels": sel});
    let (pods, _) = cluster.store.list(&key("", "pods"), Some(ns));
    pods.into_iter()
        .filter(|p| selector_matches(&selector, &p["metadata"]["labels"]) && pod_ready(p))
        .collect()
}

pub fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// Whether an injector control plane (istiod, istiod-<rev>, 1.5's pilot / sidecar injector)
/// has a Ready Pod: a proxy gets its configuration only then (research/istio.md §6.7).
pub fn control_plane_ready(cluster: &Cluster) -> bool {
    let (pods, _) = cluster.store.list(&key("", "pods"), Some("istio-system"));
    pods.iter().any(|p| {
        let app = p["metadata"]["labels"]["app"].as_str().unwrap_or_default();
        let istio = p["metadata"]["labels"]["istio"]
            .as_str()
            .unwrap_or_default();
        (app == "istiod" || istio == "pilot" || istio == "sidecar-injector") && pod_ready(p)
    })
}

/// `docker.io/istio/pilot:1.5.0` → `1.5.0`; `...:1.22.0-distroless` → `1.22.0`.
fn image_tag(pod: &Value) -> Option<String> {
    let image = pod["spec"]["containers"][0]["image"].as_str()?;
    let last = image.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    Some(tag.split('-').next().unwrap_or(tag).to_string())
}

fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

/// The injector a Pod's creation calls: (webhook name, failurePolicy, service ns/name, revision).
struct Call {
    webhook: String,
    fail: bool,
    ns: String,
    service: String,
    path: String,
    revision: String,
}

fn webhook_calls(cluster: &Cluster, ns: &Value, pod: &Value) -> Vec<Call> {
    let (configs, _) = cluster.store.list(
        &key(
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
        ),
        None,
    );
    let mut calls = Vec::new();
    for mwc in configs {
        let revision = mwc["metadata"]["labels"]["istio.io/rev"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        for w in mwc["webhooks"].as_array().into_iter().flatten() {
            let svc = &w["clientConfig"]["service"];
            if !covers_pod_create(w)
                || !svc.is_object()
                || !selector_matches(&w["namespaceSelector"], &ns["metadata"]["labels"])
                || !selector_matches(&w["objectSelector"], &pod["metadata"]["labels"])
            {
                continue;
            }
            calls.push(Call {
                webhook: w["name"].as_str().unwrap_or_default().into(),
                // admissionregistration v1 defaults to Fail, v1beta1 to Ignore.
                fail: match w["failurePolicy"].as_str() {
                    Some(p) => p == "Fail",
                    None => mwc["apiVersion"] != "admissionregistration.k8s.io/v1beta1",
                },
                ns: svc["namespace"].as_str().unwrap_or_default().into(),
                service: svc["name"].as_str().unwrap_or_default().into(),
                path: svc["path"].as_str().unwrap_or("/").into(),
                revision: revision.clone(),
            });
        }
    }
    calls
}

/// What the API server says when a `failurePolicy: Fail` webhook's service has no endpoints
/// (apiserver's webhook dispatcher; Go ≥ 1.14 quotes the URL, Kubernetes ≥ 1.23 adds
/// "failed to call webhook").
fn no_endpoints(cluster: &Cluster, call: &Call) -> ApiError {
    let url = format!(
        "https://{}.{}.svc:443{}?timeout=10s",
        call.service, call.ns, call.path
    );
    let post = if cluster.minor() >= 18 {
        format!("Post \"{url}\"")
    } else {
        format!("Post {url}")
    };
    let inner = if cluster.minor() >= 23 {
        format!("failed to call webhook: {post}")
    } else {
        post
    };
    ApiError::new(
        500,
        "InternalError",
        format!(
            "Internal error occurred: failed calling webhook \"{}\": {inner}: no endpoints available for service \"{}\"",
            call.webhook, call.service
        ),
    )
}

pub fn inject(cluster: &Cluster, pod: &mut Value) -> Result<(), ApiError> {
    let Some(ns) = cluster.namespace(ns_of(pod)) else {
        return Ok(());
    };
    let Some(call) = webhook_calls(cluster, &ns, pod).into_iter().next() else {
        return Ok(());
    };
    let injector = endpoints(cluster, &call.ns, &call.service);
    let Some(injector) = injector.first() else {
        return if call.fail {
            Err(no_endpoints(cluster, &call))
        } else {
            Ok(())
        };
    };
    // The injector's own rules (its `policy: enabled` template): opt-outs and host network.
    let opted_out = |v: &Value| v["sidecar.istio.io/inject"].as_str() == Some("false");
    if opted_out(&pod["metadata"]["annotations"]) || opted_out(&pod["metadata"]["labels"]) {
        return Ok(());
    }
    if pod["spec"]["hostNetwork"] == true
        || !pod["metadata"]["annotations"]["sidecar.istio.io/status"].is_null()
    {
        return Ok(());
    }
    let version = image_tag(injector).unwrap_or_else(|| "1.5.0".into());
    let revision = call.revision;
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
    Ok(())
}

/// Whether a container (by its spec) is a sidecar that keeps running (the classic istio-proxy
/// container, or a native sidecar init container).
pub fn is_sidecar(container: &Value) -> bool {
    container["name"] == "istio-proxy"
}
