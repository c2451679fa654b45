//! `meshup manifest diff` and `meshup istio profiles|profile dump|profile diff` against the
//! simulated istioctl 1.5.0 on PATH (the seed's host): resource-aware differences, exit codes
//! like `diff`, stable sorted output.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;

const V15: &[&str] = &["--istio", "1.5.0", "--k8s", "v1.15.10"];

fn with(base: &[&str], rest: &[&str]) -> Vec<String> {
    base.iter().chain(rest).map(|s| s.to_string()).collect()
}

fn run(world: &meshup_sim::World, args: Vec<String>) -> Run {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    meshup(world, &refs)
}

#[test]
fn the_seeds_access_log_overrides_change_two_configmaps() {
    let world = seed_world();
    let sets = [
        "--set",
        "values.global.proxy.accessLogEncoding=JSON",
        "--set",
        "values.global.proxy.accessLogFile=/dev/stdout",
    ];
    let out = run(&world, with(&["manifest", "diff"], &[V15, &sets].concat()));
    assert_eq!(out.code, Some(1), "{out}");
    let changed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("changed ") || l.starts_with("added ") || l.starts_with("removed ")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "changed ConfigMap istio-system/istio",
            "changed ConfigMap istio-system/istio-sidecar-injector"
        ],
        "{out}"
    );
    // The change inside the embedded mesh config and values JSON, not a whole-line blob.
    assert!(
        out.stdout.contains("+    accessLogFile: /dev/stdout"),
        "{out}"
    );
    assert!(
        out.stdout.contains("\"accessLogFile\": \"/dev/stdout\""),
        "{out}"
    );
    assert!(
        out.stdout.contains("2 changed, 0 added, 0 removed"),
        "{out}"
    );

    let json = run(
        &world,
        with(
            &["manifest", "diff", "--output", "json"],
            &[V15, &sets].concat(),
        ),
    );
    assert_eq!(json.code, Some(1), "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["identical"], false);
    assert_eq!(doc["changed"].as_array().unwrap().len(), 2);
    assert_eq!(doc["changed"][0]["kind"], "ConfigMap");

    let same = run(&world, with(&["manifest", "diff"], V15));
    assert_eq!(same.code, Some(0), "{same}");
    assert!(
        same.stdout.contains("The manifests are identical."),
        "{same}"
    );

    // Against the bare minimal profile: the ingress gateway is removed from the comparison.
    let minimal = run(
        &world,
        with(&["manifest", "diff", "--against-profile", "minimal"], V15),
    );
    assert_eq!(minimal.code, Some(1), "{minimal}");
    assert!(
        minimal
            .stdout
            .contains("added Deployment istio-system/istio-ingressgateway"),
        "{minimal}"
    );
    assert!(minimal_start_free(&world));
}

fn minimal_start_free(world: &meshup_sim::World) -> bool {
    // Read-only: no cluster, no install.
    minikube(world, "start").is_empty()
        && !world
            .calls()
            .iter()
            .any(|c| c.tool == "istioctl" && c.has_args(&["manifest", "apply"]))
}

#[test]
fn a_typo_in_a_set_path_is_bad_input() {
    let world = seed_world();
    let out = run(
        &world,
        with(
            &["manifest", "diff"],
            &[V15, &["--set", "values.global.proxy.accessLogEncodng=JSON"]].concat(),
        ),
    );
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.text().contains("unknown field \"accessLogEncodng\""),
        "{out}"
    );
}

#[test]
fn profiles_listed_dumped_and_diffed() {
    let world = seed_world();
    let list = run(&world, with(&["istio", "profiles"], V15));
    assert_eq!(list.code, Some(0), "{list}");
    assert_eq!(
        list.stdout,
        "Istio 1.5.0 profiles:\n  default\n  demo\n  empty\n  minimal\n  remote\n  separate\n",
        "{list}"
    );
    let dump = run(&world, with(&["istio", "profile", "dump", "demo"], V15));
    assert_eq!(dump.code, Some(0), "{dump}");
    assert!(dump.stdout.contains("egressGateways"), "{dump}");
    let diff = run(
        &world,
        with(&["istio", "profile", "diff", "default", "demo"], V15),
    );
    assert_eq!(diff.code, Some(1), "{diff}");
    assert!(diff.stdout.starts_with("--- default\n+++ demo\n"), "{diff}");
    assert!(diff.stdout.contains("\n+    profile: demo\n"), "{diff}");
    let same = run(
        &world,
        with(&["istio", "profile", "diff", "demo", "demo"], V15),
    );
    assert_eq!(same.code, Some(0), "{same}");
    let unknown = run(&world, with(&["istio", "profile", "dump", "ambient"], V15));
    assert_eq!(unknown.code, Some(2), "{unknown}");
    assert!(
        unknown.text().contains("has no `ambient` profile"),
        "{unknown}"
    );
}
