//! `istioctl version`: the client, and with `--remote` the control and data plane versions
//! read from the pods' images, in each era's shape.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::install::client;
use super::iop::Istio;
use crate::fakes::common::{Args, Env};
use crate::fakes::kube as k;

fn build_info(v: &str) -> Value {
    json!({"version": v, "revision": "sim", "golang_version": "go1.24.4", "status": "Clean", "tag": v})
}

fn image_tag(image: &str) -> String {
    image.rsplit(':').next().unwrap_or("").to_string()
}

/// (component or pod, Istio version) pairs.
type Versions = Vec<(String, String)>;

pub fn version(_env: &Env, istio: &Istio, args: &Args) -> i32 {
    let output = args.get(&["-o", "--output"]).unwrap_or("");
    let remote = args.get(&["--remote"]) != Some("false");
    let client_line = if istio.minor >= 10 {
        format!("client version: {}", istio.version)
    } else {
        istio.version.clone()
    };
    if !remote {
        match output {
            "json" => println!(
                "{}",
                serde_json::to_string_pretty(&json!({"clientVersion": build_info(&istio.version)}))
                    .unwrap_or_default()
            ),
            "yaml" => print!(
                "{}",
                serde_yaml::to_string(&json!({"clientVersion": build_info(&istio.version)}))
                    .unwrap_or_default()
            ),
            _ => println!("{client_line}"),
        }
        return 0;
    }
    let found: Result<(Versions, Versions), String> = k::runtime().block_on(async {
        let client = client(args).await?;
        let pods: Api<Pod> = Api::namespaced(client.clone(), "istio-system");
        let selector = if istio.minor >= 8 {
            "app=istiod"
        } else {
            "istio"
        };
        let cp = pods
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| e.to_string())?;
        let control: Vec<(String, String)> = cp
            .items
            .iter()
            .filter_map(|p| {
                let c = p.spec.as_ref()?.containers.first()?;
                let comp = p
                    .metadata
                    .labels
                    .as_ref()?
                    .get("istio")
                    .cloned()
                    .unwrap_or_else(|| "pilot".into());
                Some((comp, image_tag(c.image.as_deref().unwrap_or(""))))
            })
            .collect();
        let all: Api<Pod> = Api::all(client);
        let dp = all
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        let data: Vec<(String, String)> = dp
            .items
            .iter()
            .filter_map(|p| {
                let spec = p.spec.as_ref()?;
                let proxy = spec
                    .containers
                    .iter()
                    .chain(spec.init_containers.iter().flatten())
                    .find(|c| c.name == "istio-proxy")?;
                Some((
                    format!(
                        "{}.{}",
                        p.metadata.name.clone()?,
                        p.metadata.namespace.clone()?
                    ),
                    image_tag(proxy.image.as_deref().unwrap_or("")),
                ))
            })
            .collect();
        Ok((control, data))
    });
    let (control, data) = found.unwrap_or_default();
    if output == "json" || output == "yaml" {
        let v = json!({
            "clientVersion": build_info(&istio.version),
            "meshVersion": control.iter().map(|(c, v)| json!({"Component": c, "Info": build_info(v)})).collect::<Vec<_>>(),
            "dataPlaneVersion": data.iter().map(|(id, v)| json!({"ID": id, "IstioVersion": v, "Type": "sidecar"})).collect::<Vec<_>>(),
        });
        if output == "json" {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            print!("{}", serde_yaml::to_string(&v).unwrap_or_default());
        }
        return 0;
    }
    if control.is_empty() {
        if istio.minor >= 23 {
            eprintln!(
                "Istio is not present in the cluster: no running Istio pods in namespace \"istio-system\""
            );
            println!("client version: {}", istio.version);
        } else {
            let word = if istio.minor == 22 {
                "ready"
            } else {
                "running"
            };
            println!(
                "no {word} Istio pods in \"istio-system\"\n{}",
                istio.version
            );
        }
        return 0;
    }
    println!("client version: {}", istio.version);
    let mut versions: Vec<&str> = control.iter().map(|(_, v)| v.as_str()).collect();
    versions.dedup();
    if versions.len() == 1 {
        println!("control plane version: {}", versions[0]);
    } else {
        for (c, v) in &control {
            println!("{c} version: {v}");
        }
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (_, v) in &data {
        match counts.iter_mut().find(|(x, _)| x == v) {
            Some(c) => c.1 += 1,
            None => counts.push((v.clone(), 1)),
        }
    }
    let dp = if counts.is_empty() {
        "none".to_string()
    } else {
        counts
            .iter()
            .map(|(v, n)| format!("{v} ({n} proxies)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("data plane version: {dp}");
    0
}
