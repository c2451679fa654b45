//! `kubectl delete -f FILE|-` (how Istio 1.5 is uninstalled: `istioctl manifest generate |
//! kubectl delete -f -`) and `kubectl delete KIND NAME`.

use serde_json::json;

use super::{find_resource, read_files};
use crate::fakes::common::Args;
use crate::fakes::kube as k;

pub(super) async fn delete(client: &kube::Client, args: &Args, what: &[&str]) -> i32 {
    let ns = args.get(&["-n", "--namespace"]).unwrap_or("default");
    let ignore = args.bool(&["--ignore-not-found"]);
    let mut objects = Vec::new();
    if args.is_set(&["-f", "--filename"]) {
        let texts = match read_files(args) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        };
        for t in texts {
            match k::documents(&t) {
                Ok(d) => objects.extend(d),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            }
        }
    } else {
        let Some(kind) = what.first() else {
            eprintln!("error: You must provide one or more resources by argument or filename.");
            return 1;
        };
        let (kind, names): (String, Vec<String>) = match kind.split_once('/') {
            Some((k, n)) => (k.to_string(), vec![n.to_string()]),
            None => (
                kind.to_string(),
                what[1..].iter().map(|s| s.to_string()).collect(),
            ),
        };
        let (ar, _) = match find_resource(client, &kind).await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        };
        for n in names {
            objects.push(json!({"apiVersion": ar.api_version, "kind": ar.kind, "metadata": {"name": n, "namespace": ns}}));
        }
    }
    let mut code = 0;
    // Namespaces last, like the order a manifest is removed in.
    objects.sort_by_key(|o| o["kind"] == "Namespace");
    for o in objects {
        match k::delete_one(client, &o, ns).await {
            Ok((label, true)) => println!("{label} deleted"),
            Ok((label, false)) if !ignore => {
                eprintln!("Error from server (NotFound): {label} not found");
                code = 1;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("{e}");
                code = 1;
            }
        }
    }
    code
}
