//! The fake `kubectl`: `version`, `apply -f -|FILE`, `get`, `wait` — what Istio 1.5's
//! `manifest apply`, meshup's preflight and a person in `sim-shell.sh` need.

use std::io::Read;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::{ApiResource, Discovery, Scope};
use serde_json::{Value, json};

use super::kube::{self as k, Applied};
use crate::fakes::common::{Args, Env, FlagSpec};

const BOOLS: &[&str] = &[
    "--client",
    "--prune",
    "-A",
    "--all-namespaces",
    "--all",
    "--short",
    "--no-headers",
    "-w",
    "--watch",
    "--validate",
    "--overwrite",
    "--server-side",
    "--force-conflicts",
];
const VALUES: &[&str] = &[
    "--kubeconfig",
    "--context",
    "-n",
    "--namespace",
    "-o",
    "--output",
    "-f",
    "--filename",
    "-l",
    "--selector",
    "--for",
    "--timeout",
    "--field-selector",
    "--request-timeout",
    "--field-manager",
    "--prune-allowlist",
    "--prune-whitelist",
    "-v",
    "--v",
];

fn short(name: &str) -> &str {
    match name {
        "svc" | "service" => "services",
        "po" | "pod" => "pods",
        "deploy" | "deployment" => "deployments",
        "ns" | "namespace" => "namespaces",
        "cm" | "configmap" => "configmaps",
        "sa" | "serviceaccount" => "serviceaccounts",
        "crd" | "crds" | "customresourcedefinition" => "customresourcedefinitions",
        "rs" | "replicaset" => "replicasets",
        "ep" | "endpoint" => "endpoints",
        "no" | "node" => "nodes",
        "ev" | "event" => "events",
        "secret" => "secrets",
        "mutatingwebhookconfiguration" => "mutatingwebhookconfigurations",
        "validatingwebhookconfiguration" => "validatingwebhookconfigurations",
        "gw" | "gateway" => "gateways",
        "vs" | "virtualservice" => "virtualservices",
        other => other,
    }
}

pub fn run(env: &Env, argv: &[String]) -> i32 {
    let args = match Args::parse(
        argv,
        &FlagSpec {
            bools: BOOLS,
            values: VALUES,
            allow_unknown: false,
        },
    ) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\nSee 'kubectl --help' for usage.");
            return 1;
        }
    };
    let sub: Vec<&str> = args.positional.iter().map(String::as_str).collect();
    match sub.first().copied() {
        Some("version") => version(env, &args),
        Some(cmd @ ("apply" | "get" | "wait")) => {
            let rt = k::runtime();
            let client = match rt.block_on(k::client(
                args.get(&["--kubeconfig"]),
                args.get(&["--context"]),
            )) {
                Ok(t) => t.client,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            match cmd {
                "apply" => rt.block_on(apply(&client, &args)),
                "get" => rt.block_on(get(&client, &args, &sub[1..])),
                _ => rt.block_on(wait(&client, &args, &sub[1..])),
            }
        }
        Some(other) => {
            eprintln!("error: unknown command \"{other}\" for \"kubectl\"");
            1
        }
        None => {
            println!("kubectl controls the Kubernetes cluster manager.");
            0
        }
    }
}

fn version(env: &Env, args: &Args) -> i32 {
    let client_v = env.knobs.kubectl.version.clone();
    let info = |v: &str| {
        let (maj, min) = crate::fakes::common::parse_version(v)
            .map(|(a, b, _, _)| (a, b))
            .unwrap_or((1, 0));
        json!({"major": maj.to_string(), "minor": min.to_string(), "gitVersion": v, "gitCommit": "sim", "gitTreeState": "clean", "buildDate": "2025-09-09T00:00:00Z", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64"})
    };
    let server = if args.bool(&["--client"]) {
        None
    } else {
        let r = k::runtime().block_on(async {
            let t = k::client(args.get(&["--kubeconfig"]), args.get(&["--context"])).await?;
            t.client
                .apiserver_version()
                .await
                .map_err(|e| e.to_string())
        });
        match r {
            Ok(v) => Some(v.git_version),
            Err(e) => {
                if args.get(&["-o", "--output"]).is_none() {
                    println!("Client Version: {client_v}\nKustomize Version: v5.7.1");
                }
                eprintln!(
                    "The connection to the server was refused - did you specify the right host or port? ({e})"
                );
                return 1;
            }
        }
    };
    match args.get(&["-o", "--output"]) {
        Some("json") => {
            let mut v = json!({"clientVersion": info(&client_v), "kustomizeVersion": "v5.7.1"});
            if let Some(s) = &server {
                v["serverVersion"] = info(s);
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        _ => {
            println!("Client Version: {client_v}\nKustomize Version: v5.7.1");
            if let Some(s) = &server {
                println!("Server Version: {s}");
            }
        }
    }
    0
}

async fn apply(client: &kube::Client, args: &Args) -> i32 {
    let files = args.all(&["-f", "--filename"]);
    if files.is_empty() {
        eprintln!("error: must specify one of -f and -k");
        return 1;
    }
    let ns = args.get(&["-n", "--namespace"]).unwrap_or("default");
    let mut code = 0;
    for f in files {
        let text = if f == "-" {
            let mut s = String::new();
            let _ = std::io::stdin().read_to_string(&mut s);
            s
        } else {
            match std::fs::read_to_string(f) {
                Ok(s) => s,
                Err(_) => {
                    eprintln!("error: the path \"{f}\" does not exist");
                    return 1;
                }
            }
        };
        let docs = match k::documents(&text) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        };
        for doc in docs {
            match k::apply_one(client, &doc, ns).await {
                Ok((name, Applied::Created)) => println!("{name} created"),
                Ok((name, Applied::Configured)) => println!("{name} configured"),
                Err(e) => {
                    eprintln!("{e}");
                    code = 1;
                }
            }
        }
    }
    code
}

async fn find_resource(client: &kube::Client, name: &str) -> Result<(ApiResource, bool), String> {
    let wanted = short(&name.to_lowercase()).to_string();
    let (plain, group) = match wanted.split_once('.') {
        Some((p, g)) => (p.to_string(), Some(g.to_string())),
        None => (wanted.clone(), None),
    };
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| e.to_string())?;
    for g in discovery.groups() {
        if group.as_deref().is_some_and(|want| want != g.name()) {
            continue;
        }
        for (ar, caps) in g.recommended_resources() {
            if ar.plural == plain || ar.kind.to_lowercase() == plain {
                return Ok((ar, caps.scope == Scope::Namespaced));
            }
        }
    }
    Err(format!(
        "error: the server doesn't have a resource type \"{name}\""
    ))
}

fn age(obj: &Value) -> String {
    let Some(ts) = obj["metadata"]["creationTimestamp"].as_str() else {
        return "<unknown>".into();
    };
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else {
        return "<unknown>".into();
    };
    let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

fn row(plural: &str, o: &Value) -> (Vec<&'static str>, Vec<String>) {
    let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match plural {
        "services" => {
            let ty = s(&o["spec"]["type"]);
            let ingress: Vec<String> = o["status"]["loadBalancer"]["ingress"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|i| {
                            i["ip"]
                                .as_str()
                                .or(i["hostname"].as_str())
                                .map(String::from)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let external = if !ingress.is_empty() {
                ingress.join(",")
            } else if ty == "LoadBalancer" {
                "<pending>".into()
            } else {
                "<none>".into()
            };
            let ports: Vec<String> = o["spec"]["ports"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            let proto = p["protocol"].as_str().unwrap_or("TCP");
                            match p["nodePort"].as_i64() {
                                Some(np) => format!("{}:{np}/{proto}", p["port"]),
                                None => format!("{}/{proto}", p["port"]),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let cluster_ip = o["spec"]["clusterIP"]
                .as_str()
                .unwrap_or("<none>")
                .to_string();
            (
                vec![
                    "NAME",
                    "TYPE",
                    "CLUSTER-IP",
                    "EXTERNAL-IP",
                    "PORT(S)",
                    "AGE",
                ],
                vec![name, ty, cluster_ip, external, ports.join(","), age(o)],
            )
        }
        "pods" => {
            let statuses = o["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let total = o["spec"]["containers"]
                .as_array()
                .map(|a| a.len())
                .unwrap_or(0);
            let ready = statuses.iter().filter(|c| c["ready"] == true).count();
            let restarts: i64 = statuses
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            let waiting = statuses
                .iter()
                .find_map(|c| c["state"]["waiting"]["reason"].as_str().map(String::from));
            let status = waiting.unwrap_or_else(|| s(&o["status"]["phase"]));
            (
                vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
                vec![
                    name,
                    format!("{ready}/{total}"),
                    status,
                    restarts.to_string(),
                    age(o),
                ],
            )
        }
        "deployments" => {
            let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
            let st = &o["status"];
            let n = |k: &str| st[k].as_i64().unwrap_or(0);
            (
                vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                vec![
                    name,
                    format!("{}/{want}", n("readyReplicas")),
                    n("updatedReplicas").to_string(),
                    n("availableReplicas").to_string(),
                    age(o),
                ],
            )
        }
        "namespaces" => (
            vec!["NAME", "STATUS", "AGE"],
            vec![
                name,
                o["status"]["phase"]
                    .as_str()
                    .unwrap_or("Active")
                    .to_string(),
                age(o),
            ],
        ),
        _ => (vec!["NAME", "AGE"], vec![name, age(o)]),
    }
}

fn print_table(
    rows: &[(Vec<&'static str>, Vec<String>)],
    namespaces: Option<&[String]>,
    headers: bool,
) {
    let Some(first) = rows.first() else { return };
    let mut header: Vec<String> = first.0.iter().map(|s| s.to_string()).collect();
    let mut cells: Vec<Vec<String>> = rows.iter().map(|r| r.1.clone()).collect();
    if let Some(ns) = namespaces {
        header.insert(0, "NAMESPACE".into());
        for (c, n) in cells.iter_mut().zip(ns) {
            c.insert(0, n.clone());
        }
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let fmt = |r: &[String]| {
        let n = r.len();
        r.iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == n {
                    c.clone()
                } else {
                    format!("{c:<w$}   ", w = widths[i])
                }
            })
            .collect::<String>()
    };
    if headers {
        println!("{}", fmt(&header));
    }
    for r in &cells {
        println!("{}", fmt(r));
    }
}

/// `{.a.b[0].c}` jsonpath, the common subset.
fn jsonpath(expr: &str, v: &Value) -> String {
    let re = regex::Regex::new(r"\{([^}]*)\}").expect("static regex");
    re.replace_all(expr, |c: &regex::Captures| {
        let mut cur = v.clone();
        for part in c[1]
            .trim_start_matches('.')
            .split('.')
            .filter(|p| !p.is_empty())
        {
            let (key, idx) = match part.split_once('[') {
                Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (part, None),
            };
            cur = cur[key].clone();
            if let Some(i) = idx {
                cur = cur[i].clone();
            }
        }
        match cur {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    })
    .into_owned()
}

async fn get(client: &kube::Client, args: &Args, what: &[&str]) -> i32 {
    let Some(kind) = what.first() else {
        eprintln!("You must specify the type of resource to get.");
        return 1;
    };
    let (kind, mut names): (String, Vec<String>) = match kind.split_once('/') {
        Some((k, n)) => (k.to_string(), vec![n.to_string()]),
        None => (kind.to_string(), vec![]),
    };
    names.extend(what[1..].iter().map(|s| s.to_string()));
    let (ar, namespaced) = match find_resource(client, &kind).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let all_ns = args.bool(&["-A", "--all-namespaces"]);
    let ns = args.get(&["-n", "--namespace"]).unwrap_or("default");
    let api: Api<DynamicObject> = if !namespaced || all_ns {
        Api::all_with(client.clone(), &ar)
    } else {
        Api::namespaced_with(client.clone(), ns, &ar)
    };
    let mut objects: Vec<Value> = Vec::new();
    if names.is_empty() {
        let mut lp = ListParams::default();
        if let Some(l) = args.get(&["-l", "--selector"]) {
            lp = lp.labels(l);
        }
        match api.list(&lp).await {
            Ok(list) => objects.extend(
                list.items
                    .into_iter()
                    .filter_map(|o| serde_json::to_value(o).ok()),
            ),
            Err(e) => {
                eprintln!("Error from server: {e}");
                return 1;
            }
        }
    } else {
        for n in &names {
            match api.get_opt(n).await {
                Ok(Some(o)) => objects.push(serde_json::to_value(o).unwrap_or_default()),
                Ok(None) => {
                    eprintln!(
                        "Error from server (NotFound): {} \"{n}\" not found",
                        ar.plural
                    );
                    return 1;
                }
                Err(e) => {
                    eprintln!("Error from server: {e}");
                    return 1;
                }
            }
        }
    }
    for o in objects.iter_mut() {
        o["apiVersion"] = Value::String(ar.api_version.clone());
        o["kind"] = Value::String(ar.kind.clone());
    }
    let single = names.len() == 1;
    let doc = if single {
        objects[0].clone()
    } else {
        json!({"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}})
    };
    match args.get(&["-o", "--output"]) {
        Some("json") => println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default()),
        Some("yaml") => print!("{}", serde_yaml::to_string(&doc).unwrap_or_default()),
        Some("name") => {
            for o in &objects {
                println!(
                    "{}",
                    k::kubectl_name(&ar, o["metadata"]["name"].as_str().unwrap_or(""))
                );
            }
        }
        Some(o) if o.starts_with("jsonpath=") => {
            print!("{}", jsonpath(&o["jsonpath=".len()..], &doc))
        }
        _ => {
            if objects.is_empty() {
                if namespaced && !all_ns {
                    eprintln!("No resources found in {ns} namespace.");
                } else {
                    eprintln!("No resources found");
                }
                return 0;
            }
            let rows: Vec<_> = objects.iter().map(|o| row(&ar.plural, o)).collect();
            let nss: Vec<String> = objects
                .iter()
                .map(|o| {
                    o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            print_table(
                &rows,
                (all_ns && namespaced).then_some(nss.as_slice()),
                !args.bool(&["--no-headers"]),
            );
        }
    }
    0
}

pub(crate) fn parse_duration(s: &str) -> Duration {
    let re = regex::Regex::new(r"(\d+(?:\.\d+)?)(ms|s|m|h)").expect("static regex");
    let mut total = 0.0;
    for c in re.captures_iter(s) {
        let n: f64 = c[1].parse().unwrap_or(0.0);
        total += match &c[2] {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            _ => n * 3600.0,
        };
    }
    if total == 0.0 {
        total = s.parse().unwrap_or(30.0);
    }
    Duration::from_secs_f64(total)
}

async fn wait(client: &kube::Client, args: &Args, what: &[&str]) -> i32 {
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
    fn jsonpath_and_durations() {
        let v = json!({"status": {"loadBalancer": {"ingress": [{"ip": "127.1.2.3"}]}}});
        assert_eq!(
            jsonpath("{.status.loadBalancer.ingress[0].ip}", &v),
            "127.1.2.3"
        );
        assert_eq!(parse_duration("5m"), Duration::from_secs(300));
        assert_eq!(parse_duration("1m30s"), Duration::from_secs(90));
    }
}
