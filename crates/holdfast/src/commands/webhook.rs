//! `holdfast webhook add | list | remove | deliveries`: an organisation's endpoints for
//! maintenance events, and the delivery log. Each calls the admin API and prints text, or
//! JSON with `--json`.

use reqwest::Method;
use serde_json::{Value, json};

use super::{print_json, text};
use crate::cli::WebhookCommand;
use crate::client::AdminClient;

/// Runs a `webhook` command.
pub async fn run(command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add {
            url,
            org,
            secret,
            remote,
        } => {
            let client = AdminClient::new(&remote)?;
            let mut body = json!({ "url": url });
            if let Some(secret) = secret {
                body["secret"] = json!(secret);
            }
            let added = client
                .json(
                    client
                        .request(Method::POST, &webhooks_path(&org))
                        .json(&body),
                )
                .await?;
            if remote.json {
                return print_json(&added);
            }
            println!(
                "registered webhook {} for {}: {}",
                text(&added, "id"),
                text(&added, "org"),
                text(&added, "url")
            );
            println!(
                "signing secret (shown this once; give it to the receiver): {}",
                text(&added, "secret")
            );
            Ok(())
        }
        WebhookCommand::List { org, remote } => {
            let client = AdminClient::new(&remote)?;
            let listed = client
                .json(client.request(Method::GET, &webhooks_path(&org)))
                .await?;
            if remote.json {
                return print_json(&listed);
            }
            let endpoints = listed.as_array().cloned().unwrap_or_default();
            if endpoints.is_empty() {
                println!("{org} has no webhook endpoints");
            }
            for endpoint in &endpoints {
                println!(
                    "{:<6} {}  (since {})",
                    text(endpoint, "id"),
                    text(endpoint, "url"),
                    text(endpoint, "created_at")
                );
            }
            Ok(())
        }
        WebhookCommand::Remove { id, org, remote } => {
            let client = AdminClient::new(&remote)?;
            client
                .send(client.request(
                    Method::DELETE,
                    &format!("{}/{}", webhooks_path(&org), encode(&id)),
                ))
                .await?;
            if remote.json {
                return print_json(&json!({ "removed": id }));
            }
            println!("removed webhook {id} of {org}");
            Ok(())
        }
        WebhookCommand::Deliveries { org, limit, remote } => {
            let client = AdminClient::new(&remote)?;
            let log = client
                .json(client.request(
                    Method::GET,
                    &format!("{}/deliveries?limit={limit}", webhooks_path(&org)),
                ))
                .await?;
            if remote.json {
                return print_json(&log);
            }
            let deliveries = log.as_array().cloned().unwrap_or_default();
            if deliveries.is_empty() {
                println!("nothing has been sent to {org}'s webhooks yet");
            }
            for delivery in &deliveries {
                print_delivery(delivery);
            }
            Ok(())
        }
    }
}

fn print_delivery(delivery: &Value) {
    let event = delivery.get("event").unwrap_or(&Value::Null);
    let mut line = format!(
        "{:<6} {:<10} {:<24} {:<5} {} → {}",
        text(delivery, "id"),
        text(delivery, "state"),
        text(event, "type"),
        text(event, "window"),
        text(delivery, "webhook"),
        text(delivery, "url"),
    );
    if !text(delivery, "next_attempt_at").is_empty() {
        line.push_str(&format!(
            "  (next attempt {})",
            text(delivery, "next_attempt_at")
        ));
    }
    println!("{line}");
    for attempt in delivery
        .get("log")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let answer = match attempt.get("status_code").and_then(Value::as_i64) {
            Some(code) => format!("HTTP {code}"),
            None => "no answer".to_owned(),
        };
        let mut line = format!(
            "    attempt {} at {}: {answer} in {} ms",
            attempt.get("attempt").and_then(Value::as_i64).unwrap_or(0),
            text(attempt, "started_at"),
            attempt
                .get("duration_ms")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        );
        if !text(attempt, "error").is_empty() {
            line.push_str(&format!(" ({})", text(attempt, "error")));
        }
        println!("{line}");
    }
}

fn webhooks_path(org: &str) -> String {
    format!("/api/v1/admin/orgs/{}/webhooks", encode(org))
}

/// Percent-encodes a path segment.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
