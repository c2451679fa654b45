//! The kubelet and scheduler, compressed: a new Pod is scheduled, its images pulled, its
//! containers started and made ready after the delays in the knobs; failure knobs make it stick
//! in ImagePullBackOff, CrashLoopBackOff or never Ready. A Pod with an `istio-proxy` sidecar is
//! Ready only once the sidecar is.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{State, events};
use crate::knobs::PodFailureKind;
use crate::server::cluster::Cluster;
use crate::server::sidecar::{self, is_sidecar};
use crate::server::store::{key, name_of, ns_of};
use crate::server::util;

pub fn reconcile(cluster: &Arc<Cluster>, state: &mut State) {
    let (pods, _) = cluster.store.list(&key("", "pods"), None);
    for pod in pods {
        let uid = pod["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let settled = pod["spec"]["hostNetwork"] == true && pod["status"]["phase"] == "Running";
        if settled
            || pod["status"]["phase"] == "Running" && all_ready(&pod)
            || state.tracked.contains(&uid)
        {
            continue;
        }
        state.tracked.insert(uid.clone());
        let c = cluster.clone();
        let (ns, name) = (ns_of(&pod).to_string(), name_of(&pod).to_string());
        state
            .tasks
            .spawn(async move { lifecycle(c, ns, name, uid).await });
    }
}

fn all_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Change a pod if it is still the same one (same uid); None once it is gone.
fn update(
    c: &Cluster,
    ns: &str,
    name: &str,
    uid: &str,
    f: impl FnOnce(&mut Value),
) -> Option<Arc<Value>> {
    let pod = c.store.get(&key("", "pods"), ns, name)?;
    if pod["metadata"]["uid"] != uid {
        return None;
    }
    let mut p = (*pod).clone();
    f(&mut p);
    recompute_conditions(&mut p);
    c.store.replace(&key("", "pods"), p, None).ok()
}

fn containers(pod: &Value, list: &str) -> Vec<Value> {
    pod["spec"][list].as_array().cloned().unwrap_or_default()
}

fn native_sidecar(c: &Value) -> bool {
    c["restartPolicy"] == "Always"
}

fn container_id() -> String {
    format!(
        "docker://{:016x}{:016x}{:016x}{:016x}",
        util::rand_u64(),
        util::rand_u64(),
        util::rand_u64(),
        util::rand_u64()
    )
}

fn waiting(c: &Value, reason: &str, message: Option<String>) -> Value {
    let mut w = json!({"reason": reason});
    if let Some(m) = message {
        w["message"] = m.into();
    }
    json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "restartCount": 0,
           "started": false, "state": {"waiting": w}, "lastState": {}})
}

fn running(c: &Value, ready: bool) -> Value {
    let image = c["image"].as_str().unwrap_or_default();
    json!({"name": c["name"], "image": image, "imageID": format!("docker-pullable://{image}@sha256:{:016x}", util::rand_u64()),
           "containerID": container_id(), "ready": ready, "restartCount": 0, "started": true,
           "state": {"running": {"startedAt": util::now()}}, "lastState": {}})
}

fn completed(c: &Value) -> Value {
    let now = util::now();
    json!({"name": c["name"], "image": c["image"], "imageID": "", "containerID": container_id(), "ready": true,
           "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}},
           "lastState": {}})
}

/// Status of a pod whose containers all run (ready when `ready`), for pods that exist from the
/// start (the seeded system pods).
pub fn running_status(pod: &Value, host_ip: &str, pod_ip: &str, ready: bool) -> Value {
    let mut p = pod.clone();
    p["status"] = json!({
        "phase": "Running", "hostIP": host_ip, "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": util::now(),
        "qosClass": "BestEffort",
        "containerStatuses": containers(pod, "containers").iter().map(|c| running(c, ready)).collect::<Vec<_>>(),
    });
    recompute_conditions(&mut p);
    p["status"].clone()
}

fn set_condition(
    status: &mut Value,
    ctype: &str,
    value: bool,
    reason: Option<String>,
    message: Option<String>,
) {
    let s = if value { "True" } else { "False" };
    let mut conds: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    let existing = conds.iter_mut().find(|c| c["type"] == ctype);
    let mut cond = json!({"type": ctype, "status": s, "lastProbeTime": null, "lastTransitionTime": util::now()});
    if let Some(r) = reason {
        cond["reason"] = r.into();
    }
    if let Some(m) = message {
        cond["message"] = m.into();
    }
    match existing {
        // Same state: the transition time stays; the message follows (which containers are
        // unready changes while the Pod stays unready).
        Some(old) if old["status"] == s && old["reason"] == cond["reason"] => {
            old["message"] = cond["message"].clone();
            if old["message"].is_null() {
                old.as_object_mut().map(|o| o.remove("message"));
            }
        }
        Some(old) => *old = cond,
        None => conds.push(cond),
    }
    status["conditions"] = conds.into();
}

/// Initialized / ContainersReady / Ready from the container statuses.
fn recompute_conditions(p: &mut Value) {
    if p["spec"]["nodeName"].is_null() {
        return;
    }
    let inits = p["status"]["initContainerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mains = p["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let init_specs = containers(p, "initContainers");
    let initialized = init_specs.iter().all(|spec| {
        inits.iter().any(|s| {
            s["name"] == spec["name"]
                && (s["state"]["terminated"]["exitCode"] == 0
                    || native_sidecar(spec) && s["started"] == true)
        })
    });
    let mut unready: Vec<String> = Vec::new();
    for spec in containers(p, "containers")
        .iter()
        .chain(init_specs.iter().filter(|c| native_sidecar(c)))
    {
        let all = mains.iter().chain(inits.iter());
        if !all
            .clone()
            .any(|s| s["name"] == spec["name"] && s["ready"] == true)
        {
            unready.push(spec["name"].as_str().unwrap_or_default().to_string());
        }
    }
    let status = &mut p["status"];
    set_condition(status, "PodScheduled", true, None, None);
    if initialized {
        set_condition(status, "Initialized", true, None, None);
    } else {
        let pending: Vec<&str> = init_specs
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        set_condition(
            status,
            "Initialized",
            false,
            Some("ContainersNotInitialized".into()),
            Some(format!(
                "containers with incomplete status: [{}]",
                pending.join(" ")
            )),
        );
    }
    let ready = unready.is_empty() && initialized;
    let (reason, message) = if ready {
        (None, None)
    } else {
        (
            Some("ContainersNotReady".to_string()),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    set_condition(
        status,
        "ContainersReady",
        ready,
        reason.clone(),
        message.clone(),
    );
    set_condition(status, "Ready", ready, reason, message);
}

async fn lifecycle(c: Arc<Cluster>, ns: String, name: String, uid: String) {
    let knobs = c.knobs();
    let d = knobs.delays.clone();
    let failure = knobs.pod_failure(&ns, &name);
    let node = c.node_name();
    let host_ip = c.node_ip.to_string();
    let already_scheduled = c
        .store
        .get(&key("", "pods"), &ns, &name)
        .is_some_and(|p| !p["spec"]["nodeName"].is_null());
    if !already_scheduled {
        sleep_ms(d.pod_schedule_ms).await;
    }
    let Some(pod) = update(&c, &ns, &name, &uid, |p| {
        p["spec"]["nodeName"] = node.clone().into();
        p["status"]["phase"] = "Pending".into();
        p["status"]["hostIP"] = host_ip.clone().into();
        p["status"]["startTime"] = util::now().into();
        let inits = containers(p, "initContainers");
        if !inits.is_empty() {
            p["status"]["initContainerStatuses"] = inits
                .iter()
                .map(|c| waiting(c, "PodInitializing", None))
                .collect::<Vec<_>>()
                .into();
        }
        let mains = containers(p, "containers");
        let reason = if inits.is_empty() {
            "ContainerCreating"
        } else {
            "PodInitializing"
        };
        p["status"]["containerStatuses"] = mains
            .iter()
            .map(|c| waiting(c, reason, None))
            .collect::<Vec<_>>()
            .into();
    }) else {
        return;
    };
    if !already_scheduled {
        events::record(
            &c,
            &pod,
            "Normal",
            "Scheduled",
            &format!("Successfully assigned {ns}/{name} to {node}"),
            "default-scheduler",
        );
    }
    // Volumes are set up before any image is pulled; a failed mount keeps it there.
    if let Some(msg) = super::volumes::mount_failure(&c, &pod) {
        events::record(&c, &pod, "Warning", "FailedMount", &msg, "kubelet");
        return;
    }
    sleep_ms(knobs.image_pull_ms(&ns, &name)).await;
    let all_specs: Vec<Value> = containers(&pod, "initContainers")
        .into_iter()
        .chain(containers(&pod, "containers"))
        .collect();
    let app = containers(&pod, "containers")
        .into_iter()
        .find(|c| !is_sidecar(c))
        .unwrap_or(json!({}));
    let app_image = app["image"].as_str().unwrap_or_default().to_string();
    if failure == Some(PodFailureKind::ImagePullBackOff) {
        events::record(
            &c,
            &pod,
            "Normal",
            "Pulling",
            &format!("Pulling image \"{app_image}\""),
            "kubelet",
        );
        let msg = format!(
            "rpc error: code = Unknown desc = Error response from daemon: pull access denied for {app_image}, repository does not exist or may require 'docker login'"
        );
        let set = |reason: &'static str, message: String| {
            let app = app.clone();
            move |p: &mut Value| {
                if let Some(list) = p["status"]["containerStatuses"].as_array_mut() {
                    for s in list.iter_mut().filter(|s| s["name"] == app["name"]) {
                        *s = waiting(&app, reason, Some(message.clone()));
                    }
                }
            }
        };
        let Some(pod) = update(&c, &ns, &name, &uid, set("ErrImagePull", msg.clone())) else {
            return;
        };
        events::record(
            &c,
            &pod,
            "Warning",
            "Failed",
            &format!("Failed to pull image \"{app_image}\": {msg}"),
            "kubelet",
        );
        events::record(
            &c,
            &pod,
            "Warning",
            "Failed",
            "Error: ErrImagePull",
            "kubelet",
        );
        sleep_ms(d.image_pull_ms).await;
        let back = format!("Back-off pulling image \"{app_image}\"");
        let Some(pod) = update(&c, &ns, &name, &uid, set("ImagePullBackOff", back.clone())) else {
            return;
        };
        events::record(&c, &pod, "Normal", "BackOff", &back, "kubelet");
        events::record(
            &c,
            &pod,
            "Warning",
            "Failed",
            "Error: ImagePullBackOff",
            "kubelet",
        );
        return;
    }
    for spec in &all_specs {
        let image = spec["image"].as_str().unwrap_or_default();
        events::record(
            &c,
            &pod,
            "Normal",
            "Pulled",
            &format!("Container image \"{image}\" already present on machine"),
            "kubelet",
        );
    }
    sleep_ms(d.container_start_ms).await;
    let pod_ip = format!("10.244.0.{}", 2 + util::rand_u64() % 250);
    let Some(pod) = update(&c, &ns, &name, &uid, |p| {
        p["status"]["phase"] = "Running".into();
        p["status"]["podIP"] = pod_ip.clone().into();
        p["status"]["podIPs"] = json!([{"ip": pod_ip}]);
        let inits = containers(p, "initContainers");
        if !inits.is_empty() {
            p["status"]["initContainerStatuses"] = inits
                .iter()
                .map(|c| {
                    if native_sidecar(c) {
                        running(c, false)
                    } else {
                        completed(c)
                    }
                })
                .collect::<Vec<_>>()
                .into();
        }
        p["status"]["containerStatuses"] = containers(p, "containers")
            .iter()
            .map(|c| running(c, false))
            .collect::<Vec<_>>()
            .into();
    }) else {
        return;
    };
    for spec in &all_specs {
        let n = spec["name"].as_str().unwrap_or_default();
        events::record(
            &c,
            &pod,
            "Normal",
            "Created",
            &format!("Created container {n}"),
            "kubelet",
        );
        events::record(
            &c,
            &pod,
            "Normal",
            "Started",
            &format!("Started container {n}"),
            "kubelet",
        );
    }
    if failure == Some(PodFailureKind::CrashLoopBackOff) {
        crash_loop(&c, &ns, &name, &uid, &app).await;
        return;
    }
    let has_sidecar = all_specs.iter().any(is_sidecar);
    let mut steps: Vec<(u64, bool)> = Vec::new(); // (at ms, is the sidecar)
    if failure != Some(PodFailureKind::NeverReady) {
        steps.push((d.container_ready_ms, false));
    }
    if has_sidecar && failure != Some(PodFailureKind::SidecarNeverReady) {
        steps.push((d.sidecar_ready_ms, true));
    }
    steps.sort();
    let mut waited = 0;
    for (at, sidecar) in steps {
        sleep_ms(at.saturating_sub(waited)).await;
        waited = at;
        if sidecar {
            // istio-proxy answers /healthz/ready only once istiod has sent its configuration
            // (research/istio.md §6.7): without a Ready control plane it stays unready.
            let mut changes = c.store.subscribe();
            while !sidecar::control_plane_ready(&c) {
                if changes.changed().await.is_err() {
                    return;
                }
            }
        }
        let ok = update(&c, &ns, &name, &uid, |p| {
            for list in ["containerStatuses", "initContainerStatuses"] {
                if let Some(statuses) = p["status"][list].as_array_mut() {
                    for s in statuses
                        .iter_mut()
                        .filter(|s| s["state"]["running"].is_object())
                    {
                        if is_sidecar(s) == sidecar {
                            s["ready"] = true.into();
                        }
                    }
                }
            }
        });
        if ok.is_none() {
            return;
        }
    }
    if has_sidecar && failure == Some(PodFailureKind::SidecarNeverReady) {
        sleep_ms(d.sidecar_ready_ms).await;
        if let Some(pod) = c.store.get(&key("", "pods"), &ns, &name) {
            events::record(
                &c,
                &pod,
                "Warning",
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                "kubelet",
            );
        }
    }
}

/// The app container exits 1 over and over, with the kubelet's growing back-off.
async fn crash_loop(c: &Arc<Cluster>, ns: &str, name: &str, uid: &str, app: &Value) {
    let mut backoff = 200;
    for restarts in 1.. {
        let now = util::now();
        let Some(pod) = update(c, ns, name, uid, |p| {
            if let Some(list) = p["status"]["containerStatuses"].as_array_mut() {
                for s in list.iter_mut().filter(|s| s["name"] == app["name"]) {
                    s["ready"] = false.into();
                    s["started"] = false.into();
                    s["restartCount"] = restarts.into();
                    s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}});
                    s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                        "message": format!("back-off {}s restarting failed container={} pod={name}_{ns}({uid})", backoff / 100, app["name"].as_str().unwrap_or_default())}});
                }
            }
        }) else {
            return;
        };
        events::record(
            c,
            &pod,
            "Warning",
            "BackOff",
            "Back-off restarting failed container",
            "kubelet",
        );
        sleep_ms(backoff).await;
        backoff = (backoff * 2).min(5000);
    }
}
