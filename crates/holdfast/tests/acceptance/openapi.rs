//! The OpenAPI description matches the routes: every documented operation is routed, and
//! every API route in the source is documented.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{Backend, TestServer};

const OPENAPI: &str = include_str!("../../../server/openapi.yaml");

fn documented() -> BTreeSet<(String, String)> {
    let doc: Value = holdfast_definition::to_json(OPENAPI).expect("openapi.yaml parses");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

/// Every `.route("/api/…"` and operational path in the server's source.
fn routed_paths() -> BTreeSet<String> {
    let pattern = regex::Regex::new(r#"\.route\(\s*"([^"]+)""#).expect("regex");
    let mut paths = BTreeSet::new();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/src");
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).expect("source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("source");
                for c in pattern.captures_iter(&source) {
                    paths.insert(c[1].to_owned());
                }
            }
        }
    }
    paths
}

#[test]
fn every_api_route_is_documented() {
    let documented: BTreeSet<String> = documented().into_iter().map(|(_, p)| p).collect();
    let undocumented: Vec<String> = routed_paths()
        .into_iter()
        // End-customer pages and static files are HTML, not API.
        .filter(|p| !p.starts_with("/p/") && !p.starts_with("/s/") && !p.starts_with("/assets/"))
        .filter(|p| !documented.contains(p))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.yaml: {undocumented:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let server = TestServer::with_motor_claim(Backend::Sqlite).await;
    for (method, path) in documented() {
        let concrete = path
            .replace("{org}", "acme")
            .replace("{process}", "motor-claim")
            .replace("{token}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = server
            .admin(method.clone(), &concrete)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("answers");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {path} is documented but not routed");
        assert!(
            !body.contains("there is nothing at"),
            "{method} {path} is documented but not routed"
        );
    }
    server.stop().await;
}
