//! Talking to the emulated API server the way the real tools do: a client from the
//! kubeconfig (`--kubeconfig`, `--context`, `KUBECONFIG`), discovery to find each kind's
//! resource, then create or patch. Only commands that need the cluster build a runtime.

use base64::Engine;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope};
use kube::{Client, Config};
use serde_json::Value;

use crate::control::ClusterInfo;
use crate::control_client::ControlClient;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// What a client was built from, for messages.
pub struct Target {
    pub client: Client,
}

/// Like client-go: `--kubeconfig` or `KUBECONFIG` (merged) or `~/.kube/config`, the context
/// given or the current one.
pub async fn client(kubeconfig: Option<&str>, context: Option<&str>) -> Result<Target, String> {
    let options = KubeConfigOptions {
        context: context.map(String::from),
        ..Default::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| format!("{e}"))?;
            Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| format!("{e}"))?
        }
        None => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| format!("{e}"))?,
    };
    let client = Client::try_from(config).map_err(|e| e.to_string())?;
    Ok(Target { client })
}

/// A client straight from the world's record of the cluster (what minikube itself uses).
pub async fn client_for(info: &ClusterInfo) -> Result<Client, String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let server = info.server.clone().ok_or("cluster not running")?;
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&info.ca_pem),
        b64(&info.client_cert_pem),
        b64(&info.client_key_pem)
    );
    let kc = Kubeconfig::from_yaml(&yaml).map_err(|e| e.to_string())?;
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    Client::try_from(config).map_err(|e| e.to_string())
}

/// A LoadBalancer Service as the tunnel sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbService {
    pub name: String,
    pub cluster_ip: String,
    pub ports: Vec<u16>,
}

/// LoadBalancer Services of a cluster, by name.
pub fn lb_services(control: &ControlClient, profile: &str) -> Result<Vec<LbService>, String> {
    let info = control
        .cluster(profile)
        .map_err(|e| e.to_string())?
        .ok_or("no such cluster")?;
    runtime().block_on(async {
        let client = client_for(&info).await?;
        let api: Api<k8s_openapi::api::core::v1::Service> = Api::all(client);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        let mut out: Vec<LbService> = list
            .items
            .into_iter()
            .filter_map(|s| {
                let spec = s.spec?;
                (spec.type_.as_deref() == Some("LoadBalancer")).then(|| LbService {
                    name: s.metadata.name.unwrap_or_default(),
                    cluster_ip: spec.cluster_ip.unwrap_or_default(),
                    ports: spec
                        .ports
                        .unwrap_or_default()
                        .iter()
                        .map(|p| p.port as u16)
                        .collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    })
}

/// Is the TokenRequest subresource served (`serviceaccounts/token` under `/api/v1`)?
pub async fn supports_third_party_jwt(client: &Client) -> Result<bool, String> {
    let list = client
        .list_core_api_resources("v1")
        .await
        .map_err(|e| e.to_string())?;
    Ok(list
        .resources
        .iter()
        .any(|r| r.name == "serviceaccounts/token"))
}

pub fn gvk_of(obj: &Value) -> Option<GroupVersionKind> {
    let api_version = obj["apiVersion"].as_str()?;
    let kind = obj["kind"].as_str()?;
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    Some(GroupVersionKind::gvk(group, version, kind))
}

/// `deployment.apps/istiod` as kubectl names objects.
pub fn kubectl_name(ar: &ApiResource, name: &str) -> String {
    let kind = ar.kind.to_lowercase();
    if ar.group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{}/{name}", ar.group)
    }
}

/// Finds the resource for a kind by discovery, once — as kubectl does: right after a CRD is
/// created (before it is Established) its kinds fail at once with `no matches for kind`
/// (kubectl's RESTMapper does not wait; the review of the sim, research/istio.md §2.3:
/// `istio-system` and the CRDs must exist first when piping `manifest generate` to kubectl).
pub async fn resolve(
    client: &Client,
    gvk: &GroupVersionKind,
) -> Result<(ApiResource, bool), String> {
    match kube::discovery::pinned_kind(client, gvk).await {
        Ok((ar, caps)) => Ok((ar, caps.scope == Scope::Namespaced)),
        Err(e) => {
            let api_version = if gvk.group.is_empty() {
                gvk.version.clone()
            } else {
                format!("{}/{}", gvk.group, gvk.version)
            };
            Err(format!(
                "error: unable to recognize \"STDIN\": no matches for kind \"{}\" in version \"{api_version}\" ({e})",
                gvk.kind
            ))
        }
    }
}

/// istioctl's in-process installer: a kind a CRD of the same install defines is waited for
/// (its discovery re-read until the CRD is Established), up to `timeout`.
pub async fn resolve_waiting(
    client: &Client,
    gvk: &GroupVersionKind,
    timeout: std::time::Duration,
) -> Result<(ApiResource, bool), String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match resolve(client, gvk).await {
            Ok(r) => return Ok(r),
            Err(e) if std::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Configured,
}

/// kubectl apply for one object: create it, or merge-patch what is there.
pub async fn apply_one(
    client: &Client,
    obj: &Value,
    default_ns: &str,
) -> Result<(String, Applied), String> {
    let gvk = gvk_of(obj).ok_or("error validating data: apiVersion or kind not set")?;
    let found = resolve(client, &gvk).await?;
    apply_resolved(client, obj, default_ns, found).await
}

/// `apply_one` for istioctl's installer, which waits for kinds its CRDs define.
pub async fn apply_one_waiting(
    client: &Client,
    obj: &Value,
    default_ns: &str,
    timeout: std::time::Duration,
) -> Result<(String, Applied), String> {
    let gvk = gvk_of(obj).ok_or("error validating data: apiVersion or kind not set")?;
    let found = resolve_waiting(client, &gvk, timeout).await?;
    apply_resolved(client, obj, default_ns, found).await
}

async fn apply_resolved(
    client: &Client,
    obj: &Value,
    default_ns: &str,
    (ar, namespaced): (ApiResource, bool),
) -> Result<(String, Applied), String> {
    let name = obj["metadata"]["name"]
        .as_str()
        .ok_or("error: resource name may not be empty")?
        .to_string();
    let mut obj = obj.clone();
    let api: Api<DynamicObject> = if namespaced {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or(default_ns)
            .to_string();
        obj["metadata"]["namespace"] = Value::String(ns.clone());
        Api::namespaced_with(client.clone(), &ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    let dynamic: DynamicObject = serde_json::from_value(obj.clone()).map_err(|e| e.to_string())?;
    let label = kubectl_name(&ar, &name);
    match api
        .get_opt(&name)
        .await
        .map_err(|e| format!("Error from server: {e}"))?
    {
        None => {
            api.create(&PostParams::default(), &dynamic)
                .await
                .map_err(|e| format!("Error from server ({label}): {e}"))?;
            Ok((label, Applied::Created))
        }
        Some(_) => {
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&obj))
                .await
                .map_err(|e| format!("Error from server ({label}): {e}"))?;
            Ok((label, Applied::Configured))
        }
    }
}

/// kubectl delete for one object: `Ok((label, false))` when it was not there.
pub async fn delete_one(
    client: &Client,
    obj: &Value,
    default_ns: &str,
) -> Result<(String, bool), String> {
    let gvk = gvk_of(obj).ok_or("error validating data: apiVersion or kind not set")?;
    let (ar, namespaced) = resolve(client, &gvk).await?;
    let name = obj["metadata"]["name"]
        .as_str()
        .ok_or("error: resource name may not be empty")?;
    let api: Api<DynamicObject> = if namespaced {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or(default_ns);
        Api::namespaced_with(client.clone(), ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    let label = format!("{} \"{name}\"", kubectl_name(&ar, "").trim_end_matches('/'));
    match api.delete(name, &Default::default()).await {
        Ok(_) => Ok((label, true)),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok((label, false)),
        Err(e) => Err(format!("Error from server: {e}")),
    }
}

/// Splits multi-document YAML into JSON objects (empty documents skipped; `List` expanded).
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).map_err(|e| format!("error parsing: {e}"))?;
        if v.is_null() {
            continue;
        }
        if v["kind"] == "List" {
            out.extend(v["items"].as_array().cloned().unwrap_or_default());
        } else {
            out.push(v);
        }
    }
    Ok(out)
}
