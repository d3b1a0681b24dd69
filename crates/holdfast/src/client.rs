//! The admin API client the operator commands use.

use anyhow::{Context, bail};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

use crate::cli::Remote;

/// A connection to a deployment's admin API.
pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl AdminClient {
    /// Prepares a client from the command's options.
    pub fn new(remote: &Remote) -> anyhow::Result<Self> {
        let token = match &remote.token {
            Some(token) => token.clone(),
            None => std::fs::read_to_string(&remote.token_file)
                .with_context(|| {
                    format!(
                        "no admin token: pass --token or HOLDFAST_TOKEN, or point --token-file at the deployment's DATA_DIR/admin-token (tried {})",
                        remote.token_file.display()
                    )
                })?
                .trim()
                .to_owned(),
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("holdfast-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(AdminClient {
            http,
            base: remote.server.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// A request to `path` (below the server URL) with the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends a request; a non-success answer becomes an error with the server's message.
    pub async fn send(&self, request: RequestBuilder) -> anyhow::Result<Response> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the Holdfast server at {}", self.base))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no explanation given")
            .to_owned();
        let mut text = match status {
            StatusCode::UNAUTHORIZED => {
                "the server refused the admin token (401): check --token or --token-file".to_owned()
            }
            _ => format!("the server answered {status}: {message}"),
        };
        if let Some(errors) = body.get("errors").and_then(Value::as_array) {
            for error in errors {
                text.push_str("\n  ");
                text.push_str(&describe_problem(error));
            }
        }
        bail!(text)
    }

    /// Sends a request and reads a JSON answer.
    pub async fn json(&self, request: RequestBuilder) -> anyhow::Result<Value> {
        Ok(self.send(request).await?.json().await?)
    }
}

/// One problem from an error answer, as a line: `path: message (line L, column C)`.
fn describe_problem(problem: &Value) -> String {
    let at = problem
        .get("path")
        .or_else(|| problem.get("field"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = problem.get("message").and_then(Value::as_str).unwrap_or("");
    let mut line = if at.is_empty() {
        message.to_owned()
    } else {
        format!("{at}: {message}")
    };
    if let (Some(l), Some(c)) = (
        problem.get("line").and_then(Value::as_u64),
        problem.get("column").and_then(Value::as_u64),
    ) {
        line.push_str(&format!(" (line {l}, column {c})"));
    }
    line
}
