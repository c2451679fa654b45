//! `kubectl wait --for=condition=X` on one object or a selection.

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::find_resource;
use crate::fakes::common::{Args, parse_duration};
use crate::fakes::kube as k;

pub(super) async fn wait(client: &kube::Client, args: &Args, what: &[&str]) -> i32 {
    let Some(cond) = args
        .get(&["--for"])
        .and_then(|f| f.strip_prefix("condition="))
    else {
        eprintln!("error: --for must be condition=<name>");
        return 1;
    };
    let (cond, want) = cond.split_once('=').unwrap_or((cond, "True"));
    let timeout = parse_duration(args.get(&["--timeout"]).unwrap_or("30s"));
    let Some(target) = what.first() else {
        eprintln!("error: resource(s) were provided, but no name was specified");
        return 1;
    };
    let (kind, name) = match target.split_once('/') {
        Some((k, n)) => (k.to_string(), Some(n.to_string())),
        None => (target.to_string(), what.get(1).map(|s| s.to_string())),
    };
    let (ar, namespaced) = match find_resource(client, &kind).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let ns = args.get(&["-n", "--namespace"]).unwrap_or("default");
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client.clone(), ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    let deadline = Instant::now() + timeout;
    let met = |o: &Value| {
        o["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter().any(|c| {
                c["type"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case(cond))
                    && c["status"] == want
            })
        })
    };
    loop {
        let objs: Vec<Value> = match &name {
            Some(n) => api
                .get_opt(n)
                .await
                .ok()
                .flatten()
                .into_iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect(),
            None => {
                let mut lp = ListParams::default();
                if let Some(l) = args.get(&["-l", "--selector"]) {
                    lp = lp.labels(l);
                }
                api.list(&lp)
                    .await
                    .map(|l| {
                        l.items
                            .into_iter()
                            .filter_map(|o| serde_json::to_value(o).ok())
                            .collect()
                    })
                    .unwrap_or_default()
            }
        };
        if !objs.is_empty() && objs.iter().all(met) {
            for o in &objs {
                println!(
                    "{} condition met",
                    k::kubectl_name(&ar, o["metadata"]["name"].as_str().unwrap_or(""))
                );
            }
            return 0;
        }
        if Instant::now() >= deadline {
            let n = name.clone().unwrap_or_default();
            eprintln!(
                "error: timed out waiting for the condition on {}/{n}",
                ar.plural
            );
            return 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("5m"), Duration::from_secs(300));
        assert_eq!(parse_duration("1m30s"), Duration::from_secs(90));
    }
}
