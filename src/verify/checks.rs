//! The checks. Each awaits its conditions through watches (`watch::until`) within the check
//! timeout and turns the outcome into a `CheckResult` with a reason and what to do.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::conditions::{self, Sidecar};
use super::{CheckResult, Settings, Verdict, http, smoke, watch};

const ISTIO_NS: &str = "istio-system";

/// Runs every check concurrently; `mesh-route` follows `sidecar` (it needs the smoke Pod).
pub async fn run_all(client: &kube::Client, s: &Settings) -> Vec<CheckResult> {
    let injector = injector(client).await;
    let revision = injector.as_ref().ok().and_then(|(_, r)| r.clone());
    let route_chain = async {
        let sidecar = sidecar(client, s, revision.as_deref()).await;
        let route = if sidecar.verdict == Verdict::Pass {
            mesh_route(client, s).await
        } else {
            CheckResult::new(
                "mesh-route",
                Verdict::Fail,
                Instant::now(),
                "not tried: the smoke workload is not ready (see sidecar)",
            )
            .hint("fix the sidecar check first")
            .namespaces(&[&s.smoke_namespace])
        };
        (sidecar, route)
    };
    let (cp, gws, lbs, (sc, route), drift) = tokio::join!(
        control_plane(client, s, &injector),
        gateways(client, s),
        loadbalancers(client, s),
        route_chain,
        injection_drift(client, s),
    );
    vec![cp, gws, lbs, sc, route, drift]
}

/// The sidecar injector's MutatingWebhookConfiguration, read through discovery (v1beta1 on
/// Kubernetes 1.15, v1 from 1.16; DESIGN.md "Version-dependent API").
async fn injector(client: &kube::Client) -> Result<(String, Option<String>), String> {
    let api = super::injector::webhook_api(client).await?;
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("cannot list MutatingWebhookConfigurations: {e}"))?;
    let values: Vec<Value> = list
        .items
        .iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect();
    conditions::injector(&values).ok_or_else(|| {
        "no sidecar injector MutatingWebhookConfiguration (istio-sidecar-injector)".to_string()
    })
}

fn istiod_name(revision: Option<&str>) -> String {
    revision.map_or_else(|| "istiod".to_string(), |r| format!("istiod-{r}"))
}

async fn control_plane(
    client: &kube::Client,
    s: &Settings,
    injector: &Result<(String, Option<String>), String>,
) -> CheckResult {
    let started = Instant::now();
    let name = istiod_name(injector.as_ref().ok().and_then(|(_, r)| r.as_deref()));
    let api: Api<Deployment> = Api::namespaced(client.clone(), ISTIO_NS);
    let n = name.clone();
    let available = watch::until(&api, &name, s.check_timeout, move |d| {
        conditions::deployment_available(d, &n)
    })
    .await;
    match (available, injector) {
        (Ok(()), Ok((mwc, _))) => CheckResult::new("control-plane", Verdict::Pass, started, format!("{name} available; injector webhook {mwc}"))
            .evidence(json!({"deployment": name, "webhook": mwc})),
        (Err(missing), _) => CheckResult::new("control-plane", Verdict::Fail, started, format!("{missing} after {}", watch::secs(s.check_timeout)))
            .hint(format!("`kubectl --context {} -n {ISTIO_NS} describe deployment {name}` shows why; the diagnostics bundle has its events and logs", s.profile))
            .evidence(json!({"deployment": name}))
            .namespaces(&[ISTIO_NS]),
        (Ok(()), Err(e)) => CheckResult::new("control-plane", Verdict::Fail, started, e.clone())
            .hint("reinstall Istio (`meshup start` again); without the webhook no Pod gets a sidecar")
            .namespaces(&[ISTIO_NS]),
    }
}

async fn gateways(client: &kube::Client, s: &Settings) -> CheckResult {
    let started = Instant::now();
    let api: Api<Deployment> = Api::namespaced(client.clone(), ISTIO_NS);
    let list = match api
        .list(&ListParams::default().labels("istio in (ingressgateway,egressgateway)"))
        .await
    {
        Ok(l) => l,
        Err(e) => {
            return CheckResult::new(
                "gateways",
                Verdict::Fail,
                started,
                format!("cannot list gateway deployments: {e}"),
            );
        }
    };
    let names: Vec<String> = list
        .items
        .iter()
        .filter_map(|d| d.metadata.name.clone())
        .collect();
    if names.is_empty() {
        return CheckResult::new(
            "gateways",
            Verdict::Pass,
            started,
            "no gateway deployments enabled",
        );
    }
    let waits = names.iter().map(|name| {
        let n = name.clone();
        let api = api.clone();
        async move {
            watch::until(&api, &n.clone(), s.check_timeout, move |d| {
                conditions::deployment_available(d, &n)
            })
            .await
        }
    });
    let outcomes = futures::future::join_all(waits).await;
    let missing: Vec<String> = outcomes.into_iter().filter_map(Result::err).collect();
    if missing.is_empty() {
        CheckResult::new(
            "gateways",
            Verdict::Pass,
            started,
            format!("{} available", names.join(", ")),
        )
        .evidence(json!({"deployments": names}))
    } else {
        CheckResult::new("gateways", Verdict::Fail, started, missing.join("; "))
            .hint("the diagnostics bundle has the gateway pods' state, events and istio-proxy logs")
            .evidence(json!({"deployments": names}))
            .namespaces(&[ISTIO_NS])
    }
}

fn split_ref(r: &str) -> (String, String) {
    match r.split_once('/') {
        Some((ns, name)) => (ns.to_string(), name.to_string()),
        None => (ISTIO_NS.to_string(), r.to_string()),
    }
}

/// The tunnel's files in the profile's state dir (its state and last errors): the first
/// evidence when an address is missing.
fn tunnel_evidence(s: &Settings) -> Value {
    let Some(dir) = &s.state_dir else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("tunnel") {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            out.insert(
                name,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n").into(),
            );
        }
    }
    if out.is_empty() {
        json!({"tunnel": "no tunnel state in the profile's state dir: the tunnel is not running"})
    } else {
        Value::Object(out)
    }
}

fn tunnel_hint(s: &Settings) -> String {
    format!(
        "a LoadBalancer address needs the tunnel: `meshup start -p {p}` keeps one running (or run `minikube tunnel -p {p}`)",
        p = s.profile
    )
}

/// Address of a LoadBalancer Service and its status port, through watches.
async fn address(
    client: &kube::Client,
    r: &str,
    within: Duration,
) -> Result<(String, u16, Service), String> {
    let (ns, name) = split_ref(r);
    let api: Api<Service> = Api::namespaced(client.clone(), &ns);
    let full = format!("{ns}/{name}");
    let svc = watch::until(&api, &name, within, move |svc: Option<&Service>| {
        conditions::load_balancer_address(svc, &full).map(|_| svc.cloned())
    })
    .await?
    .ok_or("service vanished")?;
    let ip = conditions::load_balancer_address(Some(&svc), r)?;
    Ok((ip, conditions::status_port(&svc, None), svc))
}

async fn loadbalancers(client: &kube::Client, s: &Settings) -> CheckResult {
    let started = Instant::now();
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for r in &s.load_balancers {
        let left = s.check_timeout.saturating_sub(started.elapsed());
        match address(client, r, left).await {
            Err(missing) => {
                problems.push(format!(
                    "{missing}: the tunnel is not running or has not assigned it"
                ));
                evidence.push(json!({"service": r, "externalAddress": null}));
            }
            Ok((ip, port, _)) => {
                let url = format!("http://{ip}:{port}/healthz/ready");
                match healthz(&url, s.check_timeout.saturating_sub(started.elapsed())).await {
                    Ok(()) => evidence.push(json!({"service": r, "externalAddress": ip, "statusPort": port, "healthz": 200})),
                    Err(last) => {
                        problems.push(format!("{r}: GET {url} {last}"));
                        evidence.push(json!({"service": r, "externalAddress": ip, "statusPort": port, "healthz": last}));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        CheckResult::new(
            "loadbalancer",
            Verdict::Pass,
            started,
            format!("{} reachable", s.load_balancers.join(", ")),
        )
        .evidence(json!({"services": evidence}))
    } else {
        CheckResult::new("loadbalancer", Verdict::Fail, started, problems.join("; "))
            .hint(tunnel_hint(s))
            .evidence(json!({"tunnel": tunnel_evidence(s), "services": evidence}))
            .namespaces(&[ISTIO_NS])
    }
}

/// `GET /healthz/ready` until 200 (an HTTP endpoint cannot be watched: retried with a growing
/// pause, bounded by `within`). Err: the last answer.
async fn healthz(url: &str, within: Duration) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(20);
    loop {
        let last = match http::get(url, None, Duration::from_secs(5)).await {
            Ok(a) if a.code == 200 => return Ok(()),
            Ok(a) => format!("answered {}", a.code),
            Err(e) => e,
        };
        if tokio::time::Instant::now() + pause >= deadline {
            return Err(last);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

async fn sidecar(client: &kube::Client, s: &Settings, revision: Option<&str>) -> CheckResult {
    let started = Instant::now();
    let ns = s.smoke_namespace.as_str();
    let fail = |msg: String| {
        CheckResult::new("sidecar", Verdict::Fail, started, msg).namespaces(&[ns, ISTIO_NS])
    };
    // `meshup start` deployed it already (its smoke stage, as soon as the injector answered).
    if !s.smoke_deployed {
        if let Err(e) = smoke::namespace(client, ns, revision).await {
            return fail(e);
        }
        if let Err(e) = smoke::workload(client, ns, &s.smoke_image).await {
            return fail(e).hint(
                "the injector webhook refused the Pod: check that istiod is running (control-plane)",
            );
        }
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let name = format!("{ns}/{}", smoke::NAME);
    let state = watch::until(
        &pods,
        smoke::NAME,
        s.check_timeout,
        move |p: Option<&Pod>| match conditions::sidecar(p, &name) {
            Sidecar::Waiting(m) => Err(m),
            other => Ok(other),
        },
    )
    .await;
    match state {
        Ok(Sidecar::Ready) => CheckResult::new("sidecar", Verdict::Pass, started, format!("{ns}/{} ready with istio-proxy", smoke::NAME))
            .evidence(json!({"pod": format!("{ns}/{}", smoke::NAME), "image": s.smoke_image})),
        Ok(_) => fail(format!("injection did not happen: {ns}/{} is Ready without an istio-proxy container", smoke::NAME))
            .hint(format!("namespace {ns} is labelled for injection; check the sidecar injector webhook (`kubectl --context {} get mutatingwebhookconfigurations`) and istiod", s.profile)),
        Err(missing) => fail(format!("{missing} (after {})", watch::secs(s.check_timeout)))
            .hint("the diagnostics bundle has the pod's state, events and its containers' logs (istio-proxy included)"),
    }
}

async fn mesh_route(client: &kube::Client, s: &Settings) -> CheckResult {
    let started = Instant::now();
    let ns = s.smoke_namespace.as_str();
    let fail = |msg: String| {
        CheckResult::new("mesh-route", Verdict::Fail, started, msg).namespaces(&[ns, ISTIO_NS])
    };
    let Some(lb) = s.load_balancers.first() else {
        return CheckResult::new(
            "mesh-route",
            Verdict::Warn,
            started,
            "no LoadBalancer service to send a request to (verify.loadBalancers is empty)",
        );
    };
    let (ip, svc) = match address(client, lb, s.check_timeout).await {
        Ok((ip, _, svc)) => (ip, svc),
        Err(missing) => {
            return fail(format!(
                "no address to send the request to: {missing}; the tunnel is not running"
            ))
            .hint(tunnel_hint(s))
            .evidence(json!({"tunnel": tunnel_evidence(s)}));
        }
    };
    let selector = svc
        .spec
        .as_ref()
        .and_then(|sp| sp.selector.clone())
        .map(|m| serde_json::to_value(m).unwrap_or_default())
        .filter(|v| v.get("istio").is_some())
        .map(|v| json!({"istio": v["istio"]}))
        .unwrap_or_else(|| json!({"istio": "ingressgateway"}));
    let api_version = match smoke::route(client, ns, &selector).await {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let path = smoke::request_path(&s.smoke_image);
    let url = format!("http://{ip}{path}");
    let within = s.check_timeout.saturating_sub(started.elapsed());
    match probe_route(&url, &s.smoke_image, within).await {
        Ok(server) => CheckResult::new("mesh-route", Verdict::Pass, started, format!("GET {url} (Host {}) answered 200 from the smoke workload through istio-envoy", smoke::HOST))
            .evidence(json!({"url": url, "host": smoke::HOST, "status": 200, "server": server, "apiVersion": api_version})),
        Err(last) => fail(format!("GET {url} (Host {}) {last}", smoke::HOST))
            .hint("Envoy's 503 `no healthy upstream` means no ready endpoint for the route's destination port; 404 means no route for the host/path")
            .evidence(json!({"url": url, "host": smoke::HOST, "last": last, "apiVersion": api_version})),
    }
}

/// The data-path request of `mesh-route`: `GET url` with the smoke host, retried while the
/// route reaches Envoy (an HTTP answer cannot be watched), until it is the workload's own 200
/// through `istio-envoy`. `Ok(server header)`, or `Err(the last answer)` when `within` ends.
pub async fn probe_route(
    url: &str,
    image: &str,
    within: Duration,
) -> Result<Option<String>, String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(20);
    loop {
        let last = match http::get(url, Some(smoke::HOST), Duration::from_secs(5)).await {
            Ok(a) => match conditions::routed(a.code, a.server.as_deref()) {
                Ok(()) if smoke::is_workload_answer(image, &a.body) => return Ok(a.server),
                Ok(()) => format!(
                    "answered 200 but not with the workload's answer: {}",
                    first_line(&a.body)
                ),
                Err(why) => {
                    let body = first_line(&a.body);
                    if body.is_empty() {
                        why
                    } else {
                        format!("{why} `{body}`")
                    }
                }
            },
            Err(e) => e,
        };
        if tokio::time::Instant::now() + pause >= deadline {
            return Err(last);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

async fn injection_drift(client: &kube::Client, s: &Settings) -> CheckResult {
    let started = Instant::now();
    let nss: Api<Namespace> = Api::all(client.clone());
    let list = match nss.list(&ListParams::default()).await {
        Ok(l) => l,
        Err(e) => {
            return CheckResult::new(
                "injection-drift",
                Verdict::Warn,
                started,
                format!("cannot list namespaces: {e}"),
            );
        }
    };
    let mut drifted = Vec::new();
    for ns in list
        .items
        .iter()
        .filter(|n| conditions::injection_requested(n))
    {
        let Some(name) = ns.metadata.name.as_deref() else {
            continue;
        };
        if name == s.smoke_namespace {
            continue;
        }
        let pods: Api<Pod> = Api::namespaced(client.clone(), name);
        for p in pods
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
        {
            if conditions::drifted(&p) {
                drifted.push(format!("{name}/{}", p.metadata.name.unwrap_or_default()));
            }
        }
    }
    if drifted.is_empty() {
        CheckResult::new(
            "injection-drift",
            Verdict::Pass,
            started,
            "every pod in injection-labelled namespaces has a sidecar",
        )
    } else {
        CheckResult::new("injection-drift", Verdict::Warn, started, format!("running without a sidecar in an injection-labelled namespace (IST0103): {}", drifted.join(", ")))
            .hint("they started before the label or the injector; restart them, e.g. `kubectl rollout restart deployment -n <namespace>`")
            .evidence(json!({"pods": drifted}))
    }
}
