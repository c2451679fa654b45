//! `kubectl get`: tables like kubectl's for the kinds a person looks at, `-o json|yaml|name`,
//! and the common `jsonpath` subset.

use kube::api::{Api, DynamicObject, ListParams};
use serde_json::{Value, json};

use super::find_resource;
use crate::fakes::common::Args;
use crate::fakes::kube as k;
use crate::server::table::age;

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

pub(super) async fn get(client: &kube::Client, args: &Args, what: &[&str]) -> i32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jsonpath_subset() {
        let v = json!({"status": {"loadBalancer": {"ingress": [{"ip": "127.1.2.3"}]}}});
        assert_eq!(
            jsonpath("{.status.loadBalancer.ingress[0].ip}", &v),
            "127.1.2.3"
        );
    }
}
