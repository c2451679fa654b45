//! The world daemon: its loopback prefix, its clusters, and the control API (CONTRACT.md).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};

use super::cluster::Cluster;
use super::util;
use crate::control::{ClusterSpec, TunnelRequest, WorldInfo};
use crate::knobs::Knobs;

pub struct World {
    pub dir: PathBuf,
    /// 127.X.Y
    pub prefix: [u8; 3],
    clusters: Mutex<BTreeMap<String, Arc<Cluster>>>,
    /// Addresses handed out: node IPs from .2 up, ingress IPs from .100 up.
    ips: Mutex<Ips>,
}

#[derive(Default)]
struct Ips {
    next_node: u8,
    next_lb: u8,
    lb: HashMap<(String, String, String), Ipv4Addr>,
}

impl World {
    pub fn new(dir: PathBuf) -> World {
        let r = util::rand_u64();
        let x = 1 + (r % 254) as u8;
        let y = 1 + ((r >> 8) % 254) as u8;
        World {
            dir,
            prefix: [127, x, y],
            clusters: Mutex::new(BTreeMap::new()),
            ips: Mutex::new(Ips::default()),
        }
    }

    pub fn prefix_string(&self) -> String {
        format!("{}.{}.{}", self.prefix[0], self.prefix[1], self.prefix[2])
    }

    fn addr(&self, last: u8) -> Ipv4Addr {
        Ipv4Addr::new(self.prefix[0], self.prefix[1], self.prefix[2], last)
    }

    /// Knobs as the test last wrote them; defaults when the file is absent or unreadable.
    pub fn knobs(&self) -> Knobs {
        let path = self.dir.join("knobs.yaml");
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => {
                serde_yaml::from_str(&text).unwrap_or_else(|e| {
                    eprintln!("knobs.yaml: {e}; using defaults");
                    Knobs::default()
                })
            }
            _ => Knobs::default(),
        }
    }

    fn next_node_ip(&self) -> Ipv4Addr {
        let mut ips = self.ips.lock().unwrap();
        ips.next_node = ips.next_node.max(2);
        let ip = self.addr(ips.next_node);
        ips.next_node = (ips.next_node + 1).min(99);
        ip
    }

    /// The ingress address of a LoadBalancer Service, stable for the world's lifetime.
    pub fn lb_ip(&self, profile: &str, ns: &str, name: &str) -> Ipv4Addr {
        let mut ips = self.ips.lock().unwrap();
        let k = (profile.to_string(), ns.to_string(), name.to_string());
        if let Some(ip) = ips.lb.get(&k) {
            return *ip;
        }
        ips.next_lb = ips.next_lb.max(100);
        let ip = self.addr(ips.next_lb);
        ips.next_lb = ips.next_lb.saturating_add(1).min(254);
        ips.lb.insert(k, ip);
        ip
    }

    pub fn cluster(&self, profile: &str) -> Option<Arc<Cluster>> {
        self.clusters.lock().unwrap().get(profile).cloned()
    }
}

pub fn router(world: Arc<World>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/clusters", get(list_clusters))
        .route(
            "/clusters/{p}",
            get(get_cluster).put(put_cluster).delete(delete_cluster),
        )
        .route("/clusters/{p}/stop", post(stop_cluster))
        .route(
            "/clusters/{p}/tunnel",
            put(put_tunnel).delete(delete_tunnel).get(get_tunnel),
        )
        .route("/clusters/{p}/requests", get(requests))
        .route("/clusters/{p}/backends", get(get_backends))
        .with_state(world)
}

type W = State<Arc<World>>;

fn not_found(p: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("no cluster {p}\n")).into_response()
}

async fn list_clusters(State(w): W) -> Response {
    let all: Vec<_> = w
        .clusters
        .lock()
        .unwrap()
        .values()
        .map(|c| c.info())
        .collect();
    Json(all).into_response()
}

async fn get_cluster(State(w): W, Path(p): Path<String>) -> Response {
    match w.cluster(&p) {
        Some(c) => Json(c.info()).into_response(),
        None => not_found(&p),
    }
}

async fn put_cluster(
    State(w): W,
    Path(p): Path<String>,
    Json(spec): Json<ClusterSpec>,
) -> Response {
    let existing = w.cluster(&p);
    let cluster = match existing {
        Some(c) => c,
        None => {
            let mut spec = spec;
            if spec.service_cidr.is_empty() {
                spec.service_cidr = "10.96.0.0/12".into();
            }
            let node_ip = w.next_node_ip();
            let c = match Cluster::new(w.clone(), &p, spec, node_ip) {
                Ok(c) => c,
                Err(e) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}\n")).into_response();
                }
            };
            w.clusters.lock().unwrap().insert(p.clone(), c.clone());
            c
        }
    };
    match cluster.start().await {
        Ok(()) => Json(cluster.info()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}\n")).into_response(),
    }
}

async fn stop_cluster(State(w): W, Path(p): Path<String>) -> Response {
    match w.cluster(&p) {
        Some(c) => {
            c.stop();
            Json(c.info()).into_response()
        }
        None => not_found(&p),
    }
}

async fn delete_cluster(State(w): W, Path(p): Path<String>) -> Response {
    let removed = w.clusters.lock().unwrap().remove(&p);
    if let Some(c) = removed {
        c.stop();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn put_tunnel(State(w): W, Path(p): Path<String>, Json(t): Json<TunnelRequest>) -> Response {
    let Some(c) = w.cluster(&p) else {
        return not_found(&p);
    };
    if !c.is_running() {
        return (
            StatusCode::CONFLICT,
            format!("cluster {p} is not running\n"),
        )
            .into_response();
    }
    *c.tunnel.lock().unwrap() = Some(t);
    let exposed = super::controllers::services::patch_addresses(&c);
    c.settle().await;
    c.reconcile_now().await;
    Json(exposed).into_response()
}

async fn get_tunnel(State(w): W, Path(p): Path<String>) -> Response {
    let Some(c) = w.cluster(&p) else {
        return not_found(&p);
    };
    // A dead tunnel is no tunnel, though its registration (and addresses) stay.
    let t = c
        .tunnel
        .lock()
        .unwrap()
        .clone()
        .filter(|t| super::util::pid_alive(t.pid));
    Json(t).into_response()
}

async fn delete_tunnel(State(w): W, Path(p): Path<String>) -> Response {
    if let Some(c) = w.cluster(&p) {
        *c.tunnel.lock().unwrap() = None;
        super::controllers::services::withdraw_addresses(&c);
        c.settle().await;
        c.reconcile_now().await;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn get_backends(State(w): W, Path(p): Path<String>) -> Response {
    match w.cluster(&p) {
        Some(c) => Json(c.backends.lock().unwrap().clone()).into_response(),
        None => not_found(&p),
    }
}

async fn requests(State(w): W, Path(p): Path<String>) -> Response {
    match w.cluster(&p) {
        Some(c) => Json(c.requests()).into_response(),
        None => not_found(&p),
    }
}

pub fn world_info(world: &World, port: u16) -> WorldInfo {
    WorldInfo {
        control: format!("http://127.0.0.1:{port}"),
        pid: std::process::id(),
        loopback_prefix: world.prefix_string(),
    }
}
