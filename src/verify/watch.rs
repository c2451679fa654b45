//! Waiting for one named object to satisfy a condition: a kube-rs watch
//! (`kube::runtime::wait::await_condition`), never a polling loop, bounded by a timeout. The
//! condition returns what is still missing, so an expired wait says it.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::api::Api;
use kube::runtime::wait::await_condition;
use serde::de::DeserializeOwned;

/// Watches `name` until `cond` is `Ok`, for at most `within`. `Err(missing)`: the timeout
/// expired and this is what the last seen state lacked; a watch error is reported likewise.
pub async fn until<K, T>(
    api: &Api<K>,
    name: &str,
    within: Duration,
    cond: impl Fn(Option<&K>) -> Result<T, String> + Send + Sync + 'static,
) -> Result<T, String>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    T: Send + 'static,
{
    let last: Arc<Mutex<Option<Result<T, String>>>> = Arc::new(Mutex::new(None));
    let seen = last.clone();
    let watch = await_condition(api.clone(), name, move |obj: Option<&K>| {
        let r = cond(obj);
        let ok = r.is_ok();
        *seen.lock().expect("lock") = Some(r);
        ok
    });
    let outcome = tokio::time::timeout(within, watch).await;
    let last = last.lock().expect("lock").take();
    match (outcome, last) {
        (Ok(Ok(_)), Some(r)) => r,
        (Ok(Err(e)), _) => Err(format!("the watch of {name} failed: {e}")),
        (_, Some(Err(missing))) => Err(missing),
        (_, _) => Err(format!("no answer about {name} within {}", secs(within))),
    }
}

pub fn secs(d: Duration) -> String {
    crate::report::events::human_duration(d.as_millis() as u64)
}

/// Watches the objects `api` lists under `labels` until `cond`, given all of them, is `Ok`, for
/// at most `within`: a watcher keeping its own set (`Init` … `InitDone` replace it, `Apply` and
/// `Delete` change it), the condition asked after every change. `Err(missing)` as in [`until`].
pub async fn until_listed<K, T>(
    api: &Api<K>,
    labels: &str,
    within: Duration,
    cond: impl Fn(&[K]) -> Result<T, String>,
) -> Result<T, String>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    use futures::StreamExt;
    use kube::runtime::WatchStreamExt;
    use kube::runtime::watcher::{self, Event};
    use std::collections::BTreeMap;

    let key = |o: &K| {
        let m = o.meta();
        (
            m.namespace.clone().unwrap_or_default(),
            m.name.clone().unwrap_or_default(),
        )
    };
    let mut last: Option<String> = None;
    let watch = async {
        let mut seen: BTreeMap<(String, String), K> = BTreeMap::new();
        let mut next: BTreeMap<(String, String), K> = BTreeMap::new();
        // Backed off: an API server that refuses for a while is not asked in a hot loop.
        let stream = watcher::watcher(api.clone(), watcher::Config::default().labels(labels))
            .default_backoff();
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => next.clear(),
                Ok(Event::InitApply(o)) => {
                    next.insert(key(&o), o);
                    continue;
                }
                Ok(Event::InitDone) => seen = std::mem::take(&mut next),
                Ok(Event::Apply(o)) => {
                    seen.insert(key(&o), o);
                }
                Ok(Event::Delete(o)) => {
                    seen.remove(&key(&o));
                }
                // The watcher retries by itself; keep what the error was in case time runs out.
                Err(e) => {
                    last = Some(format!("the watch failed: {e}"));
                    continue;
                }
            }
            let all: Vec<K> = seen.values().cloned().collect();
            match cond(&all) {
                Ok(t) => return Some(t),
                Err(missing) => last = Some(missing),
            }
        }
        None
    };
    let outcome = tokio::time::timeout(within, watch).await;
    match outcome {
        Ok(Some(t)) => Ok(t),
        _ => Err(last.unwrap_or_else(|| format!("no answer within {}", secs(within)))),
    }
}
