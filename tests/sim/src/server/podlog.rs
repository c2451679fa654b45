//! `pods/log`: a few plausible lines per container.

use serde_json::Value;

pub fn log(pod: &Value, container: Option<&str>) -> String {
    let first = pod["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap_or_default();
    let name = container.unwrap_or(first);
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let ts = pod["status"]["startTime"]
        .as_str()
        .unwrap_or("2020-01-01T00:00:00Z");
    if pod["status"]["phase"] != "Running" {
        return String::new();
    }
    match name {
        "istio-proxy" if !container_ready(pod, name) => format!(
            "{ts}\tinfo\tFLAG: --concurrency=\"2\"\n{ts}\twarn\tEnvoy proxy is NOT ready: config not received from XDS server (is Istiod running?): cds updates: 0 successful, 0 rejected; lds updates: 0 successful, 0 rejected\n"
        ),
        "istio-proxy" => format!(
            "{ts}\tinfo\tFLAG: --concurrency=\"2\"\n{ts}\tinfo\tVersion 1.x\n{ts}\tinfo\tEnvoy proxy is ready\n[{ts}] \"GET /healthz/ready HTTP/1.1\" 200 - \"-\" 0 0 1 - \"-\" \"kube-probe\" \"-\" \"{pod_name}\" \"-\" - -\n"
        ),
        "discovery" | "istiod" => {
            format!("{ts}\tinfo\tstarting discovery service\n{ts}\tinfo\tready\n")
        }
        other => format!("{ts} {other} starting\n{ts} {other} listening\n{ts} {other} ready\n"),
    }
}

fn container_ready(pod: &Value, name: &str) -> bool {
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .any(|l| {
            pod["status"][l]
                .as_array()
                .is_some_and(|ss| ss.iter().any(|s| s["name"] == name && s["ready"] == true))
        })
}
