//! `meshup start` installs the mesh in the simulated world: Istio 1.5.0 on Kubernetes v1.15.10
//! (no token projection: first-party JWT detected and passed, `manifest apply`), the same with
//! `method: manifest`, a current Istio with `install -y` and no jwtPolicy, the record, a re-run
//! that installs nothing, and a changed override that needs consent.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;

fn istioctl_installs(world: &meshup_sim::World) -> Vec<meshup_sim::calllog::Call> {
    world
        .calls()
        .into_iter()
        .filter(|c| {
            c.tool == "istioctl" && (c.has_args(&["install"]) || c.has_args(&["manifest", "apply"]))
        })
        .collect()
}

async fn assert_istio_1_5_objects(world: &meshup_sim::World) {
    let client = world.kube_client("meshup").await.expect("kube client");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    for name in ["istiod", "istio-ingressgateway"] {
        let d = deployments
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let st = d.status.unwrap_or_default();
        assert!(
            st.available_replicas.unwrap_or(0) >= 1,
            "{name} not available"
        );
    }
    let svc: Service = Api::namespaced(client.clone(), "istio-system")
        .get("istio-ingressgateway")
        .await
        .unwrap();
    let spec = svc.spec.unwrap();
    assert_eq!(spec.type_.as_deref(), Some("LoadBalancer"));
    let status_port = spec
        .ports
        .unwrap()
        .into_iter()
        .find(|p| p.name.as_deref() == Some("status-port"))
        .unwrap();
    assert_eq!(status_port.port, 15020);
    // 1.15 serves webhooks only as v1beta1: read through that group version.
    let ar = ApiResource {
        group: "admissionregistration.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "admissionregistration.k8s.io/v1beta1".into(),
        kind: "MutatingWebhookConfiguration".into(),
        plural: "mutatingwebhookconfigurations".into(),
    };
    let mwc: Api<DynamicObject> = Api::all_with(client, &ar);
    assert!(mwc.get("istio-sidecar-injector").await.is_ok());
}

#[tokio::test]
async fn the_seed_installs_istio_1_5_with_first_party_jwt() {
    let world = seed_world();
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(0), "{run}");
    let text = run.text();
    assert!(
        text.contains(
            "JWT policy first-party-jwt: the cluster does not serve serviceaccounts/token"
        ),
        "{run}"
    );
    let installs = istioctl_installs(&world);
    assert_eq!(installs.len(), 1, "{}", calls_text(&world));
    let argv = installs[0].command_line();
    for part in [
        "manifest apply -y",
        "--set profile=default",
        "--set values.global.jwtPolicy=first-party-jwt",
        "--set values.global.proxy.accessLogFile=/dev/stdout",
        "--context meshup",
    ] {
        assert!(argv.contains(part), "{argv}");
    }
    assert_eq!(installs[0].exit_code, Some(0));
    assert!(text.contains("Istiod installed"), "{run}");
    assert_istio_1_5_objects(&world).await;

    // The record: the exact command and the rendered manifest with the policy resolved.
    let dir = state_dir(&world, "meshup").join("mesh");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("record.json")).unwrap()).unwrap();
    assert_eq!(record["istio"], "1.5.0");
    assert_eq!(record["jwtPolicy"], "first-party-jwt");
    assert!(
        record["command"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "apply")
    );
    let manifest = std::fs::read_to_string(dir.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("first-party-jwt") && manifest.contains("accessLogFile: /dev/stdout")
    );

    // Again with nothing changed: no install.
    let again = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(istioctl_installs(&world).len(), 1, "{}", calls_text(&world));
    assert!(again.text().contains("nothing to do"), "{again}");

    // A changed override: the diff is shown, and without consent nothing is applied (CI).
    let changed = meshup(
        &world,
        &[
            "start",
            "-f",
            SEED,
            "--set",
            "values.global.proxy.accessLogEncoding=TEXT",
        ],
    );
    assert_eq!(changed.code, Some(7), "{changed}");
    let t = changed.text();
    assert!(
        t.contains("changed ConfigMap istio-system/istio"),
        "{changed}"
    );
    assert!(
        t.contains("changed ConfigMap istio-system/istio-sidecar-injector"),
        "{changed}"
    );
    assert!(t.contains("--yes"), "{changed}");
    assert_eq!(istioctl_installs(&world).len(), 1);
    let yes = meshup(
        &world,
        &[
            "start",
            "-f",
            SEED,
            "--yes",
            "--set",
            "values.global.proxy.accessLogEncoding=TEXT",
        ],
    );
    assert_eq!(yes.code, Some(0), "{yes}");
    assert_eq!(istioctl_installs(&world).len(), 2);

    // `down --mesh-only`: exactly the recorded objects go; the cluster stays.
    let down = meshup(&world, &["down", "--mesh-only"]);
    assert_eq!(down.code, Some(0), "{down}");
    assert!(
        minikube(&world, "delete").is_empty(),
        "{}",
        calls_text(&world)
    );
    let client = world.kube_client("meshup").await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    assert!(deployments.get_opt("istiod").await.unwrap().is_none());
    let crds = ApiResource {
        group: "apiextensions.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "apiextensions.k8s.io/v1beta1".into(),
        kind: "CustomResourceDefinition".into(),
        plural: "customresourcedefinitions".into(),
    };
    let crds: Api<DynamicObject> = Api::all_with(client.clone(), &crds);
    assert!(
        crds.get_opt("gateways.networking.istio.io")
            .await
            .unwrap()
            .is_none()
    );
    let system: Api<Deployment> = Api::namespaced(client, "kube-system");
    assert!(system.get_opt("coredns").await.unwrap().is_some());
    assert!(!state_dir(&world, "meshup").join("mesh").exists());
    assert_only_the_daemon_runs(&world);
}

#[tokio::test]
async fn the_seed_with_method_manifest_applies_the_rendered_manifest() {
    let world = seed_world();
    let scenario = world.dir().join("manifest.yaml");
    let seed = std::fs::read_to_string(SEED).unwrap();
    std::fs::write(
        &scenario,
        seed.replace("method: istioctl", "method: manifest"),
    )
    .unwrap();
    let run = meshup(&world, &["start", "-f", scenario.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        istioctl_installs(&world).is_empty(),
        "{}",
        calls_text(&world)
    );
    assert!(world.calls().iter().any(|c| c.tool == "istioctl"
        && c.has_args(&["manifest", "generate"])
        && c.has_args(&["--set", "values.global.jwtPolicy=first-party-jwt"])));
    assert_istio_1_5_objects(&world).await;
}

#[tokio::test]
async fn a_current_istio_installs_without_a_jwt_policy() {
    let world = seed_world_with(|k| {
        k.minikube.version = "v1.38.1".into();
        k.istioctl.version = "1.30.5".into();
        k.kubectl.version = "v1.34.1".into();
        k.docker.cgroup_version = "2".into();
    });
    let run = meshup(&world, &["start", "--k8s", "v1.34.0", "--istio", "1.30.5"]);
    assert_eq!(run.code, Some(0), "{run}");
    let installs = istioctl_installs(&world);
    assert_eq!(installs.len(), 1, "{}", calls_text(&world));
    let argv = installs[0].command_line();
    assert!(argv.contains("install -y --set profile=default"), "{argv}");
    assert!(!argv.contains("jwtPolicy"), "{argv}");
    let client = world.kube_client("meshup").await.unwrap();
    let svc: Service = Api::namespaced(client, "istio-system")
        .get("istio-ingressgateway")
        .await
        .unwrap();
    assert!(
        svc.spec
            .unwrap()
            .ports
            .unwrap()
            .iter()
            .any(|p| p.port == 15021)
    );
}

#[test]
fn istio_1_22_on_a_cluster_without_token_projection_stops_with_the_fix() {
    let world = seed_world_with(|k| {
        k.minikube.version = "v1.38.1".into();
        k.istioctl.version = "1.22.8".into();
        k.kubectl.version = "v1.30.14".into();
        k.docker.cgroup_version = "2".into();
        k.cluster.service_account_token = Some(false);
    });
    let run = meshup(&world, &["start", "--k8s", "v1.30.0", "--istio", "1.22.8"]);
    assert_eq!(run.code, Some(3), "{run}");
    let text = run.text();
    assert!(
        text.contains("does not serve `serviceaccounts/token`"),
        "{run}"
    );
    assert!(text.contains("service-account-issuer"), "{run}");
    assert!(
        istioctl_installs(&world).is_empty(),
        "{}",
        calls_text(&world)
    );
}

#[tokio::test]
async fn one_minor_up_is_an_in_place_upgrade_after_consent_and_a_jump_is_refused() {
    let world = seed_world();
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(0), "{run}");
    // The same scenario on Istio 1.6 (meshConfig paths: 1.6 still accepts the 1.5 ones).
    let mut knobs = seed_knobs();
    knobs.istioctl.version = "1.6.14".into();
    world.set_knobs(&knobs);
    let asked = meshup(&world, &["start", "-f", SEED, "--istio", "1.6.14"]);
    assert_eq!(asked.code, Some(7), "{asked}");
    assert!(
        asked
            .text()
            .contains("plan: upgrade Istio 1.5.0 → 1.6.14 in place"),
        "{asked}"
    );
    assert!(asked.text().contains("--yes"), "{asked}");
    assert_eq!(istioctl_installs(&world).len(), 1);
    let yes = meshup(&world, &["start", "-f", SEED, "--istio", "1.6.14", "--yes"]);
    assert_eq!(yes.code, Some(0), "{yes}");
    let installs = istioctl_installs(&world);
    assert_eq!(installs.len(), 2);
    assert!(
        installs[1].command_line().contains("install -y"),
        "{}",
        installs[1].command_line()
    );
    let client = world.kube_client("meshup").await.unwrap();
    let istiod: Deployment = Api::namespaced(client, "istio-system")
        .get("istiod")
        .await
        .unwrap();
    let image = istiod.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert!(image.ends_with(":1.6.14"), "{image}");

    // Back down to 1.5: refused, nothing run.
    world.set_knobs(&seed_knobs());
    let down = meshup(&world, &["start", "-f", SEED, "--yes"]);
    assert_eq!(down.code, Some(7), "{down}");
    assert!(down.text().contains("only one minor up"), "{down}");
    assert!(down.text().contains("--recreate-mesh"), "{down}");
    assert_eq!(istioctl_installs(&world).len(), 2);

    // --recreate-mesh: the recorded 1.6 mesh is removed, then 1.5 installed.
    let recreated = meshup(&world, &["start", "-f", SEED, "--yes", "--recreate-mesh"]);
    assert_eq!(recreated.code, Some(0), "{recreated}");
    assert!(
        recreated.text().contains("removing Istio 1.6.14"),
        "{recreated}"
    );
    assert_eq!(istioctl_installs(&world).len(), 3);
    let client = world.kube_client("meshup").await.unwrap();
    let istiod: Deployment = Api::namespaced(client, "istio-system")
        .get("istiod")
        .await
        .unwrap();
    let image = istiod.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert!(image.ends_with(":1.5.0"), "{image}");
}

#[test]
fn a_gateway_that_never_gets_ready_fails_the_mesh_naming_component_and_resource() {
    let world = seed_world_with(|k| {
        k.minikube.version = "v1.38.1".into();
        k.istioctl.version = "1.30.5".into();
        k.kubectl.version = "v1.34.1".into();
        k.docker.cgroup_version = "2".into();
        k.cluster.pod_failures = vec![meshup_sim::knobs::PodFailure {
            pod: "istio-ingressgateway-*".into(),
            namespace: None,
            failure: meshup_sim::knobs::PodFailureKind::ImagePullBackOff,
        }];
    });
    let scenario = world.dir().join("current.yaml");
    let seed = std::fs::read_to_string(SEED).unwrap();
    let current = seed
        .replace("kubernetes: v1.15.10", "kubernetes: v1.34.0")
        .replace("istio: 1.5.0", "istio: 1.30.5")
        .replace("values.global.proxy.", "meshConfig.")
        .replace("check: 5m", "check: 1s");
    std::fs::write(&scenario, current).unwrap();
    let run = meshup(&world, &["start", "-f", scenario.to_str().unwrap()]);
    assert_eq!(run.code, Some(7), "{run}");
    let text = run.text();
    assert!(
        text.contains(
            "component Ingress gateways: Deployment/istio-system/istio-ingressgateway was not ready"
        ),
        "{run}"
    );
    assert!(text.contains("Istiod installed"), "{run}");
    let installs = istioctl_installs(&world);
    assert!(
        installs[0].has_args(&["--readiness-timeout", "1s"]),
        "{}",
        installs[0].command_line()
    );
    assert!(
        !state_dir(&world, "meshup")
            .join("mesh/record.json")
            .exists()
    );
    // A failed stage of `start` leaves a diagnostics bundle, named last, with the gateway's
    // pod and events in it.
    let hint = text
        .lines()
        .find(|l| l.contains("diagnostics: "))
        .unwrap_or_else(|| panic!("no diagnostics hint\n{run}"));
    let dir = std::path::PathBuf::from(hint.split("diagnostics: ").nth(1).unwrap().trim());
    assert!(dir.join("checks.json").is_file(), "{}", dir.display());
    let checks = std::fs::read_to_string(dir.join("checks.json")).unwrap();
    assert!(checks.contains("\"mesh\""), "{checks}");
    assert!(dir.starts_with(world.dir()), "{}", dir.display());
}

#[test]
fn method_manifest_with_third_party_jwt_on_kubernetes_1_15_fails_as_it_would_for_real() {
    let world = seed_world();
    let scenario = world.dir().join("third-party.yaml");
    let seed = std::fs::read_to_string(SEED).unwrap();
    let forced = seed
        .replace("method: istioctl", "method: manifest")
        .replace("jwtPolicy: auto", "jwtPolicy: third-party-jwt")
        .replace("check: 5m", "check: 2s");
    std::fs::write(&scenario, forced).unwrap();
    let run = meshup(&world, &["start", "-f", scenario.to_str().unwrap()]);
    assert_eq!(run.code, Some(7), "{run}");
    let text = run.text();
    assert!(
        text.contains("warning: proxies will not start without token projection"),
        "{run}"
    );
    assert!(
        text.contains("Deployment/istio-system/istiod was not available"),
        "{run}"
    );
    assert!(text.contains("istio-token"), "{run}");
    // The smoke stage waited for an injector that never came; with the mesh failed it is
    // skipped, not failed, and the run ends with the mesh's failure (not a timeout).
    assert!(
        text.contains("the mesh stage did not finish: no sidecar injector to wait for"),
        "{run}"
    );
}
