//! The live `meshup start` of the seed scenario in the simulated world: the cluster minikube
//! starts, the progress a user sees, the kube context, meshup's record, a re-run that does
//! nothing, and `--isolated-kubeconfig`.

#[path = "common/cluster_world.rs"]
mod cluster_world;

use cluster_world::*;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

#[tokio::test]
async fn the_seed_starts_its_cluster_with_its_own_version_cpus_and_memory() {
    let world = seed_world();
    let run = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(run.code, Some(0), "{run}");

    let starts = minikube(&world, "start");
    assert_eq!(starts.len(), 1, "{}", calls_text(&world));
    let start = &starts[0];
    for arg in [
        "--kubernetes-version=v1.15.10",
        "--cpus=4",
        "--memory=8192mb",
    ] {
        assert!(start.has_args(&[arg]), "{}", start.command_line());
    }
    assert!(
        start.has_args(&["-p", "meshup"]),
        "{}",
        start.command_line()
    );
    assert_eq!(start.exit_code, Some(0));

    // Progress reaches minikube's last step: `step N/N`.
    let text = run.text();
    let last_step = text
        .lines()
        .rev()
        .filter_map(|l| l.split("step ").nth(1)?.split(':').next())
        .find_map(|s| {
            let (a, b) = s.split_once('/')?;
            Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?))
        });
    let (current, total) = last_step.unwrap_or_else(|| panic!("no step line\n{run}"));
    assert_eq!(current, total, "{run}");
    assert!(total > 1, "{run}");

    // The profile's context works with kube-rs.
    let client = world.kube_client("meshup").await.expect("kube client");
    let namespaces: Api<Namespace> = Api::all(client);
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .expect("list namespaces")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.iter().any(|n| n == "kube-system"), "{names:?}");

    // meshup's record: the cluster stage is done, and meshup created the profile.
    let record = state(&world, "meshup");
    assert_eq!(record["stages"]["cluster"]["status"], "done", "{record}");
    assert_eq!(record["createdByMeshup"], true, "{record}");
    assert_eq!(record["scenario"]["kubernetes"], "v1.15.10", "{record}");
    assert_only_the_daemon_runs(&world);
}

#[test]
fn json_progress_reaches_the_last_step_and_ends_with_the_result() {
    let world = seed_world();
    let run = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(run.code, Some(0), "{run}");
    let events = run.events();
    assert!(!events.is_empty(), "{run}");
    for e in &events {
        assert_eq!(e["schema"], "meshup.events/v1", "{e}");
    }
    let steps: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "step" && e["stage"] == "cluster")
        .collect();
    assert!(!steps.is_empty(), "no step events\n{run}");
    let last = steps.last().unwrap();
    assert_eq!(last["current"], last["total"], "{last}");
    let result = run.result();
    assert_eq!(result["exitCode"], 0, "{result}");
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["summary"]["cluster"]["done"], "created", "{result}");
}

#[test]
fn a_second_start_with_nothing_changed_starts_nothing() {
    let world = seed_world();
    let first = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(first.code, Some(0), "{first}");
    let second = meshup(&world, &["start", "-f", SEED]);
    assert_eq!(second.code, Some(0), "{second}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    assert!(minikube(&world, "delete").is_empty());
    assert!(second.text().contains("nothing changed"), "{second}");

    let json = meshup(&world, &["start", "-f", SEED, "--output", "json"]);
    assert_eq!(json.code, Some(0), "{json}");
    let result = json.result();
    assert_eq!(result["summary"]["cluster"]["change"]["action"], "nothing");
    assert_eq!(minikube(&world, "start").len(), 1);
    // The record still says meshup created the profile (a re-run found it, but it is ours).
    assert_eq!(state(&world, "meshup")["createdByMeshup"], true);
}

#[tokio::test]
async fn isolated_kubeconfig_goes_to_the_state_dir_and_not_to_the_users() {
    let world = seed_world();
    let run = meshup(&world, &["start", "-f", SEED, "--isolated-kubeconfig"]);
    assert_eq!(run.code, Some(0), "{run}");

    let path = state_dir(&world, "meshup").join("kubeconfig");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}\n{run}", path.display()));
    assert!(text.contains("name: meshup"), "{text}");
    assert!(
        run.text()
            .contains(&format!("export KUBECONFIG={}", path.display())),
        "{run}"
    );
    let start = &minikube(&world, "start")[0];
    assert_eq!(start.exit_code, Some(0));

    let user = world.home().join(".kube/config");
    let user_text = std::fs::read_to_string(&user).unwrap_or_default();
    assert!(
        !user_text.contains("meshup"),
        "~/.kube/config got the context:\n{user_text}"
    );

    // The isolated kubeconfig works on its own.
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let kc = Kubeconfig::read_from(&path).unwrap();
    let options = KubeConfigOptions {
        context: Some("meshup".into()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let namespaces: Api<Namespace> = Api::all(client);
    let list = namespaces.list(&ListParams::default()).await.unwrap();
    assert!(
        list.items
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some("kube-system"))
    );

    // A re-run with the same flag finds the cluster and keeps the kubeconfig where it was.
    let again = meshup(&world, &["start", "-f", SEED, "--isolated-kubeconfig"]);
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    assert!(
        !std::fs::read_to_string(&user)
            .unwrap_or_default()
            .contains("meshup")
    );
}
