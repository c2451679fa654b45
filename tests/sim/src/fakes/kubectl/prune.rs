//! `kubectl apply --prune -l SELECTOR` (how Istio 1.5's `manifest apply` applies each
//! component, research/istio.md §1.2): after applying, delete the objects of the default
//! prune allowlist that match the selector, were created by `kubectl apply` (they carry the
//! last-applied annotation) and are not in this apply — in the apply's namespace, plus the
//! cluster-scoped kinds. Without a selector (or `--all`) real kubectl refuses to prune.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use serde_json::Value;

use crate::fakes::kube as k;

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// kubectl's default prune allowlist (`prune.go`): (group, version, kind).
const ALLOWLIST: &[(&str, &str, &str)] = &[
    ("", "v1", "ConfigMap"),
    ("", "v1", "Endpoints"),
    ("", "v1", "Namespace"),
    ("", "v1", "PersistentVolumeClaim"),
    ("", "v1", "PersistentVolume"),
    ("", "v1", "Pod"),
    ("", "v1", "ReplicationController"),
    ("", "v1", "Secret"),
    ("", "v1", "Service"),
    ("batch", "v1", "Job"),
    ("networking.k8s.io", "v1", "Ingress"),
    ("apps", "v1", "DaemonSet"),
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "ReplicaSet"),
    ("apps", "v1", "StatefulSet"),
];

/// The message real kubectl gives for `--prune` without a selector.
pub const NEEDS_SELECTOR: &str = "error: all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector";

fn key(kind: &str, ns: &str, name: &str) -> String {
    format!("{kind}/{ns}/{name}")
}

/// The applied objects' keys, as `prune` compares them.
pub fn applied_key(obj: &Value, ns: &str) -> String {
    key(
        obj["kind"].as_str().unwrap_or_default(),
        obj["metadata"]["namespace"].as_str().unwrap_or(ns),
        obj["metadata"]["name"].as_str().unwrap_or_default(),
    )
}

/// Deletes what the selector matches and this apply did not contain; prints `... pruned`.
pub async fn prune(
    client: &kube::Client,
    selector: &str,
    ns: &str,
    applied: &[String],
) -> Result<(), String> {
    for (group, version, kind) in ALLOWLIST {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let Ok((ar, namespaced)) = k::resolve(client, &gvk).await else {
            continue; // a kind this server does not serve
        };
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| format!("error: pruning {kind}: {e}"))?;
        for o in list.items {
            let name = o.metadata.name.clone().unwrap_or_default();
            let o_ns = o.metadata.namespace.clone().unwrap_or_default();
            let by_apply = o
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(LAST_APPLIED));
            // A cluster-scoped object's key has the apply's default namespace in it.
            let mine = if namespaced {
                applied.contains(&key(kind, &o_ns, &name))
            } else {
                applied
                    .iter()
                    .any(|a| a.starts_with(&format!("{kind}/")) && a.ends_with(&format!("/{name}")))
            };
            if !by_apply || mine {
                continue;
            }
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => println!("{} pruned", k::kubectl_name(&ar, &name)),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(format!("error: pruning {kind} {name}: {e}")),
            }
        }
    }
    Ok(())
}
