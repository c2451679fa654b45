//! `meshup start --dry-run` / `meshup plan` in the simulated world: the plan's content, its
//! JSON shape, and that only read-only version queries ran.

mod common;
#[path = "common/mirror.rs"]
mod mirror;

use common::{Fakes, stderr, stdout};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/seed-istio-1.5-k8s-1.15.yaml"
);

fn plan_json(fakes: &Fakes, args: &[&str]) -> serde_json::Value {
    let out = fakes
        .meshup()
        .args(["plan", "--output", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn only_version_queries(fakes: &Fakes) {
    for call in fakes.calls() {
        let read_only = call == "minikube version -o json"
            || call == "istioctl version --remote=false -o json"
            || call == "docker info --format {{json .}}"
            // Asked only when the scenario runs kubectl (Istio 1.5, `method: manifest`), to
            // know whether the one on PATH fits, as the live start decides it.
            || call == "kubectl version --client -o json";
        assert!(read_only, "a dry-run ran `{call}`");
    }
}

fn snapshot_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        // The fakes' folder (a path, not a URL's `//host/.../bin/`).
        (r"(\s)/[^/\s][^\s]*/bin/", "$1[BIN]/"),
        (r"(linux|osx|darwin)-(amd64|arm64)", "[PLATFORM]"),
        (r"/(linux|darwin)/(amd64|arm64)/", "/[OS]/[ARCH]/"),
    ]
}

#[test]
fn the_seed_dry_run_shows_the_minikube_and_istioctl_lines() {
    let fakes = Fakes::new();
    let out = fakes
        .meshup()
        .args(["start", "--dry-run", "-f", SEED])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "minikube start -p meshup --kubernetes-version=v1.15.10 --cpus=4 --memory=8192mb"
        ),
        "{text}"
    );
    assert!(text.contains("istioctl manifest apply -y --set profile=default --set values.global.proxy.accessLogFile=/dev/stdout --set values.global.proxy.accessLogEncoding=JSON"), "{text}");
    assert!(
        text.contains("jwtPolicy   auto (detected from the cluster at install)"),
        "{text}"
    );
    assert!(stderr(&out).contains("dry run: nothing was started"));
    only_version_queries(&fakes);
    insta::with_settings!({ filters => snapshot_filters() }, {
        insta::assert_snapshot!("seed_plan", text);
    });
}

#[test]
fn the_seed_plan_as_json_lists_stages_in_dependency_order() {
    let fakes = Fakes::new();
    let out = fakes
        .meshup()
        .args(["start", "--dry-run", "--output", "json", "-f", SEED])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "start prints JSON lines");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["schema"], "meshup.plan/v1");
    let names: Vec<&str> = plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "preflight",
            "tools",
            "cluster",
            "tunnel",
            "mesh",
            "smoke",
            "verify"
        ]
    );
    for (i, stage) in plan["stages"].as_array().unwrap().iter().enumerate() {
        for need in stage["needs"].as_array().unwrap() {
            let at = names
                .iter()
                .position(|n| *n == need.as_str().unwrap())
                .unwrap();
            assert!(at < i, "{} needs {need}, which comes later", names[i]);
        }
    }
    assert_eq!(plan["resolved"]["kubernetes"], "v1.15.10");
    assert_eq!(plan["resolved"]["istio"], "1.5.0");
    // minikube v1.38.1 on PATH cannot start v1.15.10: v1.24.0 is fetched.
    let minikube = &plan["tools"][0];
    assert_eq!(minikube["tool"], "minikube");
    assert_eq!(minikube["source"]["kind"], "download");
    assert_eq!(minikube["version"], "v1.24.0");
    let mesh = &plan["stages"][4]["commands"][0];
    assert_eq!(mesh["program"], "istioctl");
    assert_eq!(mesh["args"][0], "manifest");
    only_version_queries(&fakes);
}

#[test]
fn a_minikube_on_path_that_fits_is_used() {
    let fakes = Fakes::new().host(|k| {
        k.minikube.version = "v1.24.0".into();
        k.istioctl.version = "1.5.0".into();
    });
    let plan = plan_json(&fakes, &["-f", SEED]);
    assert_eq!(plan["tools"][0]["source"]["kind"], "path");
    assert_eq!(plan["tools"][1]["source"]["kind"], "path");
    assert_eq!(plan["tools"][1]["version"], "1.5.0");
}

#[test]
fn istio_1_5_on_kubernetes_1_17_warns() {
    let fakes = Fakes::new();
    let out = fakes
        .meshup()
        .args(["start", "--dry-run", "--k8s", "v1.17.0", "--istio", "1.5.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("! warning: Istio 1.5 is tested on Kubernetes 1.14–1.16, not 1.17"),
        "{text}"
    );
    assert!(
        text.contains("→ use Istio 1.6.14 (supports Kubernetes 1.15–1.18) or Kubernetes v1.16.15"),
        "{text}"
    );
}

#[test]
fn kubernetes_alone_picks_a_supporting_istio_and_says_why() {
    let fakes = Fakes::new();
    let plan = plan_json(&fakes, &["--k8s", "v1.15.10"]);
    assert_eq!(plan["resolved"]["istio"], "1.6.14");
    let why = plan["resolved"]["istioReason"].as_str().unwrap();
    assert!(
        why.contains("supports Kubernetes 1.15") && why.contains("1.15–1.18"),
        "{why}"
    );
    assert!(
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] != "istio-kubernetes-unsupported")
    );
    // The newest Istio keeps its place when it supports the version.
    let plan = plan_json(&fakes, &["--k8s", "1.33"]);
    assert_eq!(plan["resolved"]["kubernetes"], "v1.33.1");
    assert_eq!(plan["resolved"]["istio"], "1.30.5");
}

#[test]
fn the_default_scenario_uses_minikubes_stable() {
    let fakes = Fakes::new();
    let out = fakes.meshup().args(["plan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Kubernetes  v1.35.1    `stable` of minikube v1.38.1 (on PATH)"),
        "{text}"
    );
    insta::with_settings!({ filters => snapshot_filters() }, {
        insta::assert_snapshot!("default_plan", text);
    });
    // Without minikube, `stable` is the one meshup would fetch.
    let fakes = Fakes::new().without("minikube");
    let plan = plan_json(&fakes, &[]);
    assert!(
        plan["resolved"]["kubernetesReason"]
            .as_str()
            .unwrap()
            .contains("meshup would fetch")
    );
}

#[test]
fn set_values_are_passed_as_given() {
    let fakes = Fakes::new();
    let out = fakes
        .meshup()
        .args([
            "plan",
            "--set",
            "tag=1.10",
            "--set",
            "components.egressGateways.[name:istio-egressgateway].enabled=true",
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("--set tag=1.10 --set 'components.egressGateways.[name:istio-egressgateway].enabled=true'"), "{text}");
    // Istio 1.22+ has no jwtPolicy value: nothing is passed for it.
    assert!(!text.contains("jwtPolicy="), "{text}");
}

#[test]
fn versions_no_minikube_can_start_fail_the_plan_with_3() {
    let fakes = Fakes::new();
    let out = fakes
        .meshup()
        .args(["plan", "--k8s", "v1.36.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).contains("no minikube release meshup knows starts Kubernetes v1.36.2"));
    assert!(stdout(&out).contains("→ use Kubernetes v1.35.1"));
}

#[test]
fn host_problems_show_in_the_plan_without_failing_it() {
    let fakes = Fakes::new().host(|k| k.docker.cgroup_version = "2".into());
    let out = fakes
        .meshup()
        .args(["start", "--dry-run", "-f", SEED])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Kubernetes v1.15.10 cannot run on this cgroup v2 host"));
    assert!(stderr(&out).contains("preflight would stop at 1 error(s)"));
}

#[test]
fn manifest_method_generates_then_applies_with_kubectl() {
    let fakes = Fakes::new();
    let f = fakes.file("m.yaml", "apiVersion: meshup/v1\nkind: Scenario\ncluster:\n  kubernetes: v1.30.0\nmesh:\n  istio: \"1.21\"\n  method: manifest\n");
    let plan = plan_json(&fakes, &["-f", f.to_str().unwrap()]);
    let cmds: Vec<String> = plan["stages"][4]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["program"].as_str().unwrap(),
                c["args"][0].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        cmds,
        [
            "istioctl manifest",
            "kubectl --context",
            "kubectl --context"
        ]
    );
    assert_eq!(plan["resolved"]["istio"], "1.21.6");
}

#[test]
fn the_plan_shows_the_mirrors_urls_without_asking_the_mirror() {
    let mirror = mirror::Mirror::start();
    let (minikube_base, istio_base, kubectl_base) = (
        mirror.url("minikube"),
        mirror.url("istio"),
        mirror.url("kubectl"),
    );
    let fakes = Fakes::new()
        .env("MESHUP_MINIKUBE_MIRROR", &minikube_base)
        .env("MESHUP_ISTIO_MIRROR", &istio_base)
        .env("MESHUP_KUBECTL_MIRROR", &kubectl_base);
    let plan = plan_json(&fakes, &["-f", SEED]);
    let url = |i: usize| {
        plan["tools"][i]["source"]["url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        url(0).starts_with(&format!("{minikube_base}/v1.24.0/minikube-")),
        "{}",
        url(0)
    );
    assert_eq!(
        url(1),
        format!("{istio_base}/1.5.0/istio-1.5.0-linux.tar.gz")
    );
    assert!(url(2).starts_with(&format!("{kubectl_base}/v1.15.10/bin/")));
    assert!(
        plan["tools"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("v1.24.0")
    );
    assert!(mirror.requests().is_empty(), "{:?}", mirror.requests());
    only_version_queries(&fakes);
}

#[test]
fn a_locked_dry_run_without_a_lock_fails_as_the_start_would() {
    let fakes = Fakes::new();
    let out = fakes
        .meshup()
        .args(["start", "--dry-run", "--locked", "-f", SEED])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--locked was given but there is no"),
        "{}",
        stderr(&out)
    );
    only_version_queries(&fakes);
}
