//! One emulated cluster: its PKI, object store, API server listener, controllers and tunnel
//! state. A stopped cluster keeps its objects; starting it again serves them on the same port.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::certs::Pki;
use super::daemon::World;
use super::resources::{self, Resource};
use super::store::{Store, key};
use super::util;
use crate::control::{
    Backend, ClusterInfo, ClusterSpec, ClusterState, RequestCount, TunnelRequest, Via,
};
use crate::knobs::ClusterKnobs;

/// (verb, resource, namespace)
type RequestKey = (String, String, Option<String>);

pub struct Cluster {
    pub profile: String,
    pub world: Arc<World>,
    pub spec: Mutex<ClusterSpec>,
    pub pki: Pki,
    pub node_ip: Ipv4Addr,
    pub store: Store,
    /// The API server's port, kept across stop/start.
    pub port: Mutex<Option<u16>>,
    running: Mutex<Option<Running>>,
    /// The tunnel that last patched addresses (kept after a SIGKILL: nothing tells the
    /// cluster a tunnel died; its liveness is its pid's).
    pub tunnel: Mutex<Option<TunnelRequest>>,
    /// Where each served LoadBalancer port listens inside the cluster (for `ssh -L`).
    pub backends: Mutex<Vec<Backend>>,
    /// Wakes the controllers when something outside the store changed (a route, a tunnel).
    pub kick: tokio::sync::Notify,
    /// Controller passes completed (so a kick can be waited for).
    passes: tokio::sync::watch::Sender<u64>,
    requests: Mutex<BTreeMap<RequestKey, u64>>,
    pub started_at: Mutex<Instant>,
    /// The store's resourceVersion the controllers (and data plane) last caught up with.
    processed: tokio::sync::watch::Sender<u64>,
}

struct Running {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Cluster {
    pub fn new(
        world: Arc<World>,
        profile: &str,
        spec: ClusterSpec,
        node_ip: Ipv4Addr,
    ) -> anyhow::Result<Arc<Cluster>> {
        let knobs = world.knobs().cluster;
        let cluster = Arc::new(Cluster {
            profile: profile.to_string(),
            world,
            spec: Mutex::new(spec),
            pki: Pki::generate(node_ip)?,
            node_ip,
            store: Store::new(knobs.watch_history.unwrap_or(1000)),
            port: Mutex::new(None),
            running: Mutex::new(None),
            tunnel: Mutex::new(None),
            backends: Mutex::new(Vec::new()),
            kick: tokio::sync::Notify::new(),
            passes: tokio::sync::watch::channel(0).0,
            requests: Mutex::new(BTreeMap::new()),
            started_at: Mutex::new(Instant::now()),
            processed: tokio::sync::watch::channel(0).0,
        });
        super::seed::seed(&cluster);
        Ok(cluster)
    }

    pub fn knobs(&self) -> ClusterKnobs {
        self.world.knobs().cluster
    }

    pub fn version(&self) -> String {
        self.spec.lock().unwrap().kubernetes_version.clone()
    }

    pub fn minor(&self) -> u32 {
        util::minor_of(&self.version())
    }

    pub fn node_name(&self) -> String {
        self.profile.clone()
    }

    pub fn is_running(&self) -> bool {
        self.running.lock().unwrap().is_some()
    }

    /// Serve the API and run the controllers.
    pub async fn start(self: &Arc<Self>) -> anyhow::Result<()> {
        if self.is_running() {
            return Ok(());
        }
        *self.started_at.lock().unwrap() = Instant::now();
        if let Some(cap) = self.knobs().watch_history {
            self.store.set_history_cap(cap);
        }
        let (listener, port) = super::listener::bind(*self.port.lock().unwrap())?;
        *self.port.lock().unwrap() = Some(port);
        let api = tokio::spawn(super::listener::serve(self.clone(), listener));
        let controllers = tokio::spawn(super::controllers::run(self.clone()));
        *self.running.lock().unwrap() = Some(Running {
            tasks: vec![api, controllers],
        });
        Ok(())
    }

    /// Stop serving, objects kept. Ingress addresses stay in the store, as in etcd: only a
    /// live tunnel removes them (it notices the stop on its next poll and cleans up).
    pub fn stop(self: &Arc<Self>) {
        self.running.lock().unwrap().take();
        *self.tunnel.lock().unwrap() = None;
        self.backends.lock().unwrap().clear();
    }

    /// Called by the controllers after each pass over the store at this resourceVersion.
    pub fn mark_processed(&self, rv: u64) {
        self.processed.send_replace(rv);
        self.passes.send_modify(|n| *n += 1);
    }

    /// Run the controllers once more (something outside the store changed) and wait
    /// (bounded) for that pass, so the caller returns with listeners bound or closed.
    pub async fn reconcile_now(&self) {
        if !self.is_running() {
            return;
        }
        let mut rx = self.passes.subscribe();
        let seen = *rx.borrow_and_update();
        self.kick.notify_one();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            rx.wait_for(|n| *n > seen),
        )
        .await;
    }

    /// Is this cluster's route in the world's host routing table (`host/routes`, written by
    /// the fake tunnel's `sudo ip route add`)? A kernel route outlives a SIGKILLed tunnel.
    pub fn route_up(&self) -> bool {
        let node = self.node_ip.to_string();
        std::fs::read_to_string(self.world.dir.join("host").join("routes"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .any(|f| f.len() == 4 && f[1] == node && f[2] == self.profile)
    }

    /// Does the daemon itself answer on the ingress addresses? Route mode: while the route
    /// is up; SSH mode: never (the forwards do); a direct registration: while its pid lives.
    pub fn serves_addresses(&self) -> bool {
        let direct = matches!(
            *self.tunnel.lock().unwrap(),
            Some(TunnelRequest { pid, via: Via::Direct }) if util::pid_alive(pid)
        );
        direct || self.route_up()
    }

    /// Wait (bounded) until the controllers have reacted to everything written so far, so a
    /// control API call returns with its effects in place (listeners bound or closed).
    pub async fn settle(&self) {
        if !self.is_running() {
            return;
        }
        let target = self.store.resource_version();
        let mut rx = self.processed.subscribe();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            rx.wait_for(|rv| *rv >= target),
        )
        .await;
    }

    /// Is `serviceaccounts/token` (TokenRequest) served? minikube enables it from 1.20 on.
    pub fn serves_token_request(&self) -> bool {
        self.knobs()
            .service_account_token
            .unwrap_or(self.minor() >= 20)
    }

    /// Built-in resources of this version, plus those of every Established CRD.
    pub fn resources(&self) -> Vec<Resource> {
        let minor = self.minor();
        let mut all = resources::builtin(minor, self.serves_token_request());
        let (crds, _) = self.store.list(
            &key("apiextensions.k8s.io", "customresourcedefinitions"),
            None,
        );
        for crd in crds {
            let established = crd["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Established" && c["status"] == "True")
            });
            if established {
                all.extend(resources::from_crd(&crd));
            }
        }
        all
    }

    /// The preferred-version resource for a group + plural (what internal writers use).
    pub fn resource(&self, group: &str, plural: &str) -> Option<Resource> {
        let all = self.resources();
        let mut mine: Vec<Resource> = all
            .into_iter()
            .filter(|r| r.group == group && r.plural == plural)
            .collect();
        mine.sort_by_key(|r| std::cmp::Reverse(resources::version_rank(&r.version)));
        mine.into_iter().next()
    }

    pub fn count(&self, verb: &str, resource: &str, namespace: Option<&str>) {
        let mut r = self.requests.lock().unwrap();
        *r.entry((
            verb.to_string(),
            resource.to_string(),
            namespace.map(String::from),
        ))
        .or_default() += 1;
    }

    pub fn requests(&self) -> Vec<RequestCount> {
        let r = self.requests.lock().unwrap();
        r.iter()
            .map(|((verb, resource, namespace), count)| RequestCount {
                verb: verb.clone(),
                resource: resource.clone(),
                namespace: namespace.clone(),
                count: *count,
            })
            .collect()
    }

    pub fn info(&self) -> ClusterInfo {
        let running = self.is_running();
        ClusterInfo {
            profile: self.profile.clone(),
            spec: self.spec.lock().unwrap().clone(),
            state: if running {
                ClusterState::Running
            } else {
                ClusterState::Stopped
            },
            server: self
                .port
                .lock()
                .unwrap()
                .filter(|_| running)
                .map(|p| format!("https://127.0.0.1:{p}")),
            ca_pem: self.pki.ca_pem.clone(),
            client_cert_pem: self.pki.client_cert_pem.clone(),
            client_key_pem: self.pki.client_key_pem.clone(),
            node_ip: self.node_ip.to_string(),
        }
    }

    /// Namespace object, if it exists.
    pub fn namespace(&self, name: &str) -> Option<Arc<Value>> {
        self.store.get(&key("", "namespaces"), "", name)
    }
}
