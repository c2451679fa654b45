//! `meshup verify` against a simulated world with a real (fake-istioctl) Istio install and the
//! fake `minikube tunnel` (issue 11, "How it is checked").

#[path = "common/cluster_world.rs"]
mod cluster_world;

use std::process::{Child, Stdio};

use cluster_world::{Run, meshup_with, seed_knobs};
use meshup_sim::{Knobs, World};
use serde_json::Value;

const PROFILE: &str = "meshup";

struct Mesh {
    world: World,
    tunnel: Option<Child>,
}

impl Drop for Mesh {
    fn drop(&mut self) {
        if let Some(t) = &mut self.tunnel {
            let _ = t.kill();
            let _ = t.wait();
        }
    }
}

fn run(world: &World, program: &str, args: &[&str]) {
    let out = world
        .command(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A cluster from the fake minikube, Istio installed by the fake istioctl from the world's bin
/// dir, and (if `tunnel`) `minikube tunnel` running.
fn mesh(knobs: Knobs, k8s: &str, install: &[&str], tunnel: bool) -> Mesh {
    let world = World::start(knobs);
    run(
        &world,
        "minikube",
        &[
            "start",
            "-p",
            PROFILE,
            &format!("--kubernetes-version={k8s}"),
        ],
    );
    run(&world, "istioctl", install);
    let tunnel = tunnel.then(|| {
        world
            .command("minikube")
            .args(["tunnel", "-p", PROFILE])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    });
    Mesh { world, tunnel }
}

fn seed_mesh(tunnel: bool) -> Mesh {
    mesh(
        seed_knobs(),
        "v1.15.10",
        &["manifest", "apply", "--set", "profile=default"],
        tunnel,
    )
}

fn verify(m: &Mesh, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["verify", "-p", PROFILE];
    all.extend_from_slice(args);
    meshup_with(&m.world, &all, env)
}

fn checks(run: &Run) -> Vec<Value> {
    run.events()
        .into_iter()
        .filter(|e| e["type"] == "check")
        .collect()
}

fn check<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
}

fn assert_all_pass(run: &Run) {
    assert_eq!(run.code, Some(0), "{run}");
    let cs = checks(run);
    let names: Vec<&str> = cs.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "control-plane",
            "gateways",
            "loadbalancer",
            "sidecar",
            "mesh-route",
            "injection-drift"
        ]
    );
    for c in &cs {
        assert_eq!(c["verdict"], "pass", "{c}\n{run}");
        assert!(c["durationMs"].is_u64(), "{c}");
        assert_eq!(c["schema"], "meshup.events/v1");
    }
    assert_eq!(run.result()["exitCode"], 0);
}

#[test]
fn healthy_seed_install_with_the_tunnel_passes_every_check_through_watches() {
    let m = seed_mesh(true);
    // a profile meshup manages has its state dir (made by `start`); verify saves its result there
    std::fs::create_dir_all(cluster_world::state_dir(&m.world, PROFILE)).unwrap();
    let before = m.world.requests(PROFILE);
    let run = verify(&m, &["--output", "json"], &[]);
    assert_all_pass(&run);
    let cs = checks(&run);
    let lb = &check(&cs, "loadbalancer")["evidence"]["services"][0];
    assert_eq!(lb["statusPort"], 15020, "Istio 1.5's status port: {lb}");
    let route = &check(&cs, "mesh-route")["evidence"];
    assert_eq!(route["server"], "istio-envoy");
    assert!(
        check(&cs, "sidecar")["message"]
            .as_str()
            .unwrap()
            .contains("istio-proxy")
    );

    // watched, not polled: a bounded number of list/get calls per check
    let count = |verb: &str, res: &str| {
        let now: u64 = m
            .world
            .requests(PROFILE)
            .iter()
            .filter(|r| r.verb == verb && r.resource == res)
            .map(|r| r.count)
            .sum();
        let was: u64 = before
            .iter()
            .filter(|r| r.verb == verb && r.resource == res)
            .map(|r| r.count)
            .sum();
        now - was
    };
    // a watch starts with a list and stays open only while the condition does not hold yet:
    // the smoke Pod is always waited for
    assert!(
        count("watch", "pods") >= 1,
        "{:?}",
        m.world.requests(PROFILE)
    );
    assert!(
        count("list", "pods") + count("get", "pods") <= 6,
        "pods polled: {:?}",
        m.world.requests(PROFILE)
    );
    assert!(count("list", "deployments") + count("get", "deployments") <= 6);
    assert!(count("list", "services") + count("get", "services") <= 6);

    // the smoke namespace goes after a successful verify; the result is saved for `status`
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(cluster_world::state_dir(&m.world, PROFILE).join("verify.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(saved["ok"], true);
    let ns = with_client(&m, async |client| {
        let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client);
        api.get_opt("meshup-smoke").await.unwrap()
    });
    let going = ns.is_none_or(|n| n.status.and_then(|s| s.phase).as_deref() == Some("Terminating"));
    assert!(going, "smoke namespace left behind");
}

/// Runs `f` with a kube client of the profile, in a runtime of its own (a client lives no
/// longer than the runtime that made it).
fn with_client<T>(m: &Mesh, f: impl AsyncFnOnce(kube::Client) -> T) -> T {
    let w = &m.world;
    block(async {
        let client = w.kube_client(PROFILE).await.unwrap();
        f(client).await
    })
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn human_output_is_one_line_per_check_and_keep_smoke_keeps_it() {
    let m = seed_mesh(true);
    let run = verify(&m, &["--keep-smoke"], &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{run}");
    for (line, name) in lines.iter().zip([
        "control-plane",
        "gateways",
        "loadbalancer",
        "sidecar",
        "mesh-route",
        "injection-drift",
    ]) {
        assert!(line.starts_with(&format!("✔ {name}")), "{line}");
    }
    let kept = with_client(&m, async |client| {
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(client, "meshup-smoke");
        api.get_opt("meshup-smoke").await.unwrap()
    });
    assert!(kept.is_some(), "--keep-smoke removed the smoke pod");
}

#[test]
fn a_current_istio_on_a_current_kubernetes_passes_with_native_sidecars() {
    let mut knobs = Knobs::default();
    knobs.istioctl.version = "1.27.0".into();
    let m = mesh(knobs, "v1.33.1", &["install", "-y"], true);
    let run = verify(&m, &["--output", "json", "--keep-smoke"], &[]);
    assert_all_pass(&run);
    let cs = checks(&run);
    assert_eq!(
        check(&cs, "loadbalancer")["evidence"]["services"][0]["statusPort"],
        15021
    );
    assert_eq!(
        check(&cs, "mesh-route")["evidence"]["apiVersion"],
        "networking.istio.io/v1"
    );
    let pod = with_client(&m, async |client| {
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(client, "meshup-smoke");
        api.get("meshup-smoke").await.unwrap()
    });
    let spec = pod.spec.unwrap();
    assert!(spec.containers.iter().all(|c| c.name != "istio-proxy"));
    assert!(
        spec.init_containers
            .unwrap()
            .iter()
            .any(|c| c.name == "istio-proxy" && c.restart_policy.as_deref() == Some("Always"))
    );
}

/// Every file of a bundle, as text.
fn bundle_text(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            out.push_str(&bundle_text(&entry.path()));
        } else {
            out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    out
}

/// The kubeconfig's secrets as the fake minikube wrote them: the client key's PEM lines.
fn kubeconfig_secrets(m: &Mesh) -> Vec<String> {
    let key = m
        .world
        .home()
        .join(".minikube/profiles")
        .join(PROFILE)
        .join("client.key");
    let pem = std::fs::read_to_string(&key).unwrap();
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(String::from)
        .collect()
}

#[test]
fn without_the_tunnel_loadbalancer_and_mesh_route_fail_naming_it_and_the_bundle_has_no_credential()
{
    let m = seed_mesh(false);
    let bundle = m.world.dir().join("bundle");
    let run = verify(
        &m,
        &[
            "--output",
            "json",
            "--diagnostics-dir",
            bundle.to_str().unwrap(),
        ],
        &[("MESHUP_VERIFY_TIMEOUT", "1500ms")],
    );
    assert_eq!(run.code, Some(8), "{run}");
    let cs = checks(&run);
    for name in ["loadbalancer", "mesh-route"] {
        let c = check(&cs, name);
        assert_eq!(c["verdict"], "fail", "{c}");
        assert!(c["message"].as_str().unwrap().contains("tunnel"), "{c}");
    }
    for name in ["control-plane", "gateways", "sidecar", "injection-drift"] {
        assert_eq!(check(&cs, name)["verdict"], "pass", "{name}: {run}");
    }
    let result = run.result();
    assert_eq!(result["exitCode"], 8);
    assert_eq!(result["summary"]["diagnostics"], bundle.to_str().unwrap());
    let svc =
        std::fs::read_to_string(bundle.join("services/istio-system-istio-ingressgateway.yaml"))
            .unwrap();
    assert!(svc.contains("LoadBalancer"), "{svc}");
    let checks_json = std::fs::read_to_string(bundle.join("checks.json")).unwrap();
    assert!(
        checks_json.contains("the tunnel is not running"),
        "{checks_json}"
    );
    let text = bundle_text(&bundle);
    let secrets = kubeconfig_secrets(&m);
    assert!(!secrets.is_empty());
    for s in secrets {
        assert!(!text.contains(&s), "a kubeconfig secret in the bundle");
    }
}

#[test]
fn a_sidecar_that_never_gets_ready_fails_with_its_state_and_the_bundle_has_its_logs() {
    let knobs = cluster_world::seed_knobs_with(|k| {
        k.cluster.pod_failures.push(meshup_sim::knobs::PodFailure {
            pod: "meshup-smoke".into(),
            namespace: Some("meshup-smoke".into()),
            failure: meshup_sim::knobs::PodFailureKind::SidecarNeverReady,
        })
    });
    let m = mesh(
        knobs,
        "v1.15.10",
        &["manifest", "apply", "--set", "profile=default"],
        true,
    );
    let bundle = m.world.dir().join("b");
    let run = verify(
        &m,
        &["--diagnostics-dir", bundle.to_str().unwrap()],
        &[("MESHUP_VERIFY_TIMEOUT", "1500ms")],
    );
    assert_eq!(run.code, Some(8), "{run}");
    assert!(run.stdout.contains("✘ sidecar"), "{run}");
    assert!(
        run.stdout.contains(
            "pod meshup-smoke/meshup-smoke: containers with unready status: [istio-proxy]"
        ),
        "{run}"
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with(&format!("Diagnostics: {}", bundle.display())),
        "{run}"
    );
    let log =
        std::fs::read_to_string(bundle.join("logs/meshup-smoke/meshup-smoke/istio-proxy.log"))
            .unwrap();
    assert!(log.contains("Envoy proxy is NOT ready"), "{log}");
    let pods = std::fs::read_to_string(bundle.join("pods/meshup-smoke.txt")).unwrap();
    assert!(pods.contains("istio-proxy"), "{pods}");
    let events = std::fs::read_to_string(bundle.join("events/meshup-smoke.txt")).unwrap();
    assert!(events.contains("Readiness probe failed"), "{events}");
}

#[test]
fn with_the_injector_webhook_deleted_sidecar_says_injection_did_not_happen() {
    let m = seed_mesh(true);
    run(
        &m.world,
        "kubectl",
        &[
            "delete",
            "mutatingwebhookconfiguration",
            "istio-sidecar-injector",
        ],
    );
    let bundle = m.world.dir().join("webhook");
    let run = verify(
        &m,
        &[
            "--output",
            "json",
            "--diagnostics-dir",
            bundle.to_str().unwrap(),
            "--diagnostics-archive",
        ],
        &[("MESHUP_VERIFY_TIMEOUT", "3s")],
    );
    assert_eq!(run.code, Some(8), "{run}");
    let archive = bundle.with_extension("tar.gz");
    assert_eq!(
        run.result()["summary"]["diagnostics"],
        archive.to_str().unwrap()
    );
    assert!(
        archive.is_file() && !bundle.exists(),
        "the bundle is packed as a .tar.gz"
    );
    let cs = checks(&run);
    let sc = check(&cs, "sidecar");
    assert_eq!(sc["verdict"], "fail");
    assert!(
        sc["message"]
            .as_str()
            .unwrap()
            .contains("injection did not happen"),
        "{sc}"
    );
    assert_eq!(
        check(&cs, "control-plane")["verdict"],
        "fail",
        "no injector webhook"
    );
}

#[test]
fn a_pod_started_before_its_namespace_was_labelled_is_reported_as_drift() {
    use k8s_openapi::api::core::v1::{Namespace, Pod};
    use kube::api::{Api, Patch, PatchParams, PostParams};
    let m = seed_mesh(true);
    with_client(&m, async |client| {
        let nss: Api<Namespace> = Api::all(client.clone());
        nss.create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": "legacy"}})).unwrap(),
        )
        .await
        .unwrap();
        let pods: Api<Pod> = Api::namespaced(client.clone(), "legacy");
        pods.create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": "old"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}))
            .unwrap(),
        )
        .await
        .unwrap();
        let running = kube::runtime::wait::await_condition(pods, "old", |p: Option<&Pod>| {
            p.and_then(|p| p.status.as_ref()?.phase.as_deref()) == Some("Running")
        });
        tokio::time::timeout(std::time::Duration::from_secs(30), running)
            .await
            .unwrap()
            .unwrap();
        nss.patch(
            "legacy",
            &PatchParams::default(),
            &Patch::Merge(
                serde_json::json!({"metadata": {"labels": {"istio-injection": "enabled"}}}),
            ),
        )
        .await
        .unwrap();
    });
    let run = verify(&m, &["--output", "json"], &[]);
    assert_eq!(run.code, Some(0), "a warning, not a failure: {run}");
    let cs = checks(&run);
    let drift = check(&cs, "injection-drift");
    assert_eq!(drift["verdict"], "warn");
    assert!(
        drift["message"].as_str().unwrap().contains("legacy/old"),
        "{drift}"
    );
    assert!(
        drift["hints"][0].as_str().unwrap().contains("restart"),
        "{drift}"
    );
}

/// mesh-route's request against a VirtualService whose destination port the Service lacks:
/// Envoy's 503, reported as a failure, not a pass.
#[test]
fn a_virtualservice_to_a_wrong_port_fails_mesh_route_with_envoys_503() {
    use kube::api::{Api, DynamicObject, Patch, PatchParams};
    let m = seed_mesh(true);
    let run = verify(&m, &["--output", "json", "--keep-smoke"], &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let cs = checks(&run);
    let url = check(&cs, "mesh-route")["evidence"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let outcome = with_client(&m, async |client| {
        let ar = meshup::verify::smoke::istio_kind(&client, "VirtualService")
            .await
            .unwrap();
        let vss: Api<DynamicObject> = Api::namespaced_with(client.clone(), "meshup-smoke", &ar);
        let wrong = serde_json::json!({"spec": {"http": [{"match": [{"uri": {"prefix": "/"}}],
            "route": [{"destination": {"host": "meshup-smoke.meshup-smoke.svc.cluster.local", "port": {"number": 9000}}}]}]}});
        vss.patch(
            "meshup-smoke",
            &PatchParams::default(),
            &Patch::Merge(wrong),
        )
        .await
        .unwrap();
        meshup::verify::checks::probe_route(
            &url,
            "docker.io/kennethreitz/httpbin",
            std::time::Duration::from_millis(500),
        )
        .await
    });
    assert_eq!(
        outcome,
        Err("answered 503 `no healthy upstream`".to_string())
    );
}

/// The delay between the emulator marking the smoke Pod Ready and the sidecar check passing
/// (issue 11 asks for its median; target < 50 ms). Run with
/// `cargo test --test verify -- --ignored --nocapture watch_latency`.
#[test]
#[ignore = "a measurement, not a test: prints the median"]
fn watch_latency_from_pod_ready_to_check_passing() {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Pod;
    use kube::Api;
    use kube::runtime::watcher;
    let m = seed_mesh(true);
    let settings = meshup::verify::Settings {
        profile: PROFILE.into(),
        load_balancers: vec!["istio-system/istio-ingressgateway".into()],
        smoke_namespace: "meshup-smoke".into(),
        smoke_image: "docker.io/kennethreitz/httpbin".into(),
        check_timeout: std::time::Duration::from_secs(30),
        keep_smoke: false,
        smoke_deployed: false,
        state_dir: None,
    };
    let mut delays = Vec::new();
    for _ in 0..15 {
        let d = with_client(&m, async |client| {
            // the test's own watch sees the emulator's Ready write as soon as it is made
            let pods: Api<Pod> = kube::Api::namespaced(client.clone(), "meshup-smoke");
            let seen = tokio::spawn(async move {
                let mut s = watcher(
                    pods,
                    watcher::Config::default().fields("metadata.name=meshup-smoke"),
                )
                .boxed();
                while let Some(Ok(ev)) = s.next().await {
                    if let watcher::Event::Apply(p) | watcher::Event::InitApply(p) = ev {
                        let ready = p
                            .status
                            .as_ref()
                            .and_then(|s| s.conditions.as_ref())
                            .is_some_and(|c| {
                                c.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                            });
                        if ready {
                            return std::time::Instant::now();
                        }
                    }
                }
                std::time::Instant::now()
            });
            let report = meshup::verify::run(&client, &settings).await;
            let sidecar = report.checks.iter().find(|c| c.name == "sidecar").unwrap();
            assert_eq!(sidecar.verdict, meshup::verify::Verdict::Pass);
            let ready_at = seen.await.unwrap();
            sidecar
                .finished
                .unwrap()
                .saturating_duration_since(ready_at)
        });
        delays.push(d);
        // the namespace from the last round must be gone before the next
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    delays.sort();
    let ms: Vec<u128> = delays.iter().map(|d| d.as_micros() / 1000).collect();
    println!(
        "pod Ready -> sidecar check passed, ms (sorted): {ms:?}; median {} ms",
        ms[ms.len() / 2]
    );
}
