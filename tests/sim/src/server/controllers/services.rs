//! LoadBalancer Services: no ingress until a tunnel is registered, then an address from the
//! world's loopback prefix (stable for the world's lifetime), withdrawn with the tunnel.

use serde_json::{Value, json};

use crate::control::ExposedService;
use crate::server::cluster::Cluster;
use crate::server::ops;
use crate::server::store::{key, name_of, ns_of};

/// Bring every LoadBalancer Service's `status.loadBalancer` in line with the tunnel; returns
/// what is exposed.
pub fn sync_load_balancers(cluster: &Cluster) -> Vec<ExposedService> {
    let tunnel = cluster.tunnel.lock().unwrap().is_some() && cluster.is_running();
    let (services, _) = cluster.store.list(&key("", "services"), None);
    let mut exposed = Vec::new();
    for svc in services
        .iter()
        .filter(|s| s["spec"]["type"] == "LoadBalancer")
    {
        let (ns, name) = (ns_of(svc), name_of(svc));
        let want: Value = if tunnel {
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
            json!({"ingress": [{"ip": ip.to_string()}]})
        } else {
            json!({})
        };
        if svc["status"]["loadBalancer"] != want {
            let mut s = (**svc).clone();
            s["status"]["loadBalancer"] = want;
            ops::put_internal(cluster, "", "services", s);
        }
    }
    exposed
}
