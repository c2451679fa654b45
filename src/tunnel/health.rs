//! Which LoadBalancer Services have an address and whether it accepts a connection; and the
//! cleanup of addresses a killed tunnel left behind (research/minikube.md §5: SIGKILL skips
//! minikube's cleanup, so the EXTERNAL-IP stays, issue #6834).

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams, Patch, PatchParams};

use super::state::Served;

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(800);

fn address(svc: &Service) -> Option<String> {
    let ing = svc
        .status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?;
    let first = ing.first()?;
    first.ip.clone().or_else(|| first.hostname.clone())
}

/// The port that says most about the gateway: Istio's status port, else the first.
fn probe_port(svc: &Service) -> Option<u16> {
    let ports = svc.spec.as_ref()?.ports.as_ref()?;
    ports
        .iter()
        .find(|p| p.name.as_deref() == Some("status-port") || matches!(p.port, 15020 | 15021))
        .or_else(|| ports.first())
        .and_then(|p| u16::try_from(p.port).ok())
}

fn is_lb(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

async fn answers(addr: &str, port: u16) -> bool {
    let target = if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    };
    matches!(
        tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(target)).await,
        Ok(Ok(_))
    )
}

/// Every LoadBalancer Service of the cluster, with its address and whether it answers.
pub async fn check(client: &kube::Client) -> anyhow::Result<Vec<Served>> {
    let api: Api<Service> = Api::all(client.clone());
    let list = api.list(&ListParams::default()).await?;
    let mut out = Vec::new();
    for svc in list.items.iter().filter(|s| is_lb(s)) {
        let addr = address(svc);
        let ok = match (&addr, probe_port(svc)) {
            (Some(a), Some(p)) => answers(a, p).await,
            _ => false,
        };
        out.push(Served {
            namespace: svc.metadata.namespace.clone().unwrap_or_default(),
            name: svc.metadata.name.clone().unwrap_or_default(),
            address: addr,
            answers: ok,
        });
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(out)
}

/// Removes every LoadBalancer ingress address (what minikube's clean exit does): after a
/// killed tunnel, before a new one, on stop and down. Returns the Services it cleaned.
pub async fn clear_addresses(client: &kube::Client) -> anyhow::Result<Vec<String>> {
    let all: Api<Service> = Api::all(client.clone());
    let list = all.list(&ListParams::default()).await?;
    // All at once: a restart waits for this.
    let patches = list
        .items
        .iter()
        .filter(|s| is_lb(s) && address(s).is_some())
        .map(|svc| {
            let ns = svc.metadata.namespace.clone().unwrap_or_default();
            let name = svc.metadata.name.clone().unwrap_or_default();
            let api: Api<Service> = Api::namespaced(client.clone(), &ns);
            async move {
                let patch =
                    serde_json::json!({ "status": { "loadBalancer": { "ingress": null } } });
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map(|_| format!("{ns}/{name}"))
            }
        });
    let cleaned = futures::future::try_join_all(patches).await?;
    Ok(cleaned)
}
