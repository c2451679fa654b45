//! The data plane on loopback. Each served LoadBalancer port listens inside the cluster (on
//! 127.0.0.1, an ephemeral port: what SSH mode's `ssh -L` forwards connect to); the ingress
//! address (127.X.Y.Z) itself answers only while the daemon stands in for the route (route
//! mode's route is up, or a direct registration's pid lives). The
//! gateway's status port answers `/healthz/ready`; an HTTP port listens only once an Istio
//! Gateway whose selector matches the gateway Pods' labels has a server on it. A request is
//! routed as Envoy would: the Gateway server's hosts, a bound VirtualService's hosts and
//! `match`, its destination host and port, the Service's port → targetPort, a Ready Pod whose
//! container (by port name or number) has a program listening there — and answered with that
//! program's answer, or Envoy's own: 404 (no route), 503 `no healthy upstream` (no endpoint),
//! 503 `upstream connect error ...` (nothing listens on the target port).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::task::{JoinHandle, JoinSet};

use super::cluster::Cluster;
use super::select::LabelSelector;
use super::store::{key, name_of, ns_of};
use super::workload;
use crate::control::Backend;

#[derive(Default)]
pub struct Listeners {
    /// On the ingress addresses.
    open: HashMap<SocketAddr, JoinHandle<()>>,
    /// The in-cluster side of each served port, on 127.0.0.1 (an ephemeral port).
    backends: HashMap<Target, (SocketAddr, JoinHandle<()>)>,
    /// Aborted listeners not yet dropped by the runtime (their ports may still accept).
    closing: Vec<JoinHandle<()>>,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for h in self
            .open
            .values()
            .chain(self.backends.values().map(|(_, h)| h))
            .chain(self.closing.iter())
        {
            h.abort();
        }
    }
}

fn is_status_port(p: &Value) -> bool {
    p["name"] == "status-port" || matches!(p["port"].as_u64(), Some(15020 | 15021))
}

fn gateways(cluster: &Cluster) -> Vec<Arc<Value>> {
    cluster
        .store
        .list(&key("networking.istio.io", "gateways"), None)
        .0
}

/// The Gateways whose selector matches the labels of a Pod behind this Service (Istio selects
/// gateway workloads by Pod labels, in any namespace) and that have a server on this port
/// (the Service port or its targetPort).
fn gateways_for(cluster: &Cluster, svc: &Value, port: &Value) -> Vec<Arc<Value>> {
    let pods = pods_of(cluster, svc);
    gateways(cluster)
        .into_iter()
        .filter(|g| {
            let sel = &g["spec"]["selector"];
            let selects = sel.as_object().is_some_and(|m| !m.is_empty())
                && pods.iter().any(|p| {
                    sel.as_object()
                        .into_iter()
                        .flatten()
                        .all(|(k, v)| p["metadata"]["labels"].get(k) == Some(v))
                });
            selects && !servers_on(g, port).is_empty()
        })
        .collect()
}

/// A Gateway's servers listening on this Service port.
fn servers_on(g: &Value, port: &Value) -> Vec<Value> {
    let target = port["targetPort"].as_u64();
    g["spec"]["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            let n = s["port"]["number"].as_u64();
            n.is_some() && (n == port["port"].as_u64() || n == target)
        })
        .cloned()
        .collect()
}

impl Listeners {
    /// Wait until aborted listeners are really closed.
    pub async fn finish_closing(&mut self) {
        for handle in self.closing.drain(..) {
            let _ = handle.await;
        }
    }

    pub fn reconcile(&mut self, cluster: &Arc<Cluster>) {
        let served = served_ports(cluster);
        // The ingress addresses, when the daemon itself answers on them (route mode's route,
        // a direct registration); SSH mode's forwards bind them in their own processes.
        let mut desired: HashMap<SocketAddr, Target> = HashMap::new();
        if cluster.serves_addresses() {
            for (ip, target) in &served {
                if let Some(ip) = ip {
                    desired.insert(SocketAddr::from((*ip, target.2)), target.clone());
                }
            }
        }
        let gone: Vec<SocketAddr> = self
            .open
            .keys()
            .filter(|a| !desired.contains_key(a))
            .copied()
            .collect();
        for addr in gone {
            if let Some(handle) = self.open.remove(&addr) {
                handle.abort();
                self.closing.push(handle);
            }
        }
        for (addr, target) in desired {
            if self.open.contains_key(&addr) {
                continue;
            }
            if let Some(handle) = listen(cluster, addr, target) {
                self.open.insert(addr, handle);
            }
        }
        // The in-cluster side, always: what an `ssh -L` forward connects to.
        let wanted: Vec<Target> = served.into_iter().map(|(_, t)| t).collect();
        let stale: Vec<Target> = self
            .backends
            .keys()
            .filter(|k| !wanted.contains(k))
            .cloned()
            .collect();
        for k in stale {
            if let Some((_, handle)) = self.backends.remove(&k) {
                handle.abort();
                self.closing.push(handle);
            }
        }
        for target in wanted {
            if self.backends.contains_key(&target) {
                continue;
            }
            let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            if let Some((addr, handle)) = listen_any(cluster, any, target.clone()) {
                self.backends.insert(target, (addr, handle));
            }
        }
        let mut published: Vec<Backend> = self
            .backends
            .iter()
            .map(|((ns, name, port), (addr, _))| Backend {
                namespace: ns.clone(),
                name: name.clone(),
                cluster_ip: cluster_ip_of(cluster, ns, name),
                port: *port,
                addr: addr.to_string(),
            })
            .collect();
        published
            .sort_by(|a, b| (&a.namespace, &a.name, a.port).cmp(&(&b.namespace, &b.name, b.port)));
        *cluster.backends.lock().unwrap() = published;
    }
}

/// (namespace, name, port) of a Service port the data plane serves.
type Target = (String, String, u16);

/// Every LoadBalancer Service port that answers (status ports, and ports an Istio Gateway
/// serves), with the Service's loopback ingress address if it has one.
fn served_ports(cluster: &Cluster) -> Vec<(Option<Ipv4Addr>, Target)> {
    let mut out = Vec::new();
    let (services, _) = cluster.store.list(&key("", "services"), None);
    for svc in services
        .iter()
        .filter(|s| s["spec"]["type"] == "LoadBalancer")
    {
        let ip = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
            .filter(|ip| ip.octets()[0] == 127);
        for p in svc["spec"]["ports"].as_array().into_iter().flatten() {
            let Some(port) = p["port"].as_u64() else {
                continue;
            };
            if is_status_port(p) || !gateways_for(cluster, svc, p).is_empty() {
                out.push((ip, (ns_of(svc).into(), name_of(svc).into(), port as u16)));
            }
        }
    }
    out
}

fn cluster_ip_of(cluster: &Cluster, ns: &str, name: &str) -> String {
    cluster
        .store
        .get(&key("", "services"), ns, name)
        .and_then(|s| s["spec"]["clusterIP"].as_str().map(String::from))
        .unwrap_or_default()
}

fn listen(cluster: &Arc<Cluster>, addr: SocketAddr, target: Target) -> Option<JoinHandle<()>> {
    listen_any(cluster, addr, target).map(|(_, h)| h)
}

fn listen_any(
    cluster: &Arc<Cluster>,
    addr: SocketAddr,
    (ns, name, port): Target,
) -> Option<(SocketAddr, JoinHandle<()>)> {
    let listener = match std::net::TcpListener::bind(addr).and_then(|l| {
        l.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(l)
    }) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "dataplane {}: cannot listen on {addr}: {e}",
                cluster.profile
            );
            return None;
        }
    };
    let bound = listener.local_addr().ok()?;
    let c = cluster.clone();
    Some((
        bound,
        tokio::spawn(accept_loop(c, listener, ns, name, port)),
    ))
}

async fn accept_loop(
    cluster: Arc<Cluster>,
    listener: tokio::net::TcpListener,
    ns: String,
    name: String,
    port: u16,
) {
    let mut conns = JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        while conns.try_join_next().is_some() {}
        let (c, ns, name) = (cluster.clone(), ns.clone(), name.clone());
        conns.spawn(async move {
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                let resp = respond(&c, &ns, &name, port, &req);
                async move { Ok::<_, std::convert::Infallible>(resp) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

fn envoy(code: u16, content_type: &str, body: String) -> Response<Body> {
    let mut b = Response::builder()
        .status(code)
        .header("server", "istio-envoy")
        .header("content-length", body.len());
    if !body.is_empty() {
        b = b.header("content-type", content_type);
    }
    b.body(Body::from(body)).expect("response")
}

/// An answer from the upstream app, as Envoy forwards it.
fn upstream(a: workload::Answer) -> Response<Body> {
    Response::builder()
        .status(a.code)
        .header("server", "istio-envoy")
        .header("x-envoy-upstream-service-time", "2")
        .header("content-type", a.content_type)
        .header("content-length", a.body.len())
        .body(Body::from(a.body))
        .expect("response")
}

const NO_HEALTHY_UPSTREAM: &str = "no healthy upstream";
const CONNECT_ERROR: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

fn plain(code: u16) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .expect("response")
}

fn pods_of(cluster: &Cluster, svc: &Value) -> Vec<Arc<Value>> {
    let Some(sel) = svc["spec"]["selector"]
        .as_object()
        .filter(|s| !s.is_empty())
    else {
        return vec![];
    };
    let selector = sel
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",");
    let Ok(selector) = LabelSelector::parse(&selector) else {
        return vec![];
    };
    let (pods, _) = cluster.store.list(&key("", "pods"), Some(ns_of(svc)));
    pods.into_iter()
        .filter(|p| selector.matches(&p["metadata"]["labels"]))
        .collect()
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn respond<B>(
    cluster: &Cluster,
    ns: &str,
    name: &str,
    port: u16,
    req: &Request<B>,
) -> Response<Body> {
    let Some(svc) = cluster.store.get(&key("", "services"), ns, name) else {
        return plain(503);
    };
    let Some(port_spec) = svc["spec"]["ports"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["port"] == port))
        .cloned()
    else {
        return plain(503);
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    if is_status_port(&port_spec) {
        return match req.uri().path() {
            "/healthz/ready" if pods_of(cluster, &svc).iter().any(|p| ready(p)) => plain(200),
            "/healthz/ready" => plain(503),
            _ => plain(404),
        };
    }
    let host_header = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let host = host_header
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&host_header)
        .to_string();
    let gws = gateways_for(cluster, &svc, &port_spec);
    let Some(dest) = route(cluster, &gws, &port_spec, &host, req.uri().path()) else {
        return envoy(404, "", String::new());
    };
    let mut headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    headers.push(("x-envoy-attempt-count".into(), "1".into()));
    headers.push(("x-forwarded-proto".into(), "http".into()));
    match backend(cluster, &dest) {
        Upstream::NoEndpoint => envoy(503, "text/plain", NO_HEALTHY_UPSTREAM.into()),
        Upstream::Refused => envoy(503, "text/plain", CONNECT_ERROR.into()),
        Upstream::App(app) => upstream(workload::answer(&app, path, &headers)),
    }
}

/// Where a route sends a request: a Service (namespace, name) and the port named in the
/// VirtualService's destination (None: the Service's only port).
struct Destination {
    ns: String,
    name: String,
    port: Option<u64>,
}

enum Upstream {
    /// Envoy's cluster has no endpoint: no such Service or port, no Ready Pod, or a named
    /// targetPort no container declares.
    NoEndpoint,
    /// An endpoint, but nothing listens on its port: the connection is refused.
    Refused,
    App(workload::App),
}

fn backend(cluster: &Cluster, dest: &Destination) -> Upstream {
    let Some(svc) = cluster
        .store
        .get(&key("", "services"), &dest.ns, &dest.name)
    else {
        return Upstream::NoEndpoint;
    };
    let ports: Vec<Value> = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let port = match dest.port {
        Some(n) => ports.iter().find(|p| p["port"].as_u64() == Some(n)),
        None if ports.len() == 1 => ports.first(),
        None => None,
    };
    let Some(port) = port else {
        return Upstream::NoEndpoint;
    };
    let target = if port["targetPort"].is_null() {
        port["port"].clone()
    } else {
        port["targetPort"].clone()
    };
    let mut endpoint_seen = false;
    for pod in pods_of(cluster, &svc).iter().filter(|p| ready(p)) {
        let containers: Vec<Value> = pod["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // The endpoint's port: a number as is, a name through the containers' declared ports.
        let number = match &target {
            Value::Number(n) => n.as_u64(),
            Value::String(name) => containers.iter().find_map(|c| {
                c["ports"].as_array().into_iter().flatten().find_map(|p| {
                    (p["name"].as_str() == Some(name.as_str()))
                        .then(|| p["containerPort"].as_u64())
                        .flatten()
                })
            }),
            _ => None,
        };
        let Some(number) = number else {
            continue;
        };
        endpoint_seen = true;
        if let Some(app) = containers.iter().find_map(|c| {
            workload::listening(c).and_then(|(p, app)| (u64::from(p) == number).then_some(app))
        }) {
            return Upstream::App(app);
        }
    }
    if endpoint_seen {
        Upstream::Refused
    } else {
        Upstream::NoEndpoint
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.rsplit_once('/').map(|(_, h)| h).unwrap_or(pattern);
    pattern == "*"
        || pattern == host
        || pattern
            .strip_prefix('*')
            .is_some_and(|suffix| host.ends_with(suffix))
}

fn strs(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// The destination a VirtualService bound to one of these Gateways gives this host and path:
/// the Gateway must have a server on this port whose hosts take the host, the VirtualService's
/// hosts must take it, and the first `http` entry whose `match` fits decides.
fn route(
    cluster: &Cluster,
    gws: &[Arc<Value>],
    port: &Value,
    host: &str,
    path: &str,
) -> Option<Destination> {
    let (vss, _) = cluster
        .store
        .list(&key("networking.istio.io", "virtualservices"), None);
    let gw_port = port["port"].as_u64();
    for vs in vss {
        let vs_ns = ns_of(&vs);
        let bound = strs(&vs["spec"]["gateways"]).any(|r| {
            gws.iter().any(|g| {
                let named = r == format!("{}/{}", ns_of(g), name_of(g))
                    || (r == name_of(g) && vs_ns == ns_of(g));
                named
                    && servers_on(g, port)
                        .iter()
                        .any(|s| strs(&s["hosts"]).any(|h| host_matches(h, host)))
            })
        });
        let hosts_ok = strs(&vs["spec"]["hosts"]).any(|h| host_matches(h, host));
        if !bound || !hosts_ok {
            continue;
        }
        for http in vs["spec"]["http"].as_array().into_iter().flatten() {
            let matches = match http["match"].as_array() {
                None => true,
                Some(ms) if ms.is_empty() => true,
                Some(ms) => ms.iter().any(|m| {
                    uri_matches(&m["uri"], path)
                        && (m["port"].is_null() || m["port"].as_u64() == gw_port)
                }),
            };
            if !matches {
                continue;
            }
            let d = &http["route"][0]["destination"];
            let dest = d["host"].as_str()?;
            let mut parts = dest.split('.');
            let name = parts.next()?.to_string();
            let ns = parts.next().unwrap_or(vs_ns).to_string();
            return Some(Destination {
                ns,
                name,
                port: d["port"]["number"].as_u64(),
            });
        }
    }
    None
}

fn uri_matches(uri: &Value, path: &str) -> bool {
    if uri.is_null() {
        return true;
    }
    if let Some(p) = uri["prefix"].as_str() {
        return path.starts_with(p);
    }
    if let Some(e) = uri["exact"].as_str() {
        return path == e;
    }
    if let Some(r) = uri["regex"].as_str() {
        return regex::Regex::new(&format!("^(?:{r})$")).is_ok_and(|re| re.is_match(path));
    }
    true
}
