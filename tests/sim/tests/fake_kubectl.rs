//! The fake kubectl where it must be as strict as the real one: `apply --prune -l` and kinds a
//! CRD has not yet made known.

mod support;

use std::io::Write;
use std::process::Stdio;

use support::{Sim, text};

fn cluster(sim: &Sim) -> std::path::PathBuf {
    let info = sim.world.start_cluster("k", "v1.15.10");
    let kc = sim.path().join("k-kubeconfig");
    std::fs::write(&kc, meshup_sim::world::kubeconfig_yaml(&info)).unwrap();
    kc
}

fn kubectl(sim: &Sim, kc: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = sim
        .cmd(support::bin())
        .env("MESHUP_SIM_AS", "kubectl")
        .env("KUBECONFIG", kc)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn cm(name: &str, label: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\n  labels:\n    part: {label}\ndata:\n  a: b\n"
    )
}

#[test]
fn apply_prune_deletes_what_the_selector_matches_and_the_apply_left_out() {
    let sim = Sim::start("");
    let kc = cluster(&sim);
    let both = format!(
        "{}---\n{}---\n{}",
        cm("one", "x"),
        cm("two", "x"),
        cm("other", "y")
    );
    let out = kubectl(
        &sim,
        &kc,
        &["apply", "-n", "default", "-l", "part=x", "-f", "-"],
        &both,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // `-l` applies only the matching objects.
    assert_eq!(
        text(&out.stdout),
        "configmap/one created\nconfigmap/two created\n"
    );

    let out = kubectl(
        &sim,
        &kc,
        &["apply", "-n", "default", "--prune", "-f", "-"],
        &cm("one", "x"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("all resources selected for prune without explicitly passing --all")
    );

    let out = kubectl(
        &sim,
        &kc,
        &[
            "apply",
            "-n",
            "default",
            "--prune",
            "--selector",
            "part=x",
            "-f",
            "-",
        ],
        &cm("one", "x"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "configmap/one configured\nconfigmap/two pruned\n"
    );
    let get = kubectl(&sim, &kc, &["get", "configmap", "two", "-n", "default"], "");
    assert_eq!(get.status.code(), Some(1));
}

#[test]
fn a_kind_from_a_crd_in_the_same_apply_has_no_match_yet() {
    let sim = Sim::start("");
    let kc = cluster(&sim);
    let crd = "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata:\n  name: gateways.networking.istio.io\nspec:\n  group: networking.istio.io\n  names:\n    kind: Gateway\n    plural: gateways\n    singular: gateway\n    listKind: GatewayList\n  scope: Namespaced\n  version: v1alpha3\n  versions:\n  - name: v1alpha3\n    served: true\n    storage: true\n";
    let gw = "apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\nmetadata:\n  name: g\n  namespace: default\nspec:\n  selector:\n    istio: ingressgateway\n";
    let out = kubectl(&sim, &kc, &["apply", "-f", "-"], &format!("{crd}---\n{gw}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(
        "customresourcedefinition.apiextensions.k8s.io/gateways.networking.istio.io created"
    ));
    assert!(
        text(&out.stderr).contains("error: unable to recognize \"STDIN\": no matches for kind \"Gateway\" in version \"networking.istio.io/v1alpha3\""),
        "{}",
        text(&out.stderr)
    );
    support::eventually("the CRD Established and the Gateway applied", || {
        kubectl(&sim, &kc, &["apply", "-f", "-"], gw)
            .status
            .success()
    });
}
