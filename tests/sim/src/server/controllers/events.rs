//! `Event` objects, as the kubelet, scheduler and controllers write them.

use serde_json::{Value, json};

use crate::server::cluster::Cluster;
use crate::server::ops;
use crate::server::store::{key, name_of, ns_of};
use crate::server::util;

/// [`record`] unless the same event is already there (no count bump, so no store write).
pub fn record_once(
    cluster: &Cluster,
    obj: &Value,
    etype: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = match ns_of(obj) {
        "" => "default",
        n => n,
    };
    let (existing, _) = cluster.store.list(&key("", "events"), Some(ns));
    if !existing.iter().any(|e| {
        e["involvedObject"]["uid"] == obj["metadata"]["uid"]
            && e["reason"] == reason
            && e["message"] == message
    }) {
        record(cluster, obj, etype, reason, message, component);
    }
}

pub fn record(
    cluster: &Cluster,
    obj: &Value,
    etype: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = match ns_of(obj) {
        "" => "default",
        n => n,
    };
    let name = name_of(obj);
    let now = util::now();
    // Like the real event recorder: a repeat of the same event bumps its count.
    let (existing, _) = cluster.store.list(&key("", "events"), Some(ns));
    if let Some(e) = existing.iter().find(|e| {
        e["involvedObject"]["uid"] == obj["metadata"]["uid"]
            && e["reason"] == reason
            && e["message"] == message
    }) {
        let mut e = (**e).clone();
        e["count"] = (e["count"].as_i64().unwrap_or(1) + 1).into();
        e["lastTimestamp"] = now.into();
        ops::put_internal(cluster, "", "events", e);
        return;
    }
    let mut source = json!({"component": component});
    if component == "kubelet" {
        source["host"] = cluster.node_name().into();
    }
    let event = json!({
        "metadata": {"name": format!("{name}.{:016x}", util::rand_u64()), "namespace": ns},
        "involvedObject": {
            "kind": obj["kind"], "namespace": ns_of(obj), "name": name, "uid": obj["metadata"]["uid"],
            "apiVersion": obj["apiVersion"], "resourceVersion": obj["metadata"]["resourceVersion"],
        },
        "reason": reason, "message": message, "source": source, "type": etype,
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "reportingComponent": component, "reportingInstance": if component == "kubelet" { cluster.node_name() } else { String::new() },
    });
    let _ = ops::create_internal(cluster, "", "events", event);
}
