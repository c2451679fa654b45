//! The Kubernetes client, always for an explicit context (the profile's): meshup never acts on
//! whatever `current-context` happens to be — that is how people break a shared cluster.

use std::path::Path;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::{ExitKind, Failure};

/// How long proving a context may take. kube's client retries 503s (and 429, 504) with
/// back-off up to ~15 times — minutes against a broken API server — so every proof is bounded.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// `MESHUP_KUBE_TIMEOUT_MS` (tests make it milliseconds), else 60 s.
pub fn timeout() -> Duration {
    std::env::var("MESHUP_KUBE_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// A client for one context, and the server it points at (for messages).
pub struct ContextClient {
    pub client: kube::Client,
    pub context: String,
    pub server: String,
}

/// A client for `context`, from `kubeconfig` if given, else from `$KUBECONFIG` / `~/.kube/config`
/// as kubectl would read them.
pub async fn client_for_context(
    context: &str,
    kubeconfig: Option<&Path>,
    stage: ExitKind,
) -> anyhow::Result<ContextClient> {
    let where_ = kubeconfig.map_or_else(
        || "$KUBECONFIG or ~/.kube/config".to_owned(),
        |p| p.display().to_string(),
    );
    let config = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| {
        Failure::new(stage, format!("cannot read the kubeconfig ({where_}): {e}"))
            .hint("`minikube update-context -p <profile>` writes the profile's context again")
    })?;
    let options = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(config, &options)
        .await
        .map_err(|e| {
            Failure::new(
                stage,
                format!("the kubeconfig ({where_}) has no usable context `{context}`: {e}"),
            )
            .hint("`minikube update-context -p <profile>` writes the profile's context again")
        })?;
    let server = config.cluster_url.to_string();
    Ok(ContextClient {
        client: kube::Client::try_from(config)?,
        context: context.to_owned(),
        server,
    })
}

/// The API server's version, proving the context reaches a cluster that answers — within
/// `within`, so an API server that only answers errors cannot hang the run.
pub async fn server_version(
    c: &ContextClient,
    within: Duration,
    stage: ExitKind,
) -> anyhow::Result<String> {
    let (context, server) = (&c.context, c.server.trim_end_matches('/'));
    match tokio::time::timeout(within, c.client.apiserver_version()).await {
        Ok(Ok(info)) => Ok(info.git_version),
        Ok(Err(e)) => Err(Failure::new(
            stage,
            format!("the API server of context `{context}` ({server}) does not answer: {e}"),
        )
        .hint(status_hint(context))
        .into()),
        Err(_) => Err(Failure::new(
            stage,
            format!(
                "the API server of context `{context}` ({server}) gave no usable answer within {}",
                human(within)
            ),
        )
        .hint(status_hint(context))
        .hint("set MESHUP_KUBE_TIMEOUT_MS to wait longer for a slow API server")
        .into()),
    }
}

fn status_hint(context: &str) -> String {
    format!(
        "`minikube status -p {context}` and `minikube logs -p {context}` show why; `meshup start` again once it is healthy"
    )
}

fn human(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
