//! `verify-install` (1.5: pre-check without `-f`, resource checks with it; 1.6–1.23: against
//! the `installed-state` IstioOperator) and `x precheck`.

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::Api;

use super::install::{client, deployment_ready, settings};
use super::iop::{self, Istio};
use super::manifest::{self, Component, Rendered};
use crate::fakes::common::{Args, Env};
use crate::fakes::kube as k;

pub(super) async fn verify_objects(istio: &Istio, client: &Client, rendered: &[Rendered]) -> i32 {
    let (mut crds, mut deps, mut failed) = (0, 0, false);
    let mark = if istio.minor >= 6 { "✔ " } else { "" };
    for o in rendered.iter().flat_map(|r| r.objects.iter()) {
        let kind = o["kind"].as_str().unwrap_or("");
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        let ns = o["metadata"]["namespace"]
            .as_str()
            .unwrap_or("istio-system");
        let ok = match k::gvk_of(o) {
            Some(gvk) => match k::resolve(client, &gvk).await {
                Ok((ar, namespaced)) => {
                    let api: Api<kube::api::DynamicObject> = if namespaced {
                        Api::namespaced_with(client.clone(), ns, &ar)
                    } else {
                        Api::all_with(client.clone(), &ar)
                    };
                    api.get_opt(name).await.ok().flatten().is_some()
                        && (kind != "Deployment" || deployment_ready(client, name).await)
                }
                Err(_) => false,
            },
            None => false,
        };
        if ok {
            println!("{mark}{kind}: {name}.{ns} checked successfully");
            match kind {
                "CustomResourceDefinition" => crds += 1,
                "Deployment" => deps += 1,
                _ => {}
            }
        } else {
            failed = true;
            println!("✘ {kind}: {name}.{ns}: not found or not ready");
        }
    }
    if istio.minor >= 6 {
        println!("Checked {crds} custom resource definitions\nChecked {deps} Istio Deployments");
    } else {
        println!("Checked {crds} crds\nChecked {deps} Istio Deployments");
    }
    if failed {
        println!("Istio installation failed");
        return 1;
    }
    println!(
        "{}",
        if istio.minor >= 6 {
            "✔ Istio is installed and verified successfully"
        } else {
            "Istio is installed successfully"
        }
    );
    0
}

fn precheck_sections(ns_in_use: bool, k8s: &str) -> i32 {
    println!("\nChecking the cluster to make sure it is ready for Istio installation...\n");
    let section = |n: u32, title: &str, body: &str| {
        println!("#{n}. {title}\n-----------------------\n{body}\n")
    };
    section(
        1,
        "Kubernetes-api",
        "Can initialize the Kubernetes client.\nCan query the Kubernetes API Server.",
    );
    section(
        2,
        "Kubernetes-version",
        &format!("Istio is compatible with Kubernetes: {k8s}."),
    );
    if ns_in_use {
        section(
            3,
            "Istio-existence",
            "Istio cannot be installed because the Istio namespace 'istio-system' is already in use",
        );
    } else {
        section(
            3,
            "Istio-existence",
            "Istio will be installed in the istio-system namespace.",
        );
    }
    section(
        4,
        "Kubernetes-setup",
        "Can create necessary Kubernetes configurations: Namespace,ClusterRole,ClusterRoleBinding,CustomResourceDefinition,Role,ServiceAccount,Service,Deployments,ConfigMap. ",
    );
    section(
        5,
        "SideCar-Injector",
        "This Kubernetes cluster supports automatic sidecar injection. To enable automatic sidecar injection see https://istio.io/docs/setup/kubernetes/additional-setup/sidecar-injection/#deploying-an-app",
    );
    if ns_in_use {
        eprintln!("Error: precheck failed");
        return 1;
    }
    println!(
        "-----------------------\nInstall Pre-Check passed! The cluster is ready for Istio installation."
    );
    0
}

async fn cluster_facts(client: &Client) -> (bool, String) {
    let ns: Api<Namespace> = Api::all(client.clone());
    let in_use = ns.get_opt("istio-system").await.ok().flatten().is_some();
    let v = client
        .apiserver_version()
        .await
        .map(|v| v.git_version)
        .unwrap_or_default();
    (in_use, v)
}

pub fn precheck(_env: &Env, istio: &Istio, args: &Args) -> i32 {
    k::runtime().block_on(async {
        let client = match client(args).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("Error: {e}");
                return 1;
            }
        };
        if istio.minor <= 9 {
            let (in_use, v) = cluster_facts(&client).await;
            return precheck_sections(in_use, &v);
        }
        eprintln!("✔ No issues found when checking the cluster. Istio is safe to install or upgrade!\n  To get started, check out https://istio.io/latest/docs/setup/getting-started/");
        0
    })
}

pub fn verify_install(_env: &Env, istio: &Istio, args: &Args) -> i32 {
    k::runtime().block_on(async {
        let client = match client(args).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("Error: {e}");
                return 1;
            }
        };
        let files = args.all(&["-f", "--filename"]);
        if istio.minor == 5 {
            let Some(f) = files.first() else {
                let (in_use, v) = cluster_facts(&client).await;
                return precheck_sections(in_use, &v);
            };
            let objects = match std::fs::read_to_string(f).map_err(|e| e.to_string()).and_then(|t| k::documents(&t)) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("Error: Istio installation failed, incomplete or does not match \"{f}\" - {e}");
                    return 1;
                }
            };
            return verify_objects(istio, &client, &[Rendered { component: Component::Base, objects }]).await;
        }
        let mut warnings = Vec::new();
        let s = if files.is_empty() {
            let gvk = kube::core::GroupVersionKind::gvk("install.istio.io", "v1alpha1", "IstioOperator");
            let found = match k::resolve(&client, &gvk).await {
                Ok((ar, _)) => Api::<kube::api::DynamicObject>::namespaced_with(client.clone(), "istio-system", &ar)
                    .get_opt("installed-state")
                    .await
                    .ok()
                    .flatten(),
                Err(_) => None,
            };
            let Some(iop_obj) = found else {
                eprintln!("Error: could not load IstioOperator from cluster: the server could not find the requested resource.  Use --filename");
                return 1;
            };
            let tmp = std::env::temp_dir().join(format!("istioctl-verify-{}.yaml", std::process::id()));
            let _ = std::fs::write(&tmp, serde_yaml::to_string(&iop_obj).unwrap_or_default());
            let r = iop::build(istio, &[tmp.display().to_string()], &[], true, &mut warnings);
            let _ = std::fs::remove_file(&tmp);
            println!("1 Istio control planes detected, checking --revision \"default\" only");
            match r {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{}", e.text());
                    return 1;
                }
            }
        } else {
            match settings(istio, args, &mut warnings) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return 1;
                }
            }
        };
        verify_objects(istio, &client, &manifest::render(istio, &s)).await
    })
}
