//! `method: manifest`: the rendered manifest applied through kube-rs, in the order a careful
//! person would use — CRDs first and wait until each is Established, then namespaces, then the
//! rest — and then wait for the Deployments, as istioctl would. Kinds are resolved through
//! discovery (a 1.15 server has only `v1beta1` CRDs and webhooks); server-side apply where the
//! server has it (1.16+), create/replace before.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope};
use kube::runtime::wait::await_condition;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::install::MeshProgress;
use crate::error::{ExitKind, Failure};

const FIELD_MANAGER: &str = "meshup";

fn documents(text: &str) -> anyhow::Result<Vec<Value>> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(doc)?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

fn gvk(o: &Value) -> Option<GroupVersionKind> {
    let (g, v) = match o["apiVersion"].as_str()?.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), o["apiVersion"].as_str()?.to_string()),
    };
    Some(GroupVersionKind::gvk(&g, &v, o["kind"].as_str()?))
}

fn label(o: &Value) -> String {
    let ns = o["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = o["metadata"]["name"].as_str().unwrap_or_default();
    let kind = o["kind"].as_str().unwrap_or_default();
    if ns.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{ns}/{name}")
    }
}

fn mesh_failure(msg: String) -> anyhow::Error {
    Failure::new(ExitKind::Mesh, msg).into()
}

async fn api_for(
    client: &kube::Client,
    o: &Value,
) -> anyhow::Result<(Api<DynamicObject>, ApiResource)> {
    let gvk = gvk(o).ok_or_else(|| mesh_failure(format!("{}: no apiVersion/kind", label(o))))?;
    let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|e| {
            mesh_failure(format!(
                "the cluster does not serve {} {} ({}): {e}",
                gvk.kind,
                o["apiVersion"].as_str().unwrap_or_default(),
                label(o)
            ))
        })?;
    let api = if caps.scope == Scope::Namespaced {
        let ns = o["metadata"]["namespace"]
            .as_str()
            .unwrap_or("istio-system");
        Api::namespaced_with(client.clone(), ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    Ok((api, ar))
}

async fn apply_one(client: &kube::Client, o: &Value, server_side: bool) -> anyhow::Result<()> {
    let (api, ar) = api_for(client, o).await?;
    let name = o["metadata"]["name"].as_str().unwrap_or_default();
    let mut obj: DynamicObject = serde_json::from_value(o.clone())?;
    obj.types = Some(kube::core::TypeMeta {
        api_version: ar.api_version.clone(),
        kind: ar.kind.clone(),
    });
    let fail = |e: kube::Error| mesh_failure(format!("applying {}: {e}", label(o)));
    if server_side {
        api.patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&obj),
        )
        .await
        .map_err(fail)?;
        return Ok(());
    }
    match api.get_opt(name).await.map_err(fail)? {
        None => {
            api.create(&PostParams::default(), &obj)
                .await
                .map_err(fail)?;
        }
        Some(existing) => {
            obj.metadata.resource_version = existing.metadata.resource_version;
            api.replace(name, &PostParams::default(), &obj)
                .await
                .map_err(fail)?;
        }
    }
    Ok(())
}

fn established(o: Option<&DynamicObject>) -> bool {
    o.and_then(|o| o.data["status"]["conditions"].as_array().cloned())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        })
}

fn deployment_available(d: Option<&Deployment>) -> bool {
    d.is_some_and(|d| {
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let st = d.status.clone().unwrap_or_default();
        st.available_replicas.unwrap_or(0) >= want && st.updated_replicas.unwrap_or(0) >= want
    })
}

/// Whether the server has server-side apply (1.16+; research: create/replace before).
async fn server_side_apply(client: &kube::Client) -> anyhow::Result<bool> {
    let v = client.apiserver_version().await?;
    let minor: u64 = v.minor.trim_end_matches('+').parse().unwrap_or(0);
    Ok(minor >= 16)
}

pub async fn apply(
    client: &kube::Client,
    manifest: &str,
    cancel: &CancellationToken,
    progress: &mut dyn MeshProgress,
) -> anyhow::Result<()> {
    apply_within(client, manifest, cancel, progress, Duration::from_secs(600)).await
}

pub async fn apply_within(
    client: &kube::Client,
    manifest: &str,
    cancel: &CancellationToken,
    progress: &mut dyn MeshProgress,
    timeout: Duration,
) -> anyhow::Result<()> {
    let docs = documents(manifest)?;
    let ssa = server_side_apply(client).await?;
    let (crds, rest): (Vec<&Value>, Vec<&Value>) = docs
        .iter()
        .partition(|o| o["kind"] == "CustomResourceDefinition");
    let (namespaces, rest): (Vec<&Value>, Vec<&Value>) =
        rest.into_iter().partition(|o| o["kind"] == "Namespace");
    progress.info(&format!(
        "applying {} CRDs, {} namespaces and {} other objects ({})",
        crds.len(),
        namespaces.len(),
        rest.len(),
        if ssa {
            "server-side apply"
        } else {
            "create/replace: no server-side apply before Kubernetes 1.16"
        }
    ));
    let guarded = |what: String| async move {
        if cancel.is_cancelled() {
            return Err(mesh_failure(format!("stopped before {what}")));
        }
        Ok(())
    };
    for o in &crds {
        guarded(label(o)).await?;
        apply_one(client, o, ssa).await?;
    }
    for o in &crds {
        let (api, _) = api_for(client, o).await?;
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let waited = tokio::select! {
            r = tokio::time::timeout(timeout, await_condition(api, name, established)) => r,
            _ = cancel.cancelled() => return Err(mesh_failure(format!("stopped while waiting for {} to be Established", label(o)))),
        };
        match waited {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(mesh_failure(format!("watching {}: {e}", label(o)))),
            Err(_) => {
                return Err(mesh_failure(format!(
                    "{} was not Established within {}s",
                    label(o),
                    timeout.as_secs()
                )));
            }
        }
    }
    if !crds.is_empty() {
        progress.info(&format!("✔ {} CRDs established", crds.len()));
    }
    for o in namespaces.iter().chain(rest.iter()) {
        guarded(label(o)).await?;
        apply_one(client, o, ssa).await?;
    }
    for o in rest.iter().filter(|o| o["kind"] == "Deployment") {
        let ns = o["metadata"]["namespace"]
            .as_str()
            .unwrap_or("istio-system");
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
        let waited = tokio::select! {
            r = tokio::time::timeout(timeout, await_condition(api, name, deployment_available)) => r,
            _ = cancel.cancelled() => return Err(mesh_failure(format!("stopped while waiting for Deployment/{ns}/{name}"))),
        };
        match waited {
            Ok(Ok(_)) => progress.info(&format!("✔ Deployment/{ns}/{name} available")),
            Ok(Err(e)) => {
                return Err(mesh_failure(format!(
                    "watching Deployment/{ns}/{name}: {e}"
                )));
            }
            Err(_) => {
                return Err(Failure::new(
                    ExitKind::Mesh,
                    format!(
                        "the manifest was applied, but Deployment/{ns}/{name} was not available within {}s",
                        timeout.as_secs()
                    ),
                )
                .hint(format!(
                    "see why: `kubectl --context <profile> -n {ns} get events` (a wrong JWT policy shows as `MountVolume.SetUp failed for volume \"istio-token\"`)"
                ))
                .into());
            }
        }
    }
    Ok(())
}
