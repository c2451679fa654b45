//! The smoke workload verify deploys: a namespace labelled for injection, one small HTTP Pod
//! (image from the scenario; httpbin by default) with its Service, and a Gateway +
//! VirtualService routing a host of its own on the ingress gateway to it. Istio kinds go through
//! discovery: the group version a release serves differs (v1alpha3 → v1beta1 → v1, §6.8).

use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::{self, ApiResource};
use serde_json::{Value, json};

/// The smoke objects' name (Pod, Service, Gateway, VirtualService).
pub const NAME: &str = "meshup-smoke";
/// The host the smoke route answers (its own, so no user's route can take it).
pub const HOST: &str = "meshup-smoke.local";
/// The Service port the route targets.
pub const PORT: i32 = 8000;
/// Marks what meshup made (`app.kubernetes.io/managed-by`).
const MANAGER: &str = "meshup";

/// The port the smoke image serves on: go-httpbin listens on 8080, httpbin (gunicorn), nginx
/// and most small images on 80.
pub fn app_port(image: &str) -> i32 {
    if image.contains("go-httpbin") {
        8080
    } else {
        80
    }
}

/// The path requested through the gateway and whether an answer is the workload's own: httpbin
/// answers `/get` with JSON naming the URL; other images only need to answer 200.
pub fn request_path(image: &str) -> &'static str {
    if image.contains("httpbin") {
        "/get"
    } else {
        "/"
    }
}

pub fn is_workload_answer(image: &str, body: &str) -> bool {
    if !image.contains("httpbin") {
        return true;
    }
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["url"].as_str().map(|u| u.ends_with("/get")))
        .unwrap_or(false)
}

/// Creates, or updates with a JSON merge patch: a plain create/patch rather than server-side
/// apply, which Kubernetes 1.15 (the seed's) serves only as an alpha feature behind a gate.
async fn upsert<K>(api: &Api<K>, name: &str, body: Value) -> Result<(), kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    // A `null` in the body removes that field when patching; a new object just lacks it.
    let obj: K =
        serde_json::from_value(without_nulls(body.clone())).map_err(kube::Error::SerdeError)?;
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => api
            .patch(name, &PatchParams::default(), &Patch::Merge(&body))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    }
}

fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Creates (or relabels) the namespace: `istio-injection=enabled`, or `istio.io/rev=R` (and no
/// `istio-injection`, which would win) for a revisioned install (research/istio.md §6.5).
pub async fn namespace(
    client: &kube::Client,
    ns: &str,
    revision: Option<&str>,
) -> Result<(), String> {
    let labels = match revision {
        Some(r) => {
            json!({"istio.io/rev": r, "istio-injection": null, "app.kubernetes.io/managed-by": MANAGER})
        }
        None => {
            json!({"istio-injection": "enabled", "istio.io/rev": null, "app.kubernetes.io/managed-by": MANAGER})
        }
    };
    let api: Api<Namespace> = Api::all(client.clone());
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}});
    upsert(&api, ns, body)
        .await
        .map_err(|e| format!("cannot create namespace {ns}: {e}"))
}

/// A fresh smoke Pod (a Pod's spec is immutable: an old one is deleted first) and its Service.
pub async fn workload(client: &kube::Client, ns: &str, image: &str) -> Result<(), String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    if pods
        .get_opt(NAME)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        pods.delete(NAME, &DeleteParams::default().grace_period(0))
            .await
            .map_err(|e| format!("cannot replace the old smoke pod: {e}"))?;
        // Deletion may be graceful on a real cluster: wait until the name is free.
        let _ = super::watch::until(
            &pods,
            NAME,
            std::time::Duration::from_secs(60),
            |p: Option<&Pod>| {
                if p.is_none() {
                    Ok(())
                } else {
                    Err("the old smoke pod is still terminating".to_string())
                }
            },
        )
        .await;
    }
    let labels = json!({"app": NAME, "version": "v1"});
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": NAME, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": image, "imagePullPolicy": "IfNotPresent",
                 "ports": [{"name": "http", "containerPort": app_port(image)}]}]},
    }))
    .map_err(|e| e.to_string())?;
    pods.create(&PostParams::default(), &pod)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) => format!("the API server refused the smoke pod: {}", s.message),
            e => format!("cannot create the smoke pod: {e}"),
        })?;
    let svcs: Api<Service> = Api::namespaced(client.clone(), ns);
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": NAME, "labels": {"app": NAME}},
        "spec": {"selector": {"app": NAME}, "ports": [{"name": "http", "port": PORT, "targetPort": "http"}]}});
    svcs.patch(
        NAME,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&svc),
    )
    .await
    .map(|_| ())
    .map_err(|e| format!("cannot create the smoke service: {e}"))
}

/// The served version of an Istio networking kind that discovery prefers (v1 > v1beta1 >
/// v1alpha3).
pub async fn istio_kind(client: &kube::Client, kind: &str) -> Result<ApiResource, String> {
    let group = discovery::group(client, "networking.istio.io")
        .await
        .map_err(|e| {
            format!("networking.istio.io is not served (are Istio's CRDs installed?): {e}")
        })?;
    group
        .recommended_kind(kind)
        .map(|(ar, _)| ar)
        .ok_or_else(|| format!("networking.istio.io serves no {kind}"))
}

/// The Gateway (on the ingress gateway's port 80, for [`HOST`]) and the VirtualService routing
/// it to the smoke Service.
pub async fn route(
    client: &kube::Client,
    ns: &str,
    gateway_selector: &Value,
) -> Result<String, String> {
    let gw = istio_kind(client, "Gateway").await?;
    let vs = istio_kind(client, "VirtualService").await?;
    let gateway = json!({"apiVersion": gw.api_version, "kind": "Gateway", "metadata": {"name": NAME, "namespace": ns},
        "spec": {"selector": gateway_selector, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [HOST]}]}});
    let service = json!({"apiVersion": vs.api_version, "kind": "VirtualService", "metadata": {"name": NAME, "namespace": ns},
        "spec": {"hosts": [HOST], "gateways": [NAME], "http": [{"match": [{"uri": {"prefix": "/"}}],
                 "route": [{"destination": {"host": format!("{NAME}.{ns}.svc.cluster.local"), "port": {"number": PORT}}}]}]}});
    for (ar, body) in [(&gw, gateway), (&vs, service)] {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
        api.patch(
            NAME,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
        .map_err(|e| format!("cannot apply {} {ns}/{NAME}: {e}", ar.kind))?;
    }
    Ok(vs.api_version)
}

/// Removes the smoke namespace (and with it everything in it); best effort.
pub async fn remove(client: &kube::Client, ns: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let _ = api.delete(ns, &DeleteParams::default()).await;
}
