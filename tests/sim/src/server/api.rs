//! The Kubernetes REST API over the store: routing, discovery, list/get/watch, writes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

use super::cluster::Cluster;
use super::ops;
use super::patch::PatchType;
use super::resources::{self, Resource};
use super::select::{FieldSelector, LabelSelector};
use super::status::{ApiError, ApiResult};
use super::store::{EventType, key};
use super::table;
use super::util;

pub async fn handle(cluster: Arc<Cluster>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k), decode(v))
                })
                .collect()
        })
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let body = match axum::body::to_bytes(body, 64 << 20).await {
        Ok(b) => b,
        Err(e) => return error(ApiError::bad_request(e.to_string())),
    };
    let accept = parts
        .headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query,
        content_type,
        accept,
        body: body.to_vec(),
    };
    match route(&cluster, &req) {
        Ok(resp) => resp,
        Err(e) => error(e),
    }
}

struct Req {
    method: Method,
    path: String,
    query: HashMap<String, String>,
    content_type: String,
    accept: String,
    body: Vec<u8>,
}

impl Req {
    fn q(&self, k: &str) -> Option<&str> {
        self.query
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn json_response(code: u16, v: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .expect("response")
}

fn error(e: ApiError) -> Response<Body> {
    json_response(e.code, &e.to_status())
}

fn route(cluster: &Arc<Cluster>, req: &Req) -> ApiResult<Response<Body>> {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let discovery = |path: &str| cluster.count("discovery", path, None);
    match segs.as_slice() {
        ["version"] => {
            cluster.count("get", "/version", None);
            Ok(json_response(200, &version_doc(&cluster.version())))
        }
        ["healthz" | "livez" | "readyz", ..] => Ok(Response::new(Body::from("ok"))),
        ["api"] => {
            discovery("/api");
            let port = cluster.port.lock().unwrap().unwrap_or(8443);
            Ok(json_response(
                200,
                &resources::api_versions(&format!("{}:{port}", cluster.node_ip)),
            ))
        }
        ["api", "v1"] => {
            discovery("/api/v1");
            list_doc(cluster, "", "v1")
        }
        ["apis"] => {
            discovery("/apis");
            Ok(json_response(
                200,
                &resources::api_group_list(&cluster.resources()),
            ))
        }
        ["apis", g] => {
            discovery(&req.path);
            let groups = resources::groups(&cluster.resources());
            let (name, versions) = groups
                .iter()
                .find(|(n, _)| n == g)
                .ok_or_else(ApiError::no_resource)?;
            Ok(json_response(200, &resources::api_group(name, versions)))
        }
        ["apis", g, v] => {
            discovery(&req.path);
            list_doc(cluster, g, v)
        }
        ["api", "v1", rest @ ..] => resource_request(cluster, req, "", "v1", rest),
        ["apis", g, v, rest @ ..] => resource_request(cluster, req, g, v, rest),
        _ => Err(ApiError::no_resource()),
    }
}

fn list_doc(cluster: &Cluster, g: &str, v: &str) -> ApiResult<Response<Body>> {
    let doc =
        resources::resource_list(&cluster.resources(), g, v).ok_or_else(ApiError::no_resource)?;
    Ok(json_response(200, &doc))
}

fn version_doc(version: &str) -> Value {
    let minor = util::minor_of(version);
    json!({
        "major": "1", "minor": minor.to_string(), "gitVersion": version,
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2020-01-01T00:00:00Z", "goVersion": "go1.12.12", "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// A parsed resource URL.
struct Target<'a> {
    res: Resource,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    sub: Option<&'a str>,
    watch: bool,
}

fn parse_target<'a>(
    cluster: &Cluster,
    g: &str,
    v: &str,
    rest: &'a [&'a str],
) -> ApiResult<Target<'a>> {
    let (watch, rest) = match rest {
        ["watch", r @ ..] => (true, r),
        r => (false, r),
    };
    let (namespace, plural, name, sub) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !(tail.is_empty() && matches!(*plural, "status" | "finalize")) =>
        {
            (
                Some(*ns),
                *plural,
                tail.first().copied(),
                tail.get(1).copied(),
            )
        }
        [plural, tail @ ..] => (None, *plural, tail.first().copied(), tail.get(1).copied()),
        [] => return Err(ApiError::no_resource()),
    };
    let res = cluster
        .resources()
        .into_iter()
        .find(|r| r.group == g && r.version == v && r.plural == plural)
        .ok_or_else(ApiError::no_resource)?;
    if (!res.namespaced && namespace.is_some())
        || (res.namespaced && namespace.is_none() && name.is_some())
    {
        return Err(ApiError::no_resource());
    }
    if let Some(s) = sub
        && !res.subresources.iter().any(|x| x == s)
    {
        return Err(ApiError::no_resource());
    }
    Ok(Target {
        res,
        namespace,
        name,
        sub,
        watch,
    })
}

fn resource_request(
    cluster: &Arc<Cluster>,
    req: &Req,
    g: &str,
    v: &str,
    rest: &[&str],
) -> ApiResult<Response<Body>> {
    let t = parse_target(cluster, g, v, rest)?;
    let watch = t.watch || matches!(req.q("watch"), Some("true" | "1"));
    let verb = match (&req.method, t.name, watch) {
        (&Method::GET, None, true) => "watch",
        (&Method::GET, None, false) => "list",
        (&Method::GET, Some(_), _) => "get",
        (&Method::POST, _, _) => "create",
        (&Method::PUT, _, _) => "update",
        (&Method::PATCH, _, _) => "patch",
        (&Method::DELETE, None, _) => "deletecollection",
        (&Method::DELETE, Some(_), _) => "delete",
        _ => return Err(ApiError::method_not_allowed()),
    };
    let resource = match t.sub {
        Some(s) => format!("{}/{s}", t.res.plural),
        None => t.res.plural.clone(),
    };
    cluster.count(verb, &resource, t.namespace);
    let ns = t.namespace.unwrap_or_default();
    let dry_run = req.q("dryRun").is_some();
    let r = &t.res;
    match (verb, t.name, t.sub) {
        ("watch", _, _) => watch_response(cluster, req, &t),
        ("list", _, _) => list(cluster, req, &t),
        ("get", Some(name), None | Some("status")) => {
            let obj = ops::get(cluster, r, ns, name)?;
            if table::wants_table(&req.accept) {
                let rv = obj["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                return Ok(json_response(200, &table::table(&r.kind, &[obj], &rv)));
            }
            Ok(json_response(200, &obj))
        }
        ("get", Some(name), Some("log")) => {
            let obj = ops::get(cluster, r, ns, name)?;
            Ok(Response::new(Body::from(super::podlog::log(
                &obj,
                req.q("container"),
            ))))
        }
        ("create", None, None) if r.create_only => {
            let mut obj: Value = parse_body(req)?;
            obj["status"] = json!({"allowed": true, "authenticated": true});
            Ok(json_response(201, &obj))
        }
        ("create", None, None) => {
            let obj: Value = parse_body(req)?;
            let created = ops::create(cluster, r, ns, obj, dry_run)?;
            Ok(json_response(201, &ops::as_version(&created, r)))
        }
        ("create", Some(name), Some("token")) => {
            ops::get(cluster, r, ns, name)?;
            Ok(json_response(201, &token_request(ns, name)))
        }
        ("create", Some(name), Some("eviction")) => {
            ops::delete(cluster, r, ns, name, false)?;
            Ok(json_response(
                201,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            ))
        }
        ("update", Some(name), None | Some("status")) => {
            let obj: Value = parse_body(req)?;
            let updated = ops::update(cluster, r, ns, name, obj, t.sub == Some("status"), dry_run)?;
            Ok(json_response(200, &ops::as_version(&updated, r)))
        }
        ("patch", Some(name), None | Some("status")) => {
            let kind = PatchType::from_content_type(&req.content_type).ok_or_else(|| {
                ApiError::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got {}", req.content_type))
            })?;
            if matches!(kind, PatchType::Apply) && req.q("fieldManager").is_none() {
                return Err(ApiError::invalid(
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                ));
            }
            let patched = ops::patch(
                cluster,
                r,
                ns,
                name,
                &kind,
                &req.body,
                t.sub == Some("status"),
                dry_run,
            )?;
            Ok(json_response(200, &ops::as_version(&patched, r)))
        }
        ("delete", Some(name), None) => {
            let orphan = req.q("propagationPolicy") == Some("Orphan")
                || serde_json::from_slice::<Value>(&req.body)
                    .is_ok_and(|b| b["propagationPolicy"] == "Orphan");
            let gone = ops::delete(cluster, r, ns, name, orphan)?;
            Ok(json_response(200, &ops::as_version(&gone, r)))
        }
        ("deletecollection", None, None) => {
            let (items, _) = selected(cluster, req, &t)?;
            for item in &items {
                let _ = ops::delete(
                    cluster,
                    r,
                    super::store::ns_of(item),
                    super::store::name_of(item),
                    false,
                );
            }
            Ok(json_response(
                200,
                &list_doc_of(r, items, cluster.store.resource_version()),
            ))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn parse_body(req: &Req) -> ApiResult<Value> {
    if req.content_type.contains("yaml") {
        serde_yaml::from_slice(&req.body).map_err(|e| ApiError::bad_request(e.to_string()))
    } else {
        serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

fn selectors(req: &Req, r: &Resource) -> ApiResult<(LabelSelector, FieldSelector)> {
    let labels = LabelSelector::parse(req.q("labelSelector").unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(req.q("fieldSelector").unwrap_or_default(), &r.kind)
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

fn selected(cluster: &Cluster, req: &Req, t: &Target) -> ApiResult<(Vec<Value>, u64)> {
    let (labels, fields) = selectors(req, &t.res)?;
    let (items, rv) = cluster
        .store
        .list(&key(&t.res.group, &t.res.plural), t.namespace);
    let items = items
        .iter()
        .filter(|o| labels.matches(&o["metadata"]["labels"]) && fields.matches(o))
        .map(|o| ops::as_version(o, &t.res))
        .collect();
    Ok((items, rv))
}

fn list_doc_of(r: &Resource, items: Vec<Value>, rv: u64) -> Value {
    json!({
        "kind": format!("{}List", r.kind),
        "apiVersion": r.api_version(),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": items,
    })
}

fn list(cluster: &Cluster, req: &Req, t: &Target) -> ApiResult<Response<Body>> {
    let (items, rv) = selected(cluster, req, t)?;
    if table::wants_table(&req.accept) {
        return Ok(json_response(
            200,
            &table::table(&t.res.kind, &items, &rv.to_string()),
        ));
    }
    Ok(json_response(200, &list_doc_of(&t.res, items, rv)))
}

fn watch_response(cluster: &Arc<Cluster>, req: &Req, t: &Target) -> ApiResult<Response<Body>> {
    // Streaming lists (WatchList) are not emulated: answer as a server with the feature gate
    // off, which client-go takes as its cue to LIST then WATCH (README, known differences).
    if req.q("sendInitialEvents").is_some() {
        return Err(ApiError::invalid(
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: \
             sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
        ));
    }
    let (labels, fields) = selectors(req, &t.res)?;
    let from = match req.q("resourceVersion") {
        None | Some("0") => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}")))?,
        ),
    };
    let timeout = req
        .q("timeoutSeconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1800u64);
    let r = t.res.clone();
    let as_table = table::wants_table(&req.accept);
    let k = key(&r.group, &r.plural);
    let start = match cluster.store.watch(&k, t.namespace, from) {
        Ok(s) => s,
        Err(gone) => {
            // Like the real server: 200, one ERROR event carrying the 410 Status, end.
            let line = json!({"type": "ERROR", "object": gone.to_status()}).to_string() + "\n";
            return Ok(watch_body(Body::from(line)));
        }
    };
    let matches = move |o: &Value| labels.matches(&o["metadata"]["labels"]) && fields.matches(o);
    let render = move |ev: &super::store::Event| -> Option<String> {
        let now = matches(&ev.object);
        let before = ev.prev.as_deref().map(&matches);
        let etype = match (ev.etype, before, now) {
            (EventType::Added, _, true) => EventType::Added,
            (EventType::Deleted, Some(true) | None, _) => EventType::Deleted,
            (EventType::Modified, Some(true), true) => EventType::Modified,
            (EventType::Modified, Some(true), false) => EventType::Deleted,
            (EventType::Modified, Some(false) | None, true) => EventType::Added,
            _ => return None,
        };
        let mut obj = ops::as_version(&ev.object, &r);
        if as_table {
            let rv = obj["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            obj = table::table(&r.kind, &[obj], &rv);
        }
        Some(json!({"type": etype.as_str(), "object": obj}).to_string() + "\n")
    };
    let backlog: Vec<String> = start.backlog.iter().filter_map(|e| render(e)).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let stream = futures::stream::unfold(
        (backlog.into_iter(), start.rx, render),
        move |(mut backlog, mut rx, render)| async move {
            if let Some(line) = backlog.next() {
                return Some((Ok::<_, std::io::Error>(line), (backlog, rx, render)));
            }
            loop {
                let ev = tokio::time::timeout_at(deadline, rx.recv()).await.ok()??;
                if let Some(line) = render(&ev) {
                    return Some((Ok(line), (backlog, rx, render)));
                }
            }
        },
    );
    Ok(watch_body(Body::from_stream(stream)))
}

fn watch_body(body: Body) -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("transfer-encoding", "chunked")
        .body(body)
        .expect("response")
}

fn token_request(ns: &str, sa: &str) -> Value {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(r#"{"alg":"RS256","kid":"sim"}"#);
    let payload = b64.encode(json!({"iss": "https://kubernetes.default.svc.cluster.local", "sub": format!("system:serviceaccount:{ns}:{sa}")}).to_string());
    let expiry = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"name": sa, "namespace": ns},
        "spec": {"audiences": ["https://kubernetes.default.svc.cluster.local"], "expirationSeconds": 3600},
        "status": {"token": format!("{header}.{payload}.c2lt"), "expirationTimestamp": expiry},
    })
}
