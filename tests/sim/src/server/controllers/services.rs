//! LoadBalancer Services' ingress addresses. No controller assigns them: like the real
//! `minikube tunnel`, the running tunnel process patches them on each poll (`PUT .../tunnel`),
//! so a killed tunnel leaves its addresses behind (stale) and a Service created after the kill
//! stays pending until a tunnel runs again (research/minikube.md §5, "Shutdown and orphans").
//! A cleanly stopped tunnel withdraws them (`DELETE .../tunnel`). Addresses come from the
//! world's loopback prefix, stable per Service for the world's lifetime.

use serde_json::{Value, json};

use crate::control::ExposedService;
use crate::server::cluster::Cluster;
use crate::server::ops;
use crate::server::store::{key, name_of, ns_of};

fn lb_services(cluster: &Cluster) -> Vec<std::sync::Arc<Value>> {
    let (services, _) = cluster.store.list(&key("", "services"), None);
    services
        .into_iter()
        .filter(|s| s["spec"]["type"] == "LoadBalancer")
        .collect()
}

fn set_load_balancer(cluster: &Cluster, svc: &Value, want: Value) {
    if svc["status"]["loadBalancer"] != want {
        let mut s = svc.clone();
        s["status"]["loadBalancer"] = want;
        ops::put_internal(cluster, "", "services", s);
    }
}

/// A tunnel's poll: give every LoadBalancer Service that exists now its address; returns
/// what is exposed.
pub fn patch_addresses(cluster: &Cluster) -> Vec<ExposedService> {
    let mut exposed = Vec::new();
    for svc in lb_services(cluster) {
        let (ns, name) = (ns_of(&svc), name_of(&svc));
        let ip = cluster.world.lb_ip(&cluster.profile, ns, name);
        exposed.push(ExposedService {
            namespace: ns.into(),
            name: name.into(),
            ip: ip.to_string(),
            ports: svc["spec"]["ports"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| p["port"].as_u64())
                        .map(|p| p as u16)
                        .collect()
                })
                .unwrap_or_default(),
        });
        set_load_balancer(cluster, &svc, json!({"ingress": [{"ip": ip.to_string()}]}));
    }
    exposed
}

/// A tunnel's clean exit (or anyone clearing stale addresses): every ingress goes.
pub fn withdraw_addresses(cluster: &Cluster) {
    for svc in lb_services(cluster) {
        set_load_balancer(cluster, &svc, json!({}));
    }
}
