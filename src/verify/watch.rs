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
