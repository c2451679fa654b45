//! The Kubernetes client, always for an explicit context (the profile's): meshup never acts on
//! whatever `current-context` happens to be — that is how people break a shared cluster.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::{ExitKind, Failure};

/// A client for `context`, from `kubeconfig` if given, else from `$KUBECONFIG` / `~/.kube/config`
/// as kubectl would read them.
pub async fn client_for_context(
    context: &str,
    kubeconfig: Option<&Path>,
    stage: ExitKind,
) -> anyhow::Result<kube::Client> {
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
    Ok(kube::Client::try_from(config)?)
}

/// The API server's version, proving the context reaches a cluster that answers.
pub async fn server_version(client: &kube::Client) -> anyhow::Result<String> {
    Ok(client.apiserver_version().await?.git_version)
}
