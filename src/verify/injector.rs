//! When the sidecar injector of the Istio being installed answers: its
//! MutatingWebhookConfiguration exists (`istio-sidecar-injector`, `-<rev>` with a revision;
//! research/istio.md §6.4) and the Service it calls has a Ready Pod running that Istio's tag.
//! Before that, a Pod created in an injection-enabled namespace is refused (`failurePolicy:
//! Fail`) or, with no webhook yet, admitted without a sidecar. An injector of an older install
//! (being replaced by `--recreate-mesh`) does not count: its tag differs.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::conditions::pod_ready;
use super::watch;
use crate::compat::version::Version;
use crate::scenario::model::Mesh;

/// Which injector to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// `--set revision=R`.
    pub revision: Option<String>,
    /// The image tag's version part: `--set tag=` (or `values.global.tag`), else the Istio
    /// version being installed.
    pub tag: String,
}

impl Expected {
    pub fn of(mesh: &Mesh, istio: &Version) -> Expected {
        let set = |k: &str| mesh.set.get(k).filter(|v| !v.is_empty()).cloned();
        Expected {
            revision: set("revision"),
            tag: version_part(
                &set("tag")
                    .or_else(|| set("values.global.tag"))
                    .unwrap_or_else(|| istio.to_string()),
            ),
        }
    }

    pub fn webhook(&self) -> String {
        match &self.revision {
            Some(r) => format!("istio-sidecar-injector-{r}"),
            None => "istio-sidecar-injector".to_owned(),
        }
    }
}

/// `1.22.0-distroless` → `1.22.0`.
fn version_part(tag: &str) -> String {
    tag.split('-').next().unwrap_or(tag).to_owned()
}

/// The injector that answered.
#[derive(Debug, Clone)]
pub struct Injector {
    pub webhook: String,
    /// `namespace/name` of the Service the webhook calls.
    pub service: String,
    /// The Ready Pod behind it.
    pub pod: String,
    pub revision: Option<String>,
}

/// The Service a webhook configuration's injector calls: (namespace, name).
pub fn webhook_service(mwc: Option<&Value>, name: &str) -> Result<(String, String), String> {
    let mwc = mwc.ok_or_else(|| format!("no MutatingWebhookConfiguration {name} yet"))?;
    mwc["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|w| {
            let svc = &w["clientConfig"]["service"];
            Some((
                svc["namespace"].as_str()?.to_owned(),
                svc["name"].as_str()?.to_owned(),
            ))
        })
        .ok_or_else(|| format!("{name} calls no in-cluster service"))
}

/// A Service's selector as a label selector (`app=istiod,istio=pilot`).
pub fn service_selector(svc: Option<&Service>, name: &str) -> Result<String, String> {
    let svc = svc.ok_or_else(|| format!("no Service {name} yet"))?;
    let sel = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("Service {name} selects no pods"))?;
    Ok(sel
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(","))
}

/// The first Ready Pod whose first container runs the expected tag.
pub fn ready_pod(pods: &[Pod], tag: &str, service: &str) -> Result<String, String> {
    let tagged: Vec<&Pod> = pods
        .iter()
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.as_deref())
                .and_then(|i| i.rsplit('/').next())
                .and_then(|i| i.split_once(':'))
                .is_some_and(|(_, t)| version_part(t) == tag)
        })
        .collect();
    if let Some(p) = tagged.iter().find(|p| pod_ready(p)) {
        return Ok(p.metadata.name.clone().unwrap_or_default());
    }
    Err(match (pods.len(), tagged.len()) {
        (0, _) => format!("no pod behind {service} yet"),
        (n, 0) => format!("{n} pod(s) behind {service}, none running Istio {tag}"),
        (_, n) => format!("{n} pod(s) of Istio {tag} behind {service}, none Ready yet"),
    })
}

/// Waits (watches, each bounded by `within`) for the injector, then its Service, then a Ready
/// Pod of it.
pub async fn wait_ready(
    client: &kube::Client,
    expected: &Expected,
    within: Duration,
) -> Result<Injector, String> {
    let name = expected.webhook();
    let mwcs = webhook_api(client).await?;
    let n = name.clone();
    let (ns, svc_name) = watch::until(&mwcs, &name, within, move |o: Option<&DynamicObject>| {
        let v = o.and_then(|o| serde_json::to_value(o).ok());
        webhook_service(v.as_ref(), &n)
    })
    .await?;
    let service = format!("{ns}/{svc_name}");
    let svcs: Api<Service> = Api::namespaced(client.clone(), &ns);
    let s = service.clone();
    let selector = watch::until(&svcs, &svc_name, within, move |o: Option<&Service>| {
        service_selector(o, &s)
    })
    .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pod = watch::until_listed(&pods, &selector, within, |all: &[Pod]| {
        ready_pod(all, &expected.tag, &service)
    })
    .await?;
    Ok(Injector {
        webhook: name,
        service,
        pod: format!("{ns}/{pod}"),
        revision: expected.revision.clone(),
    })
}

/// What is missing now, read once (for a failure after the waits were given up).
pub async fn missing_now(client: &kube::Client, expected: &Expected) -> String {
    let name = expected.webhook();
    let outcome = async {
        let mwcs = webhook_api(client).await?;
        let mwc = mwcs.get_opt(&name).await.map_err(|e| e.to_string())?;
        let v = mwc.and_then(|o| serde_json::to_value(o).ok());
        let (ns, svc_name) = webhook_service(v.as_ref(), &name)?;
        let service = format!("{ns}/{svc_name}");
        let svcs: Api<Service> = Api::namespaced(client.clone(), &ns);
        let svc = svcs.get_opt(&svc_name).await.map_err(|e| e.to_string())?;
        let selector = service_selector(svc.as_ref(), &service)?;
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let list = pods
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| e.to_string())?;
        ready_pod(&list.items, &expected.tag, &service).map(|_| String::new())
    };
    match outcome.await {
        Ok(_) => "nothing: it has just become ready".to_owned(),
        Err(m) => m,
    }
}

/// MutatingWebhookConfigurations in the version this API server serves (v1beta1 on 1.15, v1
/// from 1.16; DESIGN.md "Version-dependent API").
pub async fn webhook_api(client: &kube::Client) -> Result<Api<DynamicObject>, String> {
    let group = kube::discovery::group(client, "admissionregistration.k8s.io")
        .await
        .map_err(|e| format!("cannot discover admissionregistration.k8s.io: {e}"))?;
    let (ar, _) = group
        .recommended_kind("MutatingWebhookConfiguration")
        .ok_or("the API server serves no MutatingWebhookConfiguration")?;
    Ok(Api::all_with(client.clone(), &ar))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, image: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "discovery", "image": image}]},
            "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
        }))
        .unwrap()
    }

    #[test]
    fn the_webhook_names_its_service() {
        let mwc = json!({"webhooks": [{"name": "sidecar-injector.istio.io",
            "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system", "path": "/inject"}}}]});
        assert_eq!(
            webhook_service(Some(&mwc), "istio-sidecar-injector").unwrap(),
            ("istio-system".to_owned(), "istiod".to_owned())
        );
        assert_eq!(
            webhook_service(None, "istio-sidecar-injector").unwrap_err(),
            "no MutatingWebhookConfiguration istio-sidecar-injector yet"
        );
        let url_only = json!({"webhooks": [{"clientConfig": {"url": "https://x/inject"}}]});
        assert!(webhook_service(Some(&url_only), "w").is_err());
    }

    #[test]
    fn only_a_ready_pod_of_the_expected_tag_counts() {
        let svc = "istio-system/istiod";
        assert_eq!(
            ready_pod(&[], "1.5.0", svc).unwrap_err(),
            "no pod behind istio-system/istiod yet"
        );
        let old = pod("istiod-old", "docker.io/istio/pilot:1.4.6", true);
        assert_eq!(
            ready_pod(std::slice::from_ref(&old), "1.5.0", svc).unwrap_err(),
            "1 pod(s) behind istio-system/istiod, none running Istio 1.5.0"
        );
        let starting = pod("istiod-new", "docker.io/istio/pilot:1.5.0", false);
        assert_eq!(
            ready_pod(&[old.clone(), starting], "1.5.0", svc).unwrap_err(),
            "1 pod(s) of Istio 1.5.0 behind istio-system/istiod, none Ready yet"
        );
        let ready = pod(
            "istiod-new",
            "gcr.io/istio-release/pilot:1.5.0-distroless",
            true,
        );
        assert_eq!(
            ready_pod(&[old, ready], "1.5.0", svc).unwrap(),
            "istiod-new"
        );
    }

    #[test]
    fn the_expected_injector_follows_revision_and_tag_overrides() {
        let istio: Version = "1.22.3".parse().unwrap();
        let mut mesh = Mesh {
            istio: crate::scenario::model::IstioSpec::Auto,
            profile: "default".into(),
            set: Default::default(),
            jwt_policy: crate::scenario::model::JwtPolicy::Auto,
            method: crate::scenario::model::Method::Istioctl,
        };
        assert_eq!(
            Expected::of(&mesh, &istio),
            Expected {
                revision: None,
                tag: "1.22.3".into()
            }
        );
        mesh.set.insert("revision".into(), "canary".into());
        mesh.set.insert("tag".into(), "1.22.3-distroless".into());
        let e = Expected::of(&mesh, &istio);
        assert_eq!(e.webhook(), "istio-sidecar-injector-canary");
        assert_eq!(e.tag, "1.22.3");
    }
}
