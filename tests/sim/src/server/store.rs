//! A cluster's objects: generic JSON keyed by group + plural (any version of a group reads the
//! same object, as the real server converts), one resourceVersion counter, a bounded event
//! history for resuming watches, and the live watchers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::status::{ApiError, ApiResult};
use super::util;

/// (group, plural)
pub type Key = (String, String);

/// Groups that serve the same objects under another name, as the real server does
/// (`extensions/v1beta1` Deployments are `apps` Deployments).
pub fn key(group: &str, plural: &str) -> Key {
    let group = match (group, plural) {
        ("extensions", "deployments" | "replicasets" | "daemonsets") => "apps",
        ("extensions", "ingresses") => "networking.k8s.io",
        ("events.k8s.io", "events") => "",
        _ => group,
    };
    (group.to_string(), plural.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub etype: EventType,
    pub key: Key,
    pub object: Arc<Value>,
    /// The object before this change (for selector transitions).
    pub prev: Option<Arc<Value>>,
}

pub fn ns_of(obj: &Value) -> &str {
    obj["metadata"]["namespace"].as_str().unwrap_or_default()
}
pub fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

struct Watcher {
    key: Key,
    namespace: Option<String>,
    tx: mpsc::UnboundedSender<Arc<Event>>,
}

struct Inner {
    rv: u64,
    objects: HashMap<Key, BTreeMap<(String, String), Arc<Value>>>,
    history: VecDeque<Arc<Event>>,
    /// The oldest resourceVersion a watch may resume from.
    oldest: u64,
    cap: usize,
    watchers: Vec<Watcher>,
}

pub struct Store {
    inner: Mutex<Inner>,
    changed: watch::Sender<u64>,
}

pub struct WatchStart {
    pub backlog: Vec<Arc<Event>>,
    pub rx: mpsc::UnboundedReceiver<Arc<Event>>,
}

impl Store {
    pub fn new(history_cap: usize) -> Store {
        Store {
            inner: Mutex::new(Inner {
                rv: 100,
                objects: HashMap::new(),
                history: VecDeque::new(),
                oldest: 100,
                cap: history_cap.max(1),
                watchers: Vec::new(),
            }),
            changed: watch::channel(0).0,
        }
    }

    /// The state, even after a panic elsewhere poisoned the lock (the world must keep serving).
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes whenever any object changes (the controllers' trigger).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub fn set_history_cap(&self, cap: usize) {
        self.lock().cap = cap.max(1);
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    pub fn get(&self, key: &Key, ns: &str, name: &str) -> Option<Arc<Value>> {
        let inner = self.lock();
        inner
            .objects
            .get(key)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// All objects of a resource (in one namespace when given), and the list's resourceVersion.
    pub fn list(&self, key: &Key, ns: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .get(key)
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| ns.is_none_or(|w| w == n))
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default();
        (items, inner.rv)
    }

    /// Store a new object; fills uid, creationTimestamp, resourceVersion.
    pub fn create(&self, key: &Key, mut obj: Value) -> ApiResult<Arc<Value>> {
        let mut inner = self.lock();
        let id = (ns_of(&obj).to_string(), name_of(&obj).to_string());
        if inner.objects.get(key).is_some_and(|m| m.contains_key(&id)) {
            return Err(ApiError::already_exists(&key.0, &key.1, &id.1));
        }
        inner.rv += 1;
        let rv = inner.rv;
        let meta = &mut obj["metadata"];
        meta["uid"] = util::uid().into();
        meta["creationTimestamp"] = util::now().into();
        meta["resourceVersion"] = rv.to_string().into();
        if obj.get("spec").is_some() {
            obj["metadata"]["generation"] = 1.into();
        }
        let obj = Arc::new(obj);
        inner
            .objects
            .entry(key.clone())
            .or_default()
            .insert(id, obj.clone());
        self.record(&mut inner, EventType::Added, key, obj.clone(), None);
        Ok(obj)
    }

    /// Replace an existing object. `expected_rv` (from the client's object) must match the
    /// current one when given. An update that changes nothing keeps the resourceVersion.
    pub fn replace(
        &self,
        key: &Key,
        mut obj: Value,
        expected_rv: Option<&str>,
    ) -> ApiResult<Arc<Value>> {
        let mut inner = self.lock();
        let id = (ns_of(&obj).to_string(), name_of(&obj).to_string());
        let Some(old) = inner.objects.get(key).and_then(|m| m.get(&id)).cloned() else {
            return Err(ApiError::not_found(&key.0, &key.1, &id.1));
        };
        let old_rv = old["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(want) = expected_rv.filter(|s| !s.is_empty())
            && want != old_rv
        {
            return Err(ApiError::conflict(&key.0, &key.1, &id.1));
        }
        for field in ["uid", "creationTimestamp"] {
            obj["metadata"][field] = old["metadata"][field].clone();
        }
        obj["metadata"]["resourceVersion"] = old_rv.into();
        if let Some(g) = old["metadata"].get("generation") {
            obj["metadata"]["generation"] = g.clone();
            if spec_changed(&old, &obj) {
                obj["metadata"]["generation"] = (g.as_i64().unwrap_or(1) + 1).into();
            }
        }
        if obj == *old {
            return Ok(old);
        }
        inner.rv += 1;
        obj["metadata"]["resourceVersion"] = inner.rv.to_string().into();
        let obj = Arc::new(obj);
        inner
            .objects
            .entry(key.clone())
            .or_default()
            .insert(id, obj.clone());
        self.record(&mut inner, EventType::Modified, key, obj.clone(), Some(old));
        Ok(obj)
    }

    pub fn delete(&self, key: &Key, ns: &str, name: &str) -> Option<Arc<Value>> {
        let mut inner = self.lock();
        let old = inner
            .objects
            .get_mut(key)?
            .remove(&(ns.to_string(), name.to_string()))?;
        inner.rv += 1;
        let mut gone = (*old).clone();
        gone["metadata"]["resourceVersion"] = inner.rv.to_string().into();
        let gone = Arc::new(gone);
        self.record(&mut inner, EventType::Deleted, key, gone.clone(), Some(old));
        Some(gone)
    }

    /// Every stored object (for garbage collection), with its key.
    pub fn all(&self) -> Vec<(Key, Arc<Value>)> {
        let inner = self.lock();
        inner
            .objects
            .iter()
            .flat_map(|(k, m)| m.values().map(move |v| (k.clone(), v.clone())))
            .collect()
    }

    /// Start a watch. `from`: resume after that resourceVersion (410 when it is older than the
    /// history kept); None: begin with an ADDED event for every current object.
    pub fn watch(&self, key: &Key, ns: Option<&str>, from: Option<u64>) -> ApiResult<WatchStart> {
        let mut inner = self.lock();
        let backlog: Vec<Arc<Event>> = match from {
            Some(rv) if rv < inner.oldest => {
                return Err(ApiError::gone(format!(
                    "too old resource version: {rv} ({})",
                    inner.oldest
                )));
            }
            Some(rv) => inner
                .history
                .iter()
                .filter(|e| e.rv > rv && e.key == *key && ns.is_none_or(|n| n == ns_of(&e.object)))
                .cloned()
                .collect(),
            None => {
                let current = inner.rv;
                let objs = inner.objects.get(key);
                objs.map(|m| {
                    m.iter()
                        .filter(|((n, _), _)| ns.is_none_or(|w| w == n))
                        .map(|(_, o)| {
                            Arc::new(Event {
                                rv: current,
                                etype: EventType::Added,
                                key: key.clone(),
                                object: o.clone(),
                                prev: None,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
            }
        };
        let (tx, rx) = mpsc::unbounded_channel();
        inner.watchers.push(Watcher {
            key: key.clone(),
            namespace: ns.map(String::from),
            tx,
        });
        Ok(WatchStart { backlog, rx })
    }

    fn record(
        &self,
        inner: &mut Inner,
        etype: EventType,
        key: &Key,
        object: Arc<Value>,
        prev: Option<Arc<Value>>,
    ) {
        let ev = Arc::new(Event {
            rv: inner.rv,
            etype,
            key: key.clone(),
            object,
            prev,
        });
        inner.history.push_back(ev.clone());
        while inner.history.len() > inner.cap {
            if let Some(old) = inner.history.pop_front() {
                inner.oldest = old.rv;
            }
        }
        let ns = ns_of(&ev.object).to_string();
        inner.watchers.retain(|w| {
            if w.tx.is_closed() {
                return false;
            }
            if w.key == *key && w.namespace.as_ref().is_none_or(|n| *n == ns) {
                return w.tx.send(ev.clone()).is_ok();
            }
            true
        });
        self.changed.send_replace(inner.rv);
    }
}

/// Whether anything outside metadata and status changed (what bumps `metadata.generation`).
fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
            m.remove("status");
        }
        v
    };
    strip(old) != strip(new)
}
