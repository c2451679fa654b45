//! `scripts/sim-shell.sh -c`: the seed's manual procedure works in the simulated world, and
//! nothing of the world is left running afterwards.

mod support;

use support::text;

#[test]
fn the_seed_procedure_works_in_the_sim_shell() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let id = format!("sim-shell-test-{}", std::process::id());
    let script = r#"
set -e
minikube start --kubernetes-version=v1.15.10 --cpus=4 --memory=8gb
minikube tunnel > "$MESHUP_SIM_DIR/tunnel.log" 2>&1 &
istioctl manifest apply --set profile=default --set values.global.proxy.accessLogEncoding=JSON --set values.global.proxy.accessLogFile=/dev/stdout
ip=""
for i in $(seq 1 300); do
  ip=$(kubectl get svc istio-ingressgateway -n istio-system -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  [ -n "$ip" ] && break
  sleep 0.1
done
kubectl get svc -n istio-system
answer=""
for i in $(seq 1 300); do
  if exec 3<>/dev/tcp/$ip/15020; then
    printf 'GET /healthz/ready HTTP/1.0\r\nHost: x\r\n\r\n' >&3
    answer=$(head -1 <&3)
    exec 3<&-
    case "$answer" in *" 200"*) break ;; esac
  fi 2>/dev/null
  sleep 0.1
done
echo "healthz: $answer"
"#;
    let out = std::process::Command::new(root.join("scripts/sim-shell.sh"))
        .args(["-c", script])
        .env("MESHUP_SIM_BIN", support::bin())
        .env("SIM_SHELL_ID", &id)
        .env("SIM_KNOBS", {
            let k = std::env::temp_dir().join(format!("sim-shell-knobs-{}.yaml", std::process::id()));
            std::fs::write(&k, "minikube:\n  version: v1.24.0\n  tunnel:\n    statusDelayMs: 0\n    pollMs: 50\nistioctl:\n  version: 1.5.0\n").unwrap();
            k
        })
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("* Done! kubectl is now configured to use \"minikube\" cluster"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✔ Finished applying manifest for component IngressGateways."),
        "{stdout}"
    );
    assert!(stdout.contains("\n✔ Installation complete\n"));
    let gw = stdout
        .lines()
        .find(|l| l.starts_with("istio-ingressgateway"))
        .expect("the gateway row");
    assert!(
        gw.split_whitespace()
            .nth(3)
            .is_some_and(|ip| ip.starts_with("127.")),
        "{gw}"
    );
    assert!(
        stdout.contains("healthz: HTTP/1.1 200") || stdout.contains("healthz: HTTP/1.0 200"),
        "{stdout}"
    );
    assert!(
        support::marked(&id).is_empty(),
        "the world's processes are gone"
    );
}
