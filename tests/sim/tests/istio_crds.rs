//! The Istio CRDs the fake istioctl installs serve the versions the release's
//! `crd-all.gen.yaml` serves: networking.istio.io keeps v1alpha3 next to v1beta1 and, from 1.22,
//! v1 (research/istio.md §6.8), so a verify using v1alpha3 works in the sim as it does for real.

mod support;

use support::{SEED_START, Sim, text};

async fn served(sim: &Sim, profile: &str, group: &str) -> Vec<String> {
    let client = sim.world.kube_client(profile).await.unwrap();
    let g = kube::discovery::group(&client, group).await.unwrap();
    g.versions().map(String::from).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn istio_1_5_serves_networking_v1alpha3_and_v1beta1() {
    let sim = Sim::start("minikube:\n  version: v1.24.0\n");
    let out = sim.run("minikube", SEED_START);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let applied = sim
        .cmd("/bin/sh")
        .args([
            "-c",
            "istioctl manifest generate | kubectl apply --validate=false -f -",
        ])
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let mut versions = Vec::new();
    support::eventually("networking CRDs established", || {
        versions = futures_block(served(&sim, "seed", "networking.istio.io"));
        versions.len() == 2
    });
    versions.sort();
    assert_eq!(versions, ["v1alpha3", "v1beta1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn istio_1_22_adds_v1_and_keeps_the_older_versions() {
    let sim = Sim::start("minikube:\n  version: v1.38.1\nistioctl:\n  version: 1.22.0\n");
    let out = sim.run(
        "minikube",
        &["start", "-p", "new", "--kubernetes-version=v1.30.0"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let applied = sim
        .cmd("/bin/sh")
        .args(["-c", "printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istio-system\n' | kubectl apply --validate=false -f - && istioctl manifest generate | kubectl apply --validate=false -f -"])
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let mut versions = Vec::new();
    support::eventually("networking CRDs established", || {
        versions = futures_block(served(&sim, "new", "networking.istio.io"));
        versions.len() == 3
    });
    versions.sort();
    assert_eq!(versions, ["v1", "v1alpha3", "v1beta1"]);
    let mut security = futures_block(served(&sim, "new", "security.istio.io"));
    security.sort();
    assert_eq!(security, ["v1", "v1beta1"]);
}

fn futures_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}
