//! Namespaces (default ServiceAccount, `kube-root-ca.crt`, termination), CRDs (Established
//! after a delay) and the garbage collector (ownerReferences).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::State;
use crate::server::cluster::Cluster;
use crate::server::ops;
use crate::server::store::{key, name_of, ns_of};

pub fn reconcile(cluster: &Arc<Cluster>, state: &mut State) {
    let (namespaces, _) = cluster.store.list(&key("", "namespaces"), None);
    for ns in namespaces {
        let name = name_of(&ns).to_string();
        if ns["status"]["phase"] == "Terminating" {
            for (k, obj) in cluster.store.all() {
                if ns_of(&obj) == name {
                    cluster.store.delete(&k, &name, name_of(&obj));
                }
            }
            let uid = ns["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if state.tracked.insert(uid.clone()) {
                let c = cluster.clone();
                let delay = c.knobs().delays.namespace_delete_ms;
                state.tasks.spawn(async move {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let nskey = key("", "namespaces");
                    if c.store
                        .get(&nskey, "", &name)
                        .is_some_and(|n| n["metadata"]["uid"] == uid.as_str())
                    {
                        c.store.delete(&nskey, "", &name);
                    }
                });
            }
            continue;
        }
        if cluster
            .store
            .get(&key("", "serviceaccounts"), &name, "default")
            .is_none()
        {
            ops::create_internal(
                cluster,
                "",
                "serviceaccounts",
                json!({"metadata": {"name": "default", "namespace": name}}),
            );
        }
        if cluster.minor() >= 20
            && cluster
                .store
                .get(&key("", "configmaps"), &name, "kube-root-ca.crt")
                .is_none()
        {
            ops::create_internal(
                cluster,
                "",
                "configmaps",
                json!({
                    "metadata": {"name": "kube-root-ca.crt", "namespace": name},
                    "data": {"ca.crt": cluster.pki.ca_pem},
                }),
            );
        }
    }
}

pub fn establish_crds(cluster: &Arc<Cluster>, state: &mut State) {
    let (crds, _) = cluster.store.list(
        &key("apiextensions.k8s.io", "customresourcedefinitions"),
        None,
    );
    for crd in crds {
        if !crd["status"]["conditions"].is_null() {
            continue;
        }
        let uid = crd["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !state.tracked.insert(uid.clone()) {
            continue;
        }
        let c = cluster.clone();
        let delay = c.knobs().delays.crd_establish_ms;
        let name = name_of(&crd).to_string();
        state.tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let k = key("apiextensions.k8s.io", "customresourcedefinitions");
            let Some(crd) = c.store.get(&k, "", &name).filter(|x| x["metadata"]["uid"] == uid.as_str()) else { return };
            let mut crd = (*crd).clone();
            let now = crate::server::util::now();
            let versions: Vec<Value> = match crd["spec"]["versions"].as_array() {
                Some(vs) => vs.iter().filter(|v| v["storage"] == true).map(|v| v["name"].clone()).collect(),
                None => vec![crd["spec"]["version"].clone()],
            };
            crd["status"] = json!({
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
                ],
                "acceptedNames": crd["spec"]["names"].clone(),
                "storedVersions": versions,
            });
            let _ = c.store.replace(&k, crd, None);
        });
    }
}

/// Delete objects whose owners are all gone, and custom resources whose CRD is gone.
pub fn collect_garbage(cluster: &Cluster) {
    let all = cluster.store.all();
    let uids: HashSet<&str> = all
        .iter()
        .filter_map(|(_, o)| o["metadata"]["uid"].as_str())
        .collect();
    let crd_kinds: HashSet<(String, String)> = all
        .iter()
        .filter(|(k, _)| k.1 == "customresourcedefinitions")
        .map(|(_, c)| {
            (
                c["spec"]["group"].as_str().unwrap_or_default().into(),
                c["spec"]["names"]["plural"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
            )
        })
        .collect();
    let builtin: HashSet<(String, String)> = crate::server::resources::builtin(99, false)
        .into_iter()
        .chain(crate::server::resources::builtin(15, false))
        .map(|r| (r.group, r.plural))
        .collect();
    for (k, obj) in &all {
        let refs = obj["metadata"]["ownerReferences"].as_array();
        let orphaned = refs.is_some_and(|r| {
            !r.is_empty()
                && r.iter()
                    .all(|o| !uids.contains(o["uid"].as_str().unwrap_or_default()))
        });
        let crd_gone = !builtin.contains(k) && !crd_kinds.contains(k);
        if orphaned || crd_gone {
            cluster.store.delete(k, ns_of(obj), name_of(obj));
        }
    }
}
