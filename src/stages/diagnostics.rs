//! A diagnostics bundle for a `meshup start` whose cluster, tunnel or mesh stage failed (the
//! verify stage writes its own, with its checks): the failed stages as failed checks, then the
//! same collection `meshup verify` makes — events and pods of istio-system, the tunnel's log,
//! `minikube logs`, the recorded manifest — with the kubeconfig's secrets scrubbed.

use std::path::PathBuf;

use crate::cluster::minikube::Minikube;
use crate::engine::{RunCx, RunEnd, StageEnd};
use crate::plan::StageName;
use crate::verify::{CheckResult, Report, Settings, Verdict, diagnostics};

/// The bundle's folder, when one was written.
pub async fn for_failed_run(cx: &RunCx, end: &RunEnd) -> Option<PathBuf> {
    let checks: Vec<CheckResult> = end
        .stages
        .iter()
        .filter(|(n, _)| matches!(n, StageName::Cluster | StageName::Tunnel | StageName::Mesh))
        .filter_map(|(n, e)| match e {
            StageEnd::Failed(why) => Some(CheckResult {
                name: n.as_str(),
                verdict: Verdict::Fail,
                duration_ms: end.elapsed.get(n).map_or(0, |d| d.as_millis() as u64),
                message: why.clone(),
                hints: Vec::new(),
                evidence: serde_json::Value::Null,
                namespaces: vec!["istio-system".into()],
                finished: None,
            }),
            _ => None,
        })
        .collect();
    if checks.is_empty() {
        return None;
    }
    let cluster = cx.outputs.cluster.get();
    let client = match cluster {
        Some(_) => cx.kube().await.ok(),
        None => None,
    };
    let v = &cx.scenario.verify;
    let settings = Settings {
        profile: cx.profile().to_owned(),
        load_balancers: v.load_balancers.clone(),
        smoke_namespace: v.smoke_namespace.clone(),
        smoke_image: v.smoke_image.clone(),
        check_timeout: v.check_timeout,
        keep_smoke: true,
        smoke_deployed: false,
        state_dir: Some(cx.state.dir().to_path_buf()),
    };
    let kubeconfig = cluster.and_then(|c| c.kubeconfig.clone());
    let minikube = cx.outputs.minikube.get().map(|m| {
        let mut mk = Minikube::new(&m.binary, cx.profile());
        if let Some(k) = &kubeconfig {
            mk = mk.with_kubeconfig(k);
        }
        mk.command(["logs", "--length", "200"])
    });
    let bundle = diagnostics::Bundle {
        dir: diagnostics::default_dir(
            &crate::state::StateRoot::from_env().diagnostics(),
            cx.profile(),
        ),
        archive: false,
        kubeconfig,
        minikube,
    };
    let report = Report::new(cx.profile(), checks);
    match diagnostics::write(client.as_ref(), &settings, &report, &bundle).await {
        Ok(path) => Some(path),
        Err(e) => {
            cx.reporter.warn(
                "start",
                &format!("could not write the diagnostics bundle: {e:#}"),
            );
            None
        }
    }
}
