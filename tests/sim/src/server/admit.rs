//! What the API server does to an object on the way in: defaulting, the status a new object
//! starts with, service IP allocation, a few validations, and (for Pods) Istio's sidecar
//! injection webhook.

use serde_json::{Value, json};

use super::cluster::Cluster;
use super::resources::Resource;
use super::sidecar;
use super::status::{ApiError, ApiResult};
use super::store::{key, name_of};
use super::util;

/// Built-in kinds must decode as their k8s-openapi type, as the real server decodes them into
/// Go structs (a string where an object belongs is a 400, not a stored object).
fn decode_check(r: &Resource, obj: &Value) -> ApiResult<()> {
    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
    fn check<T: serde::de::DeserializeOwned>(obj: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(obj.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    let result = match (r.group.as_str(), r.kind.as_str()) {
        ("", "Pod") => check::<core::Pod>(obj),
        ("", "Service") => check::<core::Service>(obj),
        ("", "Namespace") => check::<core::Namespace>(obj),
        ("", "ConfigMap") => check::<core::ConfigMap>(obj),
        ("", "Secret") => check::<core::Secret>(obj),
        ("", "ServiceAccount") => check::<core::ServiceAccount>(obj),
        ("apps" | "extensions", "Deployment") => check::<apps::Deployment>(obj),
        ("apps" | "extensions", "ReplicaSet") => check::<apps::ReplicaSet>(obj),
        _ => check::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>(&obj["metadata"]),
    };
    result.map_err(|e| ApiError::bad_request(format!("unable to decode {}: {e}", r.kind)))
}

pub fn on_create(cluster: &Cluster, r: &Resource, obj: &mut Value) -> ApiResult<()> {
    decode_check(r, obj)?;
    if r.has_status() {
        obj["status"] = json!({});
    }
    match (r.group.as_str(), r.kind.as_str()) {
        ("", "Namespace") => {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
            obj["status"] = json!({"phase": "Active"});
            if cluster.minor() >= 21 {
                let name = name_of(obj).to_string();
                obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name.into();
            }
        }
        ("", "Pod") => {
            default_pod_spec(&mut obj["spec"]);
            sidecar::inject(cluster, obj)?;
            obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
        }
        ("", "Service") => default_service(cluster, obj, None)?,
        ("apps" | "extensions", "Deployment") => {
            let spec = &mut obj["spec"];
            default_if_null(spec, "replicas", json!(1));
            default_if_null(spec, "revisionHistoryLimit", json!(10));
            default_if_null(spec, "progressDeadlineSeconds", json!(600));
            default_if_null(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            default_pod_spec(&mut spec["template"]["spec"]);
            validate_selector(obj)?;
        }
        ("apps" | "extensions", "ReplicaSet") => {
            default_if_null(&mut obj["spec"], "replicas", json!(1));
            default_pod_spec(&mut obj["spec"]["template"]["spec"]);
        }
        ("", "ServiceAccount") => {}
        _ => {}
    }
    Ok(())
}

pub fn on_update(cluster: &Cluster, r: &Resource, old: &Value, obj: &mut Value) -> ApiResult<()> {
    decode_check(r, obj)?;
    if (r.group.as_str(), r.kind.as_str()) == ("", "Service") {
        default_service(cluster, obj, Some(old))?;
    }
    if matches!(r.kind.as_str(), "Deployment") {
        default_if_null(&mut obj["spec"], "replicas", json!(1));
        default_pod_spec(&mut obj["spec"]["template"]["spec"]);
        validate_selector(obj)?;
    }
    Ok(())
}

fn default_if_null(obj: &mut Value, field: &str, v: Value) {
    if obj.get(field).is_none_or(Value::is_null) {
        obj[field] = v;
    }
}

fn validate_selector(obj: &Value) -> ApiResult<()> {
    let labels = &obj["spec"]["template"]["metadata"]["labels"];
    let wanted = obj["spec"]["selector"]["matchLabels"].as_object();
    let ok = wanted.is_some_and(|w| w.iter().all(|(k, v)| labels.get(k) == Some(v)));
    if !ok {
        return Err(ApiError::invalid(format!(
            "Deployment.apps \"{}\" is invalid: spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`",
            name_of(obj),
            labels
        )));
    }
    Ok(())
}

pub fn default_pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    default_if_null(spec, "restartPolicy", json!("Always"));
    default_if_null(spec, "dnsPolicy", json!("ClusterFirst"));
    default_if_null(spec, "schedulerName", json!("default-scheduler"));
    default_if_null(spec, "serviceAccountName", json!("default"));
    default_if_null(spec, "terminationGracePeriodSeconds", json!(30));
    default_if_null(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec[list].as_array_mut() {
            for c in cs {
                let image = c["image"].as_str().unwrap_or_default().to_string();
                let tag = image
                    .rsplit('/')
                    .next()
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, t)| t.to_string());
                let policy = if tag.is_none() || tag.as_deref() == Some("latest") {
                    "Always"
                } else {
                    "IfNotPresent"
                };
                default_if_null(c, "imagePullPolicy", json!(policy));
                default_if_null(c, "terminationMessagePath", json!("/dev/termination-log"));
                default_if_null(c, "terminationMessagePolicy", json!("File"));
                default_if_null(c, "resources", json!({}));
                if let Some(ports) = c["ports"].as_array_mut() {
                    for p in ports {
                        default_if_null(p, "protocol", json!("TCP"));
                    }
                }
            }
        }
    }
}

fn default_service(cluster: &Cluster, obj: &mut Value, old: Option<&Value>) -> ApiResult<()> {
    let spec = &mut obj["spec"];
    default_if_null(spec, "type", json!("ClusterIP"));
    default_if_null(spec, "sessionAffinity", json!("None"));
    let ty = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
    if let Some(old) = old {
        for f in ["clusterIP", "clusterIPs"] {
            if spec.get(f).is_none_or(Value::is_null) && !old["spec"][f].is_null() {
                spec[f] = old["spec"][f].clone();
            }
        }
    }
    if spec["clusterIP"].is_null() || spec["clusterIP"] == "" {
        spec["clusterIP"] = allocate_cluster_ip(cluster).into();
    }
    if cluster.minor() >= 20 && spec["clusterIPs"].is_null() && spec["clusterIP"] != "None" {
        spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
    }
    let old_ports = old
        .map(|o| o["spec"]["ports"].clone())
        .unwrap_or(Value::Null);
    if let Some(ports) = spec["ports"].as_array_mut() {
        for p in ports {
            default_if_null(p, "protocol", json!("TCP"));
            if p.get("targetPort").is_none_or(Value::is_null) {
                p["targetPort"] = p["port"].clone();
            }
            if matches!(ty.as_str(), "NodePort" | "LoadBalancer")
                && p.get("nodePort").is_none_or(Value::is_null)
            {
                let kept = old_ports
                    .as_array()
                    .and_then(|o| o.iter().find(|q| q["port"] == p["port"]))
                    .map(|q| q["nodePort"].clone())
                    .filter(|v| !v.is_null());
                p["nodePort"] = kept.unwrap_or_else(|| json!(30000 + util::rand_u64() % 2768));
            }
        }
    }
    if ty == "LoadBalancer" {
        default_if_null(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if old.is_none() {
        obj["status"] = json!({"loadBalancer": {}});
    }
    Ok(())
}

/// A free address in the service CIDR (10.96.0.0/12 unless the cluster says otherwise).
fn allocate_cluster_ip(cluster: &Cluster) -> String {
    let cidr = cluster.spec.lock().unwrap().service_cidr.clone();
    let base: [u8; 4] = cidr
        .split('/')
        .next()
        .and_then(|ip| ip.parse::<std::net::Ipv4Addr>().ok())
        .map(|ip| ip.octets())
        .unwrap_or([10, 96, 0, 0]);
    let (used, _) = cluster.store.list(&key("", "services"), None);
    let taken: Vec<&str> = used
        .iter()
        .filter_map(|s| s["spec"]["clusterIP"].as_str())
        .collect();
    loop {
        let n = 11 + util::rand_u64() % 60000;
        let ip = format!(
            "{}.{}.{}.{}",
            base[0],
            base[1],
            base[2].wrapping_add((n / 250) as u8),
            1 + n % 250
        );
        if !taken.contains(&ip.as_str()) {
            return ip;
        }
    }
}
