//! One HTTP GET through the gateway's address, the way `curl -H 'Host: ...'` does it: no
//! proxy from the environment (the address is the cluster's, often loopback), a short timeout.

use std::time::Duration;

pub struct Answer {
    pub code: u16,
    pub server: Option<String>,
    pub body: String,
}

pub async fn get(url: &str, host: Option<&str>, within: Duration) -> Result<Answer, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(within)
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client.get(url);
    if let Some(h) = host {
        req = req.header(reqwest::header::HOST, h);
    }
    let resp = req.send().await.map_err(|e| describe(&e))?;
    let code = resp.status().as_u16();
    let server = resp
        .headers()
        .get(reqwest::header::SERVER)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = resp.text().await.unwrap_or_default();
    Ok(Answer { code, server, body })
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "connection refused (nothing listens there)".into()
    } else if e.is_timeout() {
        "no answer in time".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }
}
