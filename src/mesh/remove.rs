//! `meshup down --mesh-only`: delete exactly what the record says was applied — the recorded
//! manifest's objects, workloads first, then namespaces, CRDs last (their custom resources go
//! with them) — each kind found through discovery, so a 1.15 cluster's v1beta1 objects are
//! deleted as such. An object already gone counts as removed.

use kube::api::{Api, DeleteParams, DynamicObject};
use kube::core::GroupVersionKind;
use kube::discovery::Scope;
use serde_json::Value;

use crate::error::{ExitKind, Failure};

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    pub deleted: usize,
    pub absent: usize,
}

fn rank(o: &Value) -> u8 {
    match o["kind"].as_str() {
        Some("CustomResourceDefinition") => 2,
        Some("Namespace") => 1,
        _ => 0,
    }
}

pub async fn remove(client: &kube::Client, manifest: &str) -> anyhow::Result<Removed> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(manifest) {
        let v = Value::deserialize(doc)?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    docs.reverse();
    docs.sort_by_key(rank);
    let mut out = Removed::default();
    for o in &docs {
        let api_version = o["apiVersion"].as_str().unwrap_or_default();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = o["kind"].as_str().unwrap_or_default();
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let Ok((ar, caps)) = kube::discovery::pinned_kind(client, &gvk).await else {
            // The kind is gone (its CRD was removed): so are its objects.
            out.absent += 1;
            continue;
        };
        let api: Api<DynamicObject> = if caps.scope == Scope::Namespaced {
            let ns = o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("istio-system");
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => out.deleted += 1,
            Err(kube::Error::Api(e)) if e.code == 404 => out.absent += 1,
            Err(e) => {
                return Err(
                    Failure::new(ExitKind::Mesh, format!("deleting {kind} {name}: {e}")).into(),
                );
            }
        }
    }
    Ok(out)
}
