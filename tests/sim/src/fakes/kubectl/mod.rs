//! The fake `kubectl`: `version`, `apply -f -|FILE`, `get`, `wait` — what Istio 1.5's
//! `manifest apply`, meshup's preflight and a person in `sim-shell.sh` need.

use std::io::Read;

use kube::discovery::{ApiResource, Discovery, Scope};
use serde_json::json;

mod delete;
mod get;
mod prune;
mod wait;

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
    "--ignore-not-found",
    "--wait",
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
        Some(cmd @ ("apply" | "get" | "wait" | "delete")) => {
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
                "get" => rt.block_on(get::get(&client, &args, &sub[1..])),
                "delete" => rt.block_on(delete::delete(&client, &args, &sub[1..])),
                _ => rt.block_on(wait::wait(&client, &args, &sub[1..])),
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

pub(super) fn read_files(args: &Args) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for f in args.all(&["-f", "--filename"]) {
        if f == "-" {
            let mut s = String::new();
            let _ = std::io::stdin().read_to_string(&mut s);
            out.push(s);
        } else {
            out.push(
                std::fs::read_to_string(f)
                    .map_err(|_| format!("error: the path \"{f}\" does not exist"))?,
            );
        }
    }
    Ok(out)
}

async fn apply(client: &kube::Client, args: &Args) -> i32 {
    let files = args.all(&["-f", "--filename"]);
    if files.is_empty() {
        eprintln!("error: must specify one of -f and -k");
        return 1;
    }
    let ns = args.get(&["-n", "--namespace"]).unwrap_or("default");
    let selector = args.get(&["-l", "--selector"]);
    let pruning = args.bool(&["--prune"]);
    if pruning && selector.is_none() && !args.bool(&["--all"]) {
        eprintln!("{}", prune::NEEDS_SELECTOR);
        return 1;
    }
    let mut applied = Vec::new();
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
        for mut doc in docs {
            // Like kubectl: `-l` applies only the matching objects; each applied object
            // remembers what was applied (what `--prune` later recognises as its own).
            if let Some(sel) = selector
                && !selector_matches(sel, &doc["metadata"]["labels"])
            {
                continue;
            }
            let last = serde_json::to_string(&doc).unwrap_or_default();
            doc["metadata"]["annotations"][prune::LAST_APPLIED] = last.into();
            applied.push(prune::applied_key(&doc, ns));
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
    if pruning
        && code == 0
        && let Err(e) = prune::prune(client, selector.unwrap_or(""), ns, &applied).await
    {
        eprintln!("{e}");
        return 1;
    }
    code
}

/// `a=b,c!=d,e` against an object's labels (the forms istioctl and people use with `-l`).
fn selector_matches(selector: &str, labels: &serde_json::Value) -> bool {
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                labels[k].as_str() != Some(v)
            } else if let Some((k, v)) = term.split_once('=') {
                labels[k.trim_end_matches('=')].as_str() == Some(v)
            } else if let Some(k) = term.strip_prefix('!') {
                labels[k].is_null()
            } else {
                !labels[term].is_null()
            }
        })
}

pub(super) async fn find_resource(
    client: &kube::Client,
    name: &str,
) -> Result<(ApiResource, bool), String> {
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
