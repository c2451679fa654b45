//! What a small HTTP workload in a Pod answers, so the data plane returns a real program's
//! answer instead of a body made up for tests. Known images and the port they listen on:
//! `kennethreitz/httpbin` (gunicorn on 80), `mccutchen/go-httpbin` (8080), `hashicorp/http-echo`
//! (`-listen`, default :5678, answers `-text`), `nginx` (80). Any other image serves nothing:
//! a route to it gets Envoy's `upstream connect error`.

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum App {
    Httpbin,
    Echo(String),
    Nginx,
}

/// The repository part of an image reference (`docker.io/kennethreitz/httpbin:latest` →
/// `kennethreitz/httpbin`).
fn repository(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    let no_tag = match no_digest[last_slash..].find(':') {
        Some(i) => &no_digest[..last_slash + i],
        None => no_digest,
    };
    no_tag
        .strip_prefix("docker.io/")
        .or_else(|| no_tag.strip_prefix("index.docker.io/"))
        .unwrap_or(no_tag)
        .trim_start_matches("library/")
}

fn arg(container: &Value, flag: &str) -> Option<String> {
    container["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|a| {
            a.strip_prefix(flag)
                .and_then(|r| r.strip_prefix('='))
                .map(String::from)
        })
}

/// The port a container's program listens on, and what it is.
pub fn listening(container: &Value) -> Option<(u16, App)> {
    let image = container["image"].as_str()?;
    match repository(image) {
        "kennethreitz/httpbin" => Some((80, App::Httpbin)),
        "mccutchen/go-httpbin" => Some((8080, App::Httpbin)),
        "nginx" => Some((80, App::Nginx)),
        "hashicorp/http-echo" => {
            let port = arg(container, "-listen")
                .and_then(|l| l.rsplit(':').next()?.parse().ok())
                .unwrap_or(5678);
            Some((port, App::Echo(arg(container, "-text").unwrap_or_default())))
        }
        _ => None,
    }
}

pub struct Answer {
    pub code: u16,
    pub content_type: &'static str,
    pub body: String,
}

fn html404() -> Answer {
    Answer {
        code: 404,
        content_type: "text/html",
        body: "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.  If you entered the URL manually please check your spelling and try again.</p>\n".into(),
    }
}

/// The app's answer to `GET path` with these request headers (as Envoy forwards them).
pub fn answer(app: &App, path: &str, headers: &[(String, String)]) -> Answer {
    match app {
        App::Echo(text) => Answer {
            code: 200,
            content_type: "text/plain; charset=utf-8",
            body: format!("{text}\n"),
        },
        App::Nginx if path == "/" || path == "/index.html" => Answer {
            code: 200,
            content_type: "text/html",
            body: "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n".into(),
        },
        App::Nginx => Answer {
            code: 404,
            content_type: "text/html",
            body: "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".into(),
        },
        App::Httpbin => httpbin(path, headers),
    }
}

fn httpbin(path: &str, headers: &[(String, String)]) -> Answer {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let hdrs: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (title_case(k), Value::from(v.clone())))
        .collect();
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or("", |(_, v)| v.as_str());
    let json_answer = |v: Value| Answer {
        code: 200,
        content_type: "application/json",
        body: serde_json::to_string_pretty(&v).unwrap_or_default() + "\n",
    };
    let args: serde_json::Map<String, Value> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), Value::from(v))
        })
        .collect();
    match path {
        "/get" => json_answer(json!({"args": args, "headers": hdrs, "origin": "127.0.0.6",
            "url": format!("http://{host}{path}{}", if query.is_empty() { String::new() } else { format!("?{query}") })})),
        "/headers" => json_answer(json!({"headers": hdrs})),
        "/ip" => json_answer(json!({"origin": "127.0.0.6"})),
        "/user-agent" => json_answer(
            json!({"user-agent": headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("user-agent")).map(|(_, v)| v.clone())}),
        ),
        _ => match path
            .strip_prefix("/status/")
            .and_then(|c| c.parse::<u16>().ok())
        {
            Some(code) if (100..600).contains(&code) => Answer {
                code,
                content_type: "text/html; charset=utf-8",
                body: String::new(),
            },
            _ => html404(),
        },
    }
}

/// `x-forwarded-proto` → `X-Forwarded-Proto`, as httpbin (werkzeug) shows header names.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &cs.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_ports() {
        let c = |image: &str, args: Value| json!({"image": image, "args": args});
        assert_eq!(
            listening(&c("docker.io/kennethreitz/httpbin", json!(null))),
            Some((80, App::Httpbin))
        );
        assert_eq!(
            listening(&c("mccutchen/go-httpbin:v2.15.0", json!(null))),
            Some((8080, App::Httpbin))
        );
        assert_eq!(
            listening(&c("nginx:1.27", json!(null))),
            Some((80, App::Nginx))
        );
        assert_eq!(
            listening(&c(
                "hashicorp/http-echo:1.0",
                json!(["-listen=:9000", "-text=hi"])
            )),
            Some((9000, App::Echo("hi".into())))
        );
        assert_eq!(listening(&c("busybox", json!(null))), None);
    }

    #[test]
    fn httpbin_answers() {
        let h = vec![("host".to_string(), "smoke.local".to_string())];
        let a = answer(&App::Httpbin, "/get?x=1", &h);
        assert_eq!(a.code, 200);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["url"], "http://smoke.local/get?x=1");
        assert_eq!(v["headers"]["Host"], "smoke.local");
        assert_eq!(answer(&App::Httpbin, "/status/418", &h).code, 418);
        assert_eq!(answer(&App::Httpbin, "/nope", &h).code, 404);
    }
}
