//! Writes with the API server's semantics (defaults, status subresources, optimistic
//! concurrency, namespaces, cascading deletes), shared by the REST layer and the controllers.

use std::sync::Arc;

use serde_json::{Value, json};

use super::admit;
use super::cluster::Cluster;
use super::patch::{self, PatchType};
use super::resources::Resource;
use super::status::{ApiError, ApiResult};
use super::store::{Key, key, name_of, ns_of};
use super::util;

fn k(r: &Resource) -> Key {
    key(&r.group, &r.plural)
}

/// The object as the requested group version shows it.
pub fn as_version(obj: &Value, r: &Resource) -> Value {
    let mut v = obj.clone();
    v["apiVersion"] = r.api_version().into();
    v["kind"] = r.kind.clone().into();
    v
}

pub fn get(cluster: &Cluster, r: &Resource, ns: &str, name: &str) -> ApiResult<Value> {
    let obj = cluster
        .store
        .get(&k(r), ns, name)
        .ok_or_else(|| ApiError::not_found(&r.group, &r.plural, name))?;
    Ok(as_version(&obj, r))
}

pub fn create(
    cluster: &Cluster,
    r: &Resource,
    ns: &str,
    mut obj: Value,
    dry_run: bool,
) -> ApiResult<Arc<Value>> {
    if !obj.is_object() {
        return Err(ApiError::bad_request("the body must be an object"));
    }
    if let Some(kind) = obj["kind"].as_str()
        && kind != r.kind
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            obj["apiVersion"].as_str().unwrap_or_default(),
            r.api_version()
        )));
    }
    obj = as_version(&obj, r);
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if r.namespaced {
        match obj["metadata"]["namespace"].as_str() {
            Some(n) if !n.is_empty() && n != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => obj["metadata"]["namespace"] = ns.into(),
        }
        match cluster.namespace(ns) {
            None => return Err(ApiError::not_found("", "namespaces", ns)),
            Some(n) if n["status"]["phase"] == "Terminating" => {
                return Err(ApiError::new(
                    403,
                    "Forbidden",
                    format!(
                        "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        r.plural,
                        name_of(&obj)
                    ),
                ));
            }
            Some(_) => {}
        }
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    if name_of(&obj).is_empty() {
        match obj["metadata"]["generateName"].as_str() {
            Some(prefix) if !prefix.is_empty() => {
                obj["metadata"]["name"] = format!("{prefix}{}", util::suffix(5)).into()
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                    r.kind
                )));
            }
        }
    }
    for f in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "generation",
    ] {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove(f);
        }
    }
    admit::on_create(cluster, r, &mut obj)?;
    if dry_run {
        return Ok(Arc::new(obj));
    }
    cluster.store.create(&k(r), obj)
}

pub fn update(
    cluster: &Cluster,
    r: &Resource,
    ns: &str,
    name: &str,
    mut obj: Value,
    status_only: bool,
    dry_run: bool,
) -> ApiResult<Arc<Value>> {
    let old = cluster
        .store
        .get(&k(r), ns, name)
        .ok_or_else(|| ApiError::not_found(&r.group, &r.plural, name))?;
    if name_of(&obj) != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            name_of(&obj)
        )));
    }
    obj = as_version(&obj, r);
    if r.namespaced {
        obj["metadata"]["namespace"] = ns.into();
    }
    let expected = obj["metadata"]["resourceVersion"]
        .as_str()
        .map(String::from);
    if status_only {
        // Only the status is taken from the request.
        let status = obj["status"].clone();
        obj = (*old).clone();
        obj["status"] = status;
    } else if r.has_status() {
        obj["status"] = old["status"].clone();
    }
    // Only the server sets deletionTimestamp.
    if let Some(v) = old["metadata"].get("deletionTimestamp") {
        obj["metadata"]["deletionTimestamp"] = v.clone();
    }
    admit::on_update(cluster, r, &old, &mut obj)?;
    if dry_run {
        return Ok(Arc::new(obj));
    }
    cluster.store.replace(&k(r), obj, expected.as_deref())
}

#[allow(clippy::too_many_arguments)]
pub fn patch(
    cluster: &Cluster,
    r: &Resource,
    ns: &str,
    name: &str,
    kind: &PatchType,
    body: &[u8],
    status_only: bool,
    dry_run: bool,
) -> ApiResult<Arc<Value>> {
    let Some(old) = cluster.store.get(&k(r), ns, name) else {
        if matches!(kind, PatchType::Apply) {
            let obj = patch::apply(&json!({}), kind, body)?;
            return create(cluster, r, ns, obj, dry_run);
        }
        return Err(ApiError::not_found(&r.group, &r.plural, name));
    };
    let current = as_version(&old, r);
    let patched = patch::apply(&current, kind, body)?;
    update(cluster, r, ns, name, patched, status_only, dry_run)
}

/// Delete an object. Namespaces go Terminating first (the namespace controller empties and
/// removes them); dependents are garbage-collected by the controllers unless orphaned.
pub fn delete(
    cluster: &Cluster,
    r: &Resource,
    ns: &str,
    name: &str,
    orphan: bool,
) -> ApiResult<Arc<Value>> {
    let key = k(r);
    let old = cluster
        .store
        .get(&key, ns, name)
        .ok_or_else(|| ApiError::not_found(&r.group, &r.plural, name))?;
    if r.group.is_empty() && r.plural == "namespaces" {
        if matches!(name, "default" | "kube-system" | "kube-public") {
            return Err(ApiError::new(
                403,
                "Forbidden",
                format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"),
            ));
        }
        let mut obj = (*old).clone();
        if obj["metadata"]["deletionTimestamp"].is_null() {
            obj["metadata"]["deletionTimestamp"] = util::now().into();
        }
        obj["status"]["phase"] = "Terminating".into();
        return cluster.store.replace(&key, obj, None);
    }
    if orphan {
        let uid = old["metadata"]["uid"].clone();
        for (dk, dep) in cluster.store.all() {
            let refs = dep["metadata"]["ownerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if refs.iter().any(|o| o["uid"] == uid) {
                let mut d = (*dep).clone();
                d["metadata"]["ownerReferences"] =
                    refs.into_iter().filter(|o| o["uid"] != uid).collect();
                let _ = cluster.store.replace(&dk, d, None);
            }
        }
    }
    let gone = cluster
        .store
        .delete(&key, ns_of(&old), name)
        .ok_or_else(|| ApiError::not_found(&r.group, &r.plural, name))?;
    Ok(gone)
}

/// Internal write by a controller: replace with the given object, ignoring conflicts.
pub fn put_internal(
    cluster: &Cluster,
    group: &str,
    plural: &str,
    obj: Value,
) -> Option<Arc<Value>> {
    cluster.store.replace(&key(group, plural), obj, None).ok()
}

/// Internal create by a controller, through admission (so controller-made Pods get injected).
pub fn create_internal(
    cluster: &Cluster,
    group: &str,
    plural: &str,
    obj: Value,
) -> Option<Arc<Value>> {
    let ns = ns_of(&obj).to_string();
    match try_create_internal(cluster, group, plural, obj) {
        Ok(o) => Some(o),
        Err(e) => {
            if e.code != 409 {
                eprintln!("controller: create {plural} in {ns}: {}", e.message);
            }
            None
        }
    }
}

/// [`create_internal`] with admission's answer, for a controller that reports it (the
/// ReplicaSet controller's `FailedCreate` when a webhook rejects its Pod).
pub fn try_create_internal(
    cluster: &Cluster,
    group: &str,
    plural: &str,
    obj: Value,
) -> Result<Arc<Value>, ApiError> {
    let r = cluster
        .resource(group, plural)
        .ok_or_else(ApiError::no_resource)?;
    let ns = ns_of(&obj).to_string();
    create(cluster, &r, &ns, obj, false)
}
