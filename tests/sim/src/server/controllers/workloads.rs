//! The Deployment and ReplicaSet controllers: a Deployment owns one ReplicaSet per pod
//! template (older ones scaled to zero), a ReplicaSet owns its Pods; both keep their status.

use std::sync::Arc;

use serde_json::{Value, json};

use super::events;
use crate::server::cluster::Cluster;
use crate::server::ops;
use crate::server::store::{key, name_of, ns_of};
use crate::server::util;

fn owned_by<'a>(objs: &'a [Arc<Value>], owner: &Value) -> Vec<&'a Arc<Value>> {
    let uid = &owner["metadata"]["uid"];
    objs.iter()
        .filter(|o| {
            ns_of(o) == ns_of(owner)
                && o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["uid"] == *uid))
        })
        .collect()
}

fn owner_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!([{"apiVersion": api_version, "kind": kind, "name": name_of(owner), "uid": owner["metadata"]["uid"],
            "controller": true, "blockOwnerDeletion": true}])
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

pub fn reconcile(cluster: &Cluster) {
    deployments(cluster);
    replicasets(cluster);
}

fn deployments(cluster: &Cluster) {
    let (deploys, _) = cluster.store.list(&key("apps", "deployments"), None);
    let (sets, _) = cluster.store.list(&key("apps", "replicasets"), None);
    for d in deploys {
        if !d["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let desired = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let template = &d["spec"]["template"];
        let hash = util::short_hash(&template.to_string());
        let rs_name = format!("{}-{hash}", name_of(&d));
        let mine = owned_by(&sets, &d);
        let revision = mine.len() as i64
            + if mine.iter().any(|r| name_of(r) == rs_name) {
                0
            } else {
                1
            };
        for rs in &mine {
            let want = if name_of(rs) == rs_name { desired } else { 0 };
            if rs["spec"]["replicas"].as_i64() != Some(want) {
                let mut r = (***rs).clone();
                r["spec"]["replicas"] = want.into();
                ops::put_internal(cluster, "apps", "replicasets", r);
            }
        }
        if !mine.iter().any(|r| name_of(r) == rs_name) {
            let mut tmpl = template.clone();
            tmpl["metadata"]["labels"]["pod-template-hash"] = hash.clone().into();
            let mut selector = d["spec"]["selector"].clone();
            selector["matchLabels"]["pod-template-hash"] = hash.clone().into();
            let mut labels = template["metadata"]["labels"].clone();
            labels["pod-template-hash"] = hash.clone().into();
            let rs = json!({
                "metadata": {"name": rs_name, "namespace": ns_of(&d), "labels": labels,
                             "annotations": {"deployment.kubernetes.io/desired-replicas": desired.to_string(),
                                             "deployment.kubernetes.io/revision": revision.to_string()},
                             "ownerReferences": owner_ref(&d, "apps/v1", "Deployment")},
                "spec": {"replicas": desired, "selector": selector, "template": tmpl},
            });
            if ops::create_internal(cluster, "apps", "replicasets", rs).is_some() {
                let mut dd = (*d).clone();
                dd["kind"] = "Deployment".into();
                dd["apiVersion"] = "apps/v1".into();
                events::record(
                    cluster,
                    &dd,
                    "Normal",
                    "ScalingReplicaSet",
                    &format!("Scaled up replica set {rs_name} to {desired}"),
                    "deployment-controller",
                );
            }
        }
        deployment_status(cluster, &d, &mine, &rs_name, desired);
    }
}

fn deployment_status(
    cluster: &Cluster,
    d: &Value,
    sets: &[&Arc<Value>],
    current: &str,
    desired: i64,
) {
    let count = |f: &str| {
        sets.iter()
            .map(|r| r["status"][f].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    let replicas = count("replicas");
    let ready = count("readyReplicas");
    let updated = sets
        .iter()
        .find(|r| name_of(r) == current)
        .map(|r| r["status"]["replicas"].as_i64().unwrap_or(0))
        .unwrap_or(0);
    let max_unavailable = (desired as f64 * 0.25).floor() as i64;
    let available_ok = ready >= desired - max_unavailable;
    let complete = updated == desired && ready >= desired && replicas == desired;
    let mut status = json!({"observedGeneration": d["metadata"]["generation"], "replicas": replicas,
                            "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready});
    if desired - ready > 0 {
        status["unavailableReplicas"] = (desired - ready).into();
    }
    for f in [
        "readyReplicas",
        "availableReplicas",
        "updatedReplicas",
        "replicas",
    ] {
        if status[f] == 0 {
            status.as_object_mut().expect("object").remove(f);
        }
    }
    let old = d["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let cond = |ctype: &str, ok: bool, reason: &str, message: String| {
        let s = if ok { "True" } else { "False" };
        match old
            .iter()
            .find(|c| c["type"] == ctype && c["status"] == s && c["reason"] == reason)
        {
            Some(c) => c.clone(),
            None => {
                let now = util::now();
                json!({"type": ctype, "status": s, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
            }
        }
    };
    let available = if available_ok {
        cond(
            "Available",
            true,
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
        )
    } else {
        cond(
            "Available",
            false,
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
        )
    };
    let progressing = if complete {
        cond(
            "Progressing",
            true,
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{current}\" has successfully progressed."),
        )
    } else {
        cond(
            "Progressing",
            true,
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{current}\" is progressing."),
        )
    };
    status["conditions"] = json!([available, progressing]);
    if d["status"] != status {
        let mut dd = (*d).clone();
        dd["status"] = status;
        ops::put_internal(cluster, "apps", "deployments", dd);
    }
}

fn replicasets(cluster: &Cluster) {
    let (sets, _) = cluster.store.list(&key("apps", "replicasets"), None);
    let (pods, _) = cluster.store.list(&key("", "pods"), None);
    for rs in sets {
        let desired = rs["spec"]["replicas"].as_i64().unwrap_or(1);
        let mine = owned_by(&pods, &rs);
        let have = mine.len() as i64;
        let mut rs_obj = (*rs).clone();
        rs_obj["kind"] = "ReplicaSet".into();
        rs_obj["apiVersion"] = "apps/v1".into();
        if have < desired {
            for _ in have..desired {
                let name = format!("{}-{}", name_of(&rs), util::suffix(5));
                let tmpl = &rs["spec"]["template"];
                let pod = json!({
                    "metadata": {"name": name, "namespace": ns_of(&rs), "labels": tmpl["metadata"]["labels"],
                                 "annotations": tmpl["metadata"]["annotations"],
                                 "ownerReferences": owner_ref(&rs, "apps/v1", "ReplicaSet")},
                    "spec": tmpl["spec"],
                });
                match ops::try_create_internal(cluster, "", "pods", pod) {
                    Ok(_) => events::record(
                        cluster,
                        &rs_obj,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {name}"),
                        "replicaset-controller",
                    ),
                    // Admission refused it (a webhook with failurePolicy Fail and no endpoints):
                    // the controller retries on every change; the event is written once, so the
                    // retry does not feed itself through the event's own write.
                    Err(e) if e.code != 409 => {
                        events::record_once(
                            cluster,
                            &rs_obj,
                            "Warning",
                            "FailedCreate",
                            &format!("Error creating: {}", e.message),
                            "replicaset-controller",
                        );
                        break;
                    }
                    Err(_) => {}
                }
            }
        } else if have > desired {
            for pod in mine.iter().rev().take((have - desired) as usize) {
                cluster
                    .store
                    .delete(&key("", "pods"), ns_of(pod), name_of(pod));
                events::record(
                    cluster,
                    &rs_obj,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {}", name_of(pod)),
                    "replicaset-controller",
                );
            }
        }
        let mine: Vec<&Arc<Value>> = if have > desired {
            mine.into_iter().take(desired as usize).collect()
        } else {
            mine
        };
        let n = mine.len() as i64;
        let r = mine.iter().filter(|p| ready(p)).count() as i64;
        let mut status = json!({"replicas": n, "fullyLabeledReplicas": n, "readyReplicas": r, "availableReplicas": r,
                                "observedGeneration": rs["metadata"]["generation"]});
        for f in ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"] {
            if status[f] == 0 {
                status.as_object_mut().expect("object").remove(f);
            }
        }
        if rs["status"] != status {
            let mut s = (*rs).clone();
            s["status"] = status;
            ops::put_internal(cluster, "apps", "replicasets", s);
        }
    }
}
