//! `istioctl uninstall --purge` (1.15+; `x uninstall` from 1.7): removes what install created,
//! leaving the `istio-system` namespace, as the real one does.

use super::install::{client, settings};
use super::iop::Istio;
use super::manifest;
use crate::fakes::common::{Args, Env};
use crate::fakes::kube as k;

pub fn uninstall(_env: &Env, istio: &Istio, args: &Args) -> i32 {
    if !args.bool(&["--purge"]) && !args.is_set(&["-f", "--filename", "-r", "--revision"]) {
        eprintln!(
            "Error: at least one of the --revision (or --set revision=<revision>), --filename or --purge flags must be set"
        );
        return 1;
    }
    if !args.bool(&["-y", "--skip-confirmation"])
        && !super::answered_yes(
            "All Istio resources will be pruned from the cluster\nProceed? (y/N)",
        )
    {
        eprintln!("Cancelled.");
        return 1;
    }
    let mut warnings = Vec::new();
    let mut s = match settings(istio, args, &mut warnings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    // --purge removes every component, whatever the profile enabled.
    s.base = true;
    s.pilot = true;
    s.ingress = true;
    s.egress = true;
    k::runtime().block_on(async {
        let client = match client(args).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("Error: {e}");
                return 1;
            }
        };
        eprintln!("- Pruning removed resources");
        let mut objects: Vec<_> = manifest::render(istio, &s).into_iter().flat_map(|r| r.objects).collect();
        objects.retain(|o| o["kind"] != "Namespace");
        // Custom resources go before the definitions that serve them.
        objects.sort_by_key(|o| o["kind"] == "CustomResourceDefinition");
        let iop = serde_json::json!({"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "metadata": {"name": "installed-state", "namespace": "istio-system"}});
        if (6..=23).contains(&istio.minor) {
            objects.insert(0, iop);
        }
        for o in &objects {
            if let Ok((_, true)) = k::delete_one(&client, o, "istio-system").await {
                eprintln!(
                    "  Removed {}:{}:{}.",
                    o["kind"].as_str().unwrap_or(""),
                    o["metadata"]["namespace"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                );
            }
        }
        eprintln!("✔ Uninstall complete");
        0
    })
}
