//! API fault knobs (503s, resets, outages) and the cluster's stop/start lifecycle.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use meshup_sim::control::ClusterState;
use meshup_sim::knobs::Outage;
use meshup_sim::{Knobs, World};

#[tokio::test]
async fn error_and_reset_rates_apply_while_set() {
    let world = World::start(Knobs::default());
    world.start_cluster("f", "v1.30.0");
    // kube retries 503s with backoff (15 times) by default; see each answer here
    let mut config = world.kube_config("f").await.unwrap();
    config.default_retry = false;
    let client = kube::Client::try_from(config).unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    assert!(cms.list(&Default::default()).await.is_ok());

    let mut knobs = world.knobs();
    knobs.cluster.api.error_rate = 1.0;
    world.set_knobs(&knobs);
    let err = cms.list(&Default::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 503),
        "{err:?}"
    );

    knobs.cluster.api.error_rate = 0.0;
    knobs.cluster.api.reset_rate = 1.0;
    world.set_knobs(&knobs);
    let err = cms.list(&Default::default()).await.unwrap_err();
    assert!(
        !matches!(err, kube::Error::Api(_)),
        "a reset is not an API answer: {err:?}"
    );

    knobs.cluster.api.reset_rate = 0.0;
    world.set_knobs(&knobs);
    assert!(cms.list(&Default::default()).await.is_ok());
}

#[tokio::test]
async fn an_outage_refuses_connections_then_the_server_is_back() {
    let mut knobs = Knobs::default();
    knobs.cluster.api.outages = vec![Outage {
        after_ms: 0,
        for_ms: 1500,
    }];
    let world = World::start(knobs);
    let info = world.start_cluster("o", "v1.30.0");
    let port: u16 = info
        .server
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port open during the outage"
    );
    let client = world.kube_client("o").await.unwrap();
    let back = async {
        loop {
            if client.apiserver_version().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), back)
        .await
        .expect("the API server comes back");
}

#[tokio::test]
async fn a_stopped_cluster_keeps_its_objects_and_port() {
    let world = World::start(Knobs::default());
    let first = world.start_cluster("s", "v1.30.0");
    let client = world.kube_client("s").await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "keep"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();

    world.control().stop_cluster("s").unwrap();
    let stopped = world.cluster("s").unwrap();
    assert_eq!(stopped.state, ClusterState::Stopped);
    assert!(stopped.server.is_none());

    let again = world.start_cluster("s", "v1.30.0");
    assert_eq!(again.state, ClusterState::Running);
    assert_eq!(again.server, first.server);
    let client = world.kube_client("s").await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    assert!(cms.get("keep").await.is_ok());

    world.control().delete_cluster("s").unwrap();
    world.control().delete_cluster("s").unwrap();
    assert!(world.cluster("s").is_none());
}
