//! Which resources the emulated API server serves, by Kubernetes minor version, and their
//! discovery documents. Sources: the Kubernetes deprecated-API migration guide
//! (kubernetes.io/docs/reference/using-api/deprecation-guide) and each release's changelog.

use serde_json::{Value, json};

/// One resource in one group version.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub kind: String,
    pub namespaced: bool,
    pub subresources: Vec<String>,
    pub short_names: Vec<String>,
    /// Create-only APIs such as `selfsubjectaccessreviews`.
    pub create_only: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }
    pub fn has_status(&self) -> bool {
        self.subresources.iter().any(|s| s == "status")
    }
}

pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

// group, version, served from minor (inclusive), until minor (exclusive, 0: still served),
// plural, kind, namespaced, subresources, short names
type Row = (
    &'static str,
    &'static str,
    u32,
    u32,
    &'static str,
    &'static str,
    bool,
    &'static str,
    &'static str,
);

const STD: &str = "";
#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("", "v1", 0, 0, "namespaces", "Namespace", false, "status,finalize", "ns"),
    ("", "v1", 0, 0, "pods", "Pod", true, "status,log,eviction,exec,portforward,binding", "po"),
    ("", "v1", 0, 0, "services", "Service", true, "status,proxy", "svc"),
    ("", "v1", 0, 0, "serviceaccounts", "ServiceAccount", true, STD, "sa"),
    ("", "v1", 0, 0, "configmaps", "ConfigMap", true, STD, "cm"),
    ("", "v1", 0, 0, "secrets", "Secret", true, STD, ""),
    ("", "v1", 0, 0, "events", "Event", true, STD, "ev"),
    ("", "v1", 0, 0, "endpoints", "Endpoints", true, STD, "ep"),
    ("", "v1", 0, 0, "nodes", "Node", false, "status,proxy", "no"),
    ("", "v1", 0, 0, "persistentvolumeclaims", "PersistentVolumeClaim", true, "status", "pvc"),
    ("", "v1", 0, 0, "persistentvolumes", "PersistentVolume", false, "status", "pv"),
    ("", "v1", 0, 0, "resourcequotas", "ResourceQuota", true, "status", "quota"),
    ("", "v1", 0, 0, "limitranges", "LimitRange", true, STD, "limits"),
    ("", "v1", 0, 0, "replicationcontrollers", "ReplicationController", true, "status,scale", "rc"),
    ("", "v1", 0, 0, "podtemplates", "PodTemplate", true, STD, ""),
    ("apps", "v1", 0, 0, "deployments", "Deployment", true, "status,scale", "deploy"),
    ("apps", "v1", 0, 0, "replicasets", "ReplicaSet", true, "status,scale", "rs"),
    ("apps", "v1", 0, 0, "statefulsets", "StatefulSet", true, "status,scale", "sts"),
    ("apps", "v1", 0, 0, "daemonsets", "DaemonSet", true, "status", "ds"),
    ("apps", "v1", 0, 0, "controllerrevisions", "ControllerRevision", true, STD, ""),
    ("apps", "v1beta1", 0, 16, "deployments", "Deployment", true, "status,scale", "deploy"),
    ("apps", "v1beta1", 0, 16, "statefulsets", "StatefulSet", true, "status,scale", "sts"),
    ("apps", "v1beta2", 0, 16, "deployments", "Deployment", true, "status,scale", "deploy"),
    ("apps", "v1beta2", 0, 16, "replicasets", "ReplicaSet", true, "status,scale", "rs"),
    ("apps", "v1beta2", 0, 16, "daemonsets", "DaemonSet", true, "status", "ds"),
    ("extensions", "v1beta1", 0, 16, "deployments", "Deployment", true, "status,scale", "deploy"),
    ("extensions", "v1beta1", 0, 16, "replicasets", "ReplicaSet", true, "status,scale", "rs"),
    ("extensions", "v1beta1", 0, 16, "daemonsets", "DaemonSet", true, "status", "ds"),
    ("extensions", "v1beta1", 0, 22, "ingresses", "Ingress", true, "status", "ing"),
    ("events.k8s.io", "v1beta1", 0, 25, "events", "Event", true, STD, "ev"),
    ("events.k8s.io", "v1", 19, 0, "events", "Event", true, STD, "ev"),
    ("batch", "v1", 0, 0, "jobs", "Job", true, "status", ""),
    ("batch", "v1", 21, 0, "cronjobs", "CronJob", true, "status", "cj"),
    ("batch", "v1beta1", 0, 25, "cronjobs", "CronJob", true, "status", "cj"),
    ("autoscaling", "v1", 0, 0, "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "status", "hpa"),
    ("autoscaling", "v2", 23, 0, "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "status", "hpa"),
    ("autoscaling", "v2beta1", 0, 25, "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "status", "hpa"),
    ("autoscaling", "v2beta2", 12, 26, "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "status", "hpa"),
    ("policy", "v1", 21, 0, "poddisruptionbudgets", "PodDisruptionBudget", true, "status", "pdb"),
    ("policy", "v1beta1", 0, 25, "poddisruptionbudgets", "PodDisruptionBudget", true, "status", "pdb"),
    ("policy", "v1beta1", 0, 25, "podsecuritypolicies", "PodSecurityPolicy", false, STD, "psp"),
    ("rbac.authorization.k8s.io", "v1", 0, 0, "clusterrolebindings", "ClusterRoleBinding", false, STD, ""),
    ("rbac.authorization.k8s.io", "v1", 0, 0, "clusterroles", "ClusterRole", false, STD, ""),
    ("rbac.authorization.k8s.io", "v1", 0, 0, "rolebindings", "RoleBinding", true, STD, ""),
    ("rbac.authorization.k8s.io", "v1", 0, 0, "roles", "Role", true, STD, ""),
    ("rbac.authorization.k8s.io", "v1beta1", 0, 22, "clusterrolebindings", "ClusterRoleBinding", false, STD, ""),
    ("rbac.authorization.k8s.io", "v1beta1", 0, 22, "clusterroles", "ClusterRole", false, STD, ""),
    ("rbac.authorization.k8s.io", "v1beta1", 0, 22, "rolebindings", "RoleBinding", true, STD, ""),
    ("rbac.authorization.k8s.io", "v1beta1", 0, 22, "roles", "Role", true, STD, ""),
    ("admissionregistration.k8s.io", "v1", 16, 0, "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, STD, ""),
    ("admissionregistration.k8s.io", "v1", 16, 0, "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false, STD, ""),
    ("admissionregistration.k8s.io", "v1beta1", 0, 22, "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, STD, ""),
    ("admissionregistration.k8s.io", "v1beta1", 0, 22, "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false, STD, ""),
    ("apiextensions.k8s.io", "v1", 16, 0, "customresourcedefinitions", "CustomResourceDefinition", false, "status", "crd,crds"),
    ("apiextensions.k8s.io", "v1beta1", 0, 22, "customresourcedefinitions", "CustomResourceDefinition", false, "status", "crd,crds"),
    ("apiregistration.k8s.io", "v1", 0, 0, "apiservices", "APIService", false, "status", ""),
    ("apiregistration.k8s.io", "v1beta1", 0, 22, "apiservices", "APIService", false, "status", ""),
    ("networking.k8s.io", "v1", 0, 0, "networkpolicies", "NetworkPolicy", true, STD, "netpol"),
    ("networking.k8s.io", "v1", 19, 0, "ingresses", "Ingress", true, "status", "ing"),
    ("networking.k8s.io", "v1", 19, 0, "ingressclasses", "IngressClass", false, STD, ""),
    ("networking.k8s.io", "v1beta1", 14, 22, "ingresses", "Ingress", true, "status", "ing"),
    ("storage.k8s.io", "v1", 0, 0, "storageclasses", "StorageClass", false, STD, "sc"),
    ("storage.k8s.io", "v1", 13, 0, "volumeattachments", "VolumeAttachment", false, "status", ""),
    ("coordination.k8s.io", "v1", 14, 0, "leases", "Lease", true, STD, ""),
    ("coordination.k8s.io", "v1beta1", 0, 22, "leases", "Lease", true, STD, ""),
    ("discovery.k8s.io", "v1", 21, 0, "endpointslices", "EndpointSlice", true, STD, ""),
    ("discovery.k8s.io", "v1beta1", 17, 25, "endpointslices", "EndpointSlice", true, STD, ""),
    ("certificates.k8s.io", "v1", 19, 0, "certificatesigningrequests", "CertificateSigningRequest", false, "status,approval", "csr"),
    ("certificates.k8s.io", "v1beta1", 0, 22, "certificatesigningrequests", "CertificateSigningRequest", false, "status,approval", "csr"),
    ("scheduling.k8s.io", "v1", 14, 0, "priorityclasses", "PriorityClass", false, STD, "pc"),
    ("scheduling.k8s.io", "v1beta1", 0, 22, "priorityclasses", "PriorityClass", false, STD, "pc"),
    ("node.k8s.io", "v1", 20, 0, "runtimeclasses", "RuntimeClass", false, STD, ""),
    ("node.k8s.io", "v1beta1", 14, 25, "runtimeclasses", "RuntimeClass", false, STD, ""),
    ("authentication.k8s.io", "v1", 0, 0, "tokenreviews", "TokenReview", false, "!", ""),
    ("authorization.k8s.io", "v1", 0, 0, "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, "!", ""),
    ("authorization.k8s.io", "v1", 0, 0, "subjectaccessreviews", "SubjectAccessReview", false, "!", ""),
];

/// The built-in resources a server of this minor version serves.
pub fn builtin(minor: u32, token_subresource: bool) -> Vec<Resource> {
    TABLE
        .iter()
        .filter(|r| r.2 <= minor && (r.3 == 0 || minor < r.3))
        .map(
            |&(group, version, _, _, plural, kind, namespaced, subs, short)| {
                let mut subresources: Vec<String> = subs
                    .split(',')
                    .filter(|s| !s.is_empty() && *s != "!")
                    .map(String::from)
                    .collect();
                if plural == "serviceaccounts" && token_subresource {
                    subresources.push("token".into());
                }
                Resource {
                    group: group.into(),
                    version: version.into(),
                    plural: plural.into(),
                    kind: kind.into(),
                    namespaced,
                    subresources,
                    short_names: short
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                    create_only: subs == "!",
                }
            },
        )
        .collect()
}

/// The served resources a CRD object defines, once it is Established.
pub fn from_crd(crd: &Value) -> Vec<Resource> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let names = &spec["names"];
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let mut versions: Vec<(String, bool)> = Vec::new();
    let top_status = spec["subresources"]["status"].is_object();
    if let Some(list) = spec["versions"].as_array() {
        for v in list {
            if v["served"].as_bool() != Some(false)
                && let Some(name) = v["name"].as_str()
            {
                versions.push((
                    name.into(),
                    top_status || v["subresources"]["status"].is_object(),
                ));
            }
        }
    } else if let Some(v) = spec["version"].as_str() {
        versions.push((v.into(), top_status));
    }
    versions
        .into_iter()
        .map(|(version, status)| Resource {
            group: group.into(),
            version,
            plural: names["plural"].as_str().unwrap_or_default().into(),
            kind: names["kind"].as_str().unwrap_or_default().into(),
            namespaced,
            subresources: if status {
                vec!["status".into()]
            } else {
                vec![]
            },
            short_names: names["shortNames"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            create_only: false,
        })
        .collect()
}

/// Kubernetes' version priority: GA > beta > alpha, higher numbers first.
pub fn version_rank(v: &str) -> (u32, u32, u32) {
    let rest = v.strip_prefix('v').unwrap_or(v);
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (level, n) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (level, major, n)
}

/// `/api`
pub fn api_versions(server_addr: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_addr}],
    })
}

/// Group name → its versions, preferred first.
pub fn groups(resources: &[Resource]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in resources.iter().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, vs)) if !vs.contains(&r.version) => vs.push(r.version.clone()),
            Some(_) => {}
            None => out.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    for (_, vs) in &mut out {
        vs.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
    }
    out
}

pub fn api_group(name: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{name}/{v}"), "version": v});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": gv(&versions[0]),
    })
}

pub fn api_group_list(resources: &[Resource]) -> Value {
    let groups: Vec<Value> = groups(resources)
        .iter()
        .map(|(g, vs)| {
            let mut v = api_group(g, vs);
            let m = v.as_object_mut().expect("object");
            m.remove("kind");
            m.remove("apiVersion");
            v
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// `/api/v1` or `/apis/{group}/{version}`; None when that group version is not served.
pub fn resource_list(resources: &[Resource], group: &str, version: &str) -> Option<Value> {
    let mine: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if mine.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for r in mine {
        let verbs: Vec<&str> = if r.create_only {
            vec!["create"]
        } else {
            VERBS.to_vec()
        };
        let mut entry = json!({
            "name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced,
            "kind": r.kind, "verbs": verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        list.push(entry);
        for sub in &r.subresources {
            let (kind, verbs): (&str, Vec<&str>) = match sub.as_str() {
                "status" => (&r.kind, vec!["get", "patch", "update"]),
                "scale" => ("Scale", vec!["get", "patch", "update"]),
                "log" | "proxy" => (&r.kind, vec!["get"]),
                "token" => ("TokenRequest", vec!["create"]),
                "eviction" => ("Eviction", vec!["create"]),
                "exec" | "portforward" => ("PodExecOptions", vec!["create", "get"]),
                "binding" => ("Binding", vec!["create"]),
                _ => (&r.kind, vec!["update"]),
            };
            list.push(json!({
                "name": format!("{}/{}", r.plural, sub), "singularName": "", "namespaced": r.namespaced,
                "kind": kind, "verbs": verbs,
            }));
        }
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": api_version(group, version),
        "resources": list,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v115_has_only_v1beta1_webhooks_and_crds() {
        let r = builtin(15, false);
        assert!(resource_list(&r, "admissionregistration.k8s.io", "v1").is_none());
        assert!(resource_list(&r, "admissionregistration.k8s.io", "v1beta1").is_some());
        assert!(resource_list(&r, "apiextensions.k8s.io", "v1").is_none());
        let r = builtin(22, true);
        assert!(resource_list(&r, "apiextensions.k8s.io", "v1beta1").is_none());
        assert!(resource_list(&r, "apiextensions.k8s.io", "v1").is_some());
    }

    #[test]
    fn preferred_version_is_the_most_stable() {
        let g = groups(&builtin(20, false));
        let auto = g.iter().find(|(n, _)| n == "autoscaling").unwrap();
        assert_eq!(auto.1, ["v1", "v2beta2", "v2beta1"]);
    }
}
