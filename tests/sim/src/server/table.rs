//! Server-side printing (`Accept: ...;as=Table;g=meta.k8s.io`), so a real `kubectl get` shows
//! the familiar columns (a Service's EXTERNAL-IP, a Pod's READY and STATUS).

use serde_json::{Value, json};

/// kubectl's AGE column (also used by the fake kubectl's client-side tables).
pub(crate) fn age(obj: &Value) -> String {
    let Some(ts) = obj["metadata"]["creationTimestamp"].as_str() else {
        return "<unknown>".into();
    };
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else {
        return "<unknown>".into();
    };
    let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match s {
        0..120 => format!("{s}s"),
        120..7200 => format!("{}m", s / 60),
        7200..172800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

fn pod_cells(p: &Value) -> Vec<Value> {
    let statuses = p["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // kubectl's printer counts native sidecars (init containers with `restartPolicy: Always`)
    // in READY, as kubernetes/pkg/printers/internalversion does since 1.28.
    let native: Vec<&Value> = p["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["restartPolicy"] == "Always")
        .collect();
    let total = p["spec"]["containers"].as_array().map_or(0, Vec::len) + native.len();
    let native_ready = p["status"]["initContainerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["ready"] == true && native.iter().any(|c| c["name"] == s["name"]))
        .count();
    let ready = statuses.iter().filter(|s| s["ready"] == true).count() + native_ready;
    let restarts: i64 = statuses
        .iter()
        .map(|s| s["restartCount"].as_i64().unwrap_or(0))
        .sum();
    let waiting = statuses
        .iter()
        .find_map(|s| s["state"]["waiting"]["reason"].as_str());
    let init_waiting = p["status"]["initContainerStatuses"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["state"]["waiting"].is_object()));
    let status = match (waiting, init_waiting) {
        (_, true) => format!(
            "Init:0/{}",
            p["spec"]["initContainers"].as_array().map_or(0, Vec::len)
        ),
        (Some(w), _) => w.to_string(),
        _ => p["status"]["phase"]
            .as_str()
            .unwrap_or("Pending")
            .to_string(),
    };
    vec![
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts),
        json!(age(p)),
    ]
}

fn service_cells(s: &Value) -> Vec<Value> {
    let ty = s["spec"]["type"].as_str().unwrap_or("ClusterIP");
    let external = match s["status"]["loadBalancer"]["ingress"].as_array() {
        Some(ing) if !ing.is_empty() => ing
            .iter()
            .filter_map(|i| i["ip"].as_str())
            .collect::<Vec<_>>()
            .join(","),
        _ if ty == "LoadBalancer" => "<pending>".into(),
        _ => "<none>".into(),
    };
    let ports: Vec<String> = s["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_u64() {
                Some(n) => format!("{}:{n}/{proto}", p["port"]),
                None => format!("{}/{proto}", p["port"]),
            }
        })
        .collect();
    vec![
        json!(ty),
        s["spec"]["clusterIP"].clone(),
        json!(external),
        json!(ports.join(",")),
        json!(age(s)),
    ]
}

fn deployment_cells(d: &Value) -> Vec<Value> {
    let n = |f: &str| d["status"][f].as_i64().unwrap_or(0);
    let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
    vec![
        json!(format!("{}/{want}", n("readyReplicas"))),
        json!(n("updatedReplicas")),
        json!(n("availableReplicas")),
        json!(age(d)),
    ]
}

fn columns(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &["Name", "Ready", "Status", "Restarts", "Age"],
        "Service" => &[
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age",
        ],
        "Deployment" => &["Name", "Ready", "Up-to-date", "Available", "Age"],
        "Namespace" => &["Name", "Status", "Age"],
        _ => &["Name", "Age"],
    }
}

fn cells(kind: &str, obj: &Value) -> Vec<Value> {
    let mut row = vec![obj["metadata"]["name"].clone()];
    row.extend(match kind {
        "Pod" => pod_cells(obj),
        "Service" => service_cells(obj),
        "Deployment" => deployment_cells(obj),
        "Namespace" => vec![obj["status"]["phase"].clone(), json!(age(obj))],
        _ => vec![json!(age(obj))],
    });
    row
}

pub fn wants_table(accept: &str) -> bool {
    accept.contains("as=Table")
}

pub fn table(kind: &str, items: &[Value], resource_version: &str) -> Value {
    let defs: Vec<Value> = columns(kind)
        .iter()
        .map(|c| {
            let format = if *c == "Name" { "name" } else { "" };
            json!({"name": c, "type": "string", "format": format, "description": "", "priority": 0})
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            json!({"cells": cells(kind, o), "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
           "columnDefinitions": defs, "rows": rows})
}
