//! The JWT policy: detected the way istioctl 1.5–1.21 does it (`DetectSupportedJWTPolicy`:
//! does discovery list `serviceaccounts/token`?), decided by meshup and always passed
//! explicitly where the version has the value — `manifest generate` does not detect it, and a
//! wrong policy leaves every proxy `ContainerCreating` (research/istio.md §3.3, §8.3).

use crate::compat::Version;
use crate::compat::istio::first_party_jwt_allowed;
use crate::error::{ExitKind, Failure};
use crate::scenario::model::JwtPolicy;

/// Is the TokenRequest subresource served (`serviceaccounts/token` under `/api/v1`)?
pub async fn token_request_served(client: &kube::Client) -> anyhow::Result<bool> {
    let list = client.list_core_api_resources("v1").await.map_err(|e| {
        Failure::new(
            ExitKind::Mesh,
            format!(
                "cannot read the API server's discovery (/api/v1) to choose the JWT policy: {e}"
            ),
        )
    })?;
    Ok(list
        .resources
        .iter()
        .any(|r| r.name == "serviceaccounts/token"))
}

/// What meshup passes as `values.global.jwtPolicy`, and why (printed for the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `None` where the version has no such choice (1.22+: always third-party).
    pub value: Option<&'static str>,
    pub why: String,
}

const FIX_EXTRA_CONFIG: &str = "start the cluster with token projection: \
    --extra-config=apiserver.service-account-signing-key-file=/var/lib/minikube/certs/sa.key \
    --extra-config=apiserver.service-account-issuer=kubernetes/serviceaccount \
    --extra-config=apiserver.service-account-api-audiences=api (research/istio.md §8.3)";

/// The policy for `istio` on a cluster that does (`served`) or does not serve TokenRequest.
pub fn decide(istio: &Version, asked: JwtPolicy, served: bool) -> anyhow::Result<Decision> {
    if !first_party_jwt_allowed(istio) {
        if !served {
            return Err(Failure::new(
                ExitKind::Preflight,
                format!(
                    "Istio {istio} needs projected service-account tokens (third-party JWT; \
                     first-party-jwt was removed in 1.22), but this cluster does not serve \
                     `serviceaccounts/token`: every Istio proxy would stay ContainerCreating"
                ),
            )
            .hint("use Istio 1.21 or older (it falls back to first-party-jwt)")
            .hint("or use Kubernetes 1.20 or newer, where minikube enables token projection")
            .hint(format!("or {FIX_EXTRA_CONFIG}"))
            .into());
        }
        return Ok(Decision {
            value: None,
            why: format!(
                "Istio {istio} always uses third-party JWT (no jwtPolicy value since 1.22); the cluster serves serviceaccounts/token"
            ),
        });
    }
    let detected = if served {
        "the cluster serves serviceaccounts/token"
    } else {
        "the cluster does not serve serviceaccounts/token (no service-account token projection)"
    };
    Ok(match asked {
        JwtPolicy::Auto if served => Decision {
            value: Some("third-party-jwt"),
            why: format!("JWT policy third-party-jwt: {detected}"),
        },
        JwtPolicy::Auto => Decision {
            value: Some("first-party-jwt"),
            why: format!(
                "JWT policy first-party-jwt: {detected}, so projected tokens would never mount (istioctl would fall back the same way)"
            ),
        },
        explicit => {
            let value = explicit.as_str();
            let warn = if explicit == JwtPolicy::ThirdPartyJwt && !served {
                "; warning: proxies will not start without token projection"
            } else {
                ""
            };
            Decision {
                value: Some(if value == "third-party-jwt" {
                    "third-party-jwt"
                } else {
                    "first-party-jwt"
                }),
                why: format!("JWT policy {value}: set by the scenario ({detected}){warn}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::version::v;

    #[test]
    fn detection_by_version_and_cluster() {
        let d = decide(&v("1.5.0"), JwtPolicy::Auto, false).unwrap();
        assert_eq!(d.value, Some("first-party-jwt"));
        assert!(
            d.why.contains("does not serve serviceaccounts/token"),
            "{}",
            d.why
        );
        assert_eq!(
            decide(&v("1.21.0"), JwtPolicy::Auto, true).unwrap().value,
            Some("third-party-jwt")
        );
        assert_eq!(
            decide(&v("1.22.0"), JwtPolicy::Auto, true).unwrap().value,
            None
        );
        let e = decide(&v("1.30.5"), JwtPolicy::Auto, false).unwrap_err();
        let e = e.downcast_ref::<Failure>().unwrap();
        assert_eq!(e.kind, ExitKind::Preflight);
        assert!(e.hints.iter().any(|h| h.contains("service-account-issuer")));
    }

    #[test]
    fn an_explicit_policy_wins() {
        let d = decide(&v("1.5.0"), JwtPolicy::ThirdPartyJwt, false).unwrap();
        assert_eq!(d.value, Some("third-party-jwt"));
        assert!(d.why.contains("set by the scenario") && d.why.contains("warning"));
        let d = decide(&v("1.9.0"), JwtPolicy::FirstPartyJwt, true).unwrap();
        assert_eq!(d.value, Some("first-party-jwt"));
    }
}
