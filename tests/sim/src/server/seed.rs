//! What a fresh minikube cluster already holds, so the emulated one looks real: the system
//! namespaces, the node, the `kubernetes` and `kube-dns` Services, CoreDNS, the control-plane
//! static pods, kube-proxy and the storage provisioner.

use serde_json::{Value, json};

use super::cluster::Cluster;
use super::controllers::pods;
use super::ops;

fn create(cluster: &Cluster, group: &str, plural: &str, obj: Value) {
    let _ = ops::create_internal(cluster, group, plural, obj);
}

pub fn seed(cluster: &Cluster) {
    let spec = cluster.spec.lock().unwrap().clone();
    let minor = cluster.minor();
    let node = cluster.node_name();
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        create(cluster, "", "namespaces", json!({"metadata": {"name": ns}}));
        // minikube's start waits for the default ServiceAccount (`--wait` default_sa)
        create(
            cluster,
            "",
            "serviceaccounts",
            json!({"metadata": {"name": "default", "namespace": ns}}),
        );
    }
    let role = if minor >= 20 {
        "node-role.kubernetes.io/control-plane"
    } else {
        "node-role.kubernetes.io/master"
    };
    let mut node_obj = json!({
        "metadata": {"name": node, "labels": {
            "kubernetes.io/hostname": node, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "minikube.k8s.io/name": node, "minikube.k8s.io/primary": "true", role: "",
        }},
        "spec": {"podCIDR": "10.244.0.0/24"},
    });
    node_obj["status"] = json!({
        "capacity": {"cpu": spec.cpus.max(1).to_string(), "memory": format!("{}Ki", spec.memory_mb.max(1) * 1024), "pods": "110"},
        "allocatable": {"cpu": spec.cpus.max(1).to_string(), "memory": format!("{}Ki", spec.memory_mb.max(1) * 1024), "pods": "110"},
        "conditions": [
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID"},
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"},
        ],
        "addresses": [{"type": "InternalIP", "address": cluster.node_ip.to_string()}, {"type": "Hostname", "address": node}],
        "nodeInfo": {"kubeletVersion": spec.kubernetes_version, "kubeProxyVersion": spec.kubernetes_version,
                     "containerRuntimeVersion": "docker://19.3.8", "osImage": "Ubuntu 20.04 LTS",
                     "operatingSystem": "linux", "architecture": "amd64"},
    });
    if let Some(created) = ops::create_internal(cluster, "", "nodes", node_obj.clone()) {
        let mut n = (*created).clone();
        n["status"] = node_obj["status"].clone();
        ops::put_internal(cluster, "", "nodes", n);
    }
    create(
        cluster,
        "",
        "services",
        json!({
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 8443}]},
        }),
    );
    create(
        cluster,
        "",
        "services",
        json!({
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {"clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"}, "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53}, {"name": "metrics", "port": 9153}]},
        }),
    );
    let coredns = if minor >= 21 {
        "registry.k8s.io/coredns/coredns:v1.8.6"
    } else {
        "k8s.gcr.io/coredns:1.6.2"
    };
    create(
        cluster,
        "apps",
        "deployments",
        json!({
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {"containers": [{"name": "coredns", "image": coredns, "args": ["-conf", "/etc/coredns/Corefile"]}],
                         "serviceAccountName": "coredns", "priorityClassName": "system-cluster-critical"}}},
        }),
    );
    create(
        cluster,
        "",
        "configmaps",
        json!({
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": ".:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n    }\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n}\n"},
        }),
    );
    create(
        cluster,
        "storage.k8s.io",
        "storageclasses",
        json!({
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "k8s.io/minikube-hostpath", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
        }),
    );
    let registry = if minor >= 21 {
        "registry.k8s.io"
    } else {
        "k8s.gcr.io"
    };
    let v = &spec.kubernetes_version;
    let statics = [
        ("etcd", format!("{registry}/etcd:3.3.10"), "etcd"),
        (
            "kube-apiserver",
            format!("{registry}/kube-apiserver:{v}"),
            "kube-apiserver",
        ),
        (
            "kube-controller-manager",
            format!("{registry}/kube-controller-manager:{v}"),
            "kube-controller-manager",
        ),
        (
            "kube-scheduler",
            format!("{registry}/kube-scheduler:{v}"),
            "kube-scheduler",
        ),
    ];
    for (name, image, component) in &statics {
        system_pod(
            cluster,
            &format!("{name}-{node}"),
            component,
            image,
            json!({"component": component, "tier": "control-plane"}),
        );
    }
    system_pod(
        cluster,
        "kube-proxy-x7k2p",
        "kube-proxy",
        &format!("{registry}/kube-proxy:{v}"),
        json!({"k8s-app": "kube-proxy"}),
    );
    system_pod(
        cluster,
        "storage-provisioner",
        "storage-provisioner",
        "gcr.io/k8s-minikube/storage-provisioner:v5",
        json!({"integration-test": "storage-provisioner"}),
    );
}

/// A kube-system pod that is already running on the node (static pods and the like).
fn system_pod(cluster: &Cluster, name: &str, container: &str, image: &str, labels: Value) {
    let pod = json!({
        "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
        "spec": {"nodeName": cluster.node_name(), "hostNetwork": true, "priorityClassName": "system-node-critical",
                 "containers": [{"name": container, "image": image}]},
    });
    if let Some(created) = ops::create_internal(cluster, "", "pods", pod) {
        let mut p = (*created).clone();
        p["status"] = pods::running_status(
            &p,
            &cluster.node_ip.to_string(),
            &cluster.node_ip.to_string(),
            true,
        );
        ops::put_internal(cluster, "", "pods", p);
    }
}
