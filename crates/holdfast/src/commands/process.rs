//! `holdfast process publish | list | versions`.

use anyhow::Context;
use reqwest::Method;

use super::{print_json, text};
use crate::cli::ProcessCommand;
use crate::client::AdminClient;

/// Runs a `process` command.
pub async fn run(command: ProcessCommand) -> anyhow::Result<()> {
    match command {
        ProcessCommand::Publish { file, org, remote } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let content_type = match file.extension().and_then(|e| e.to_str()) {
                Some("json") => "application/json",
                _ => "application/yaml",
            };
            let client = AdminClient::new(&remote)?;
            let published = client
                .json(
                    client
                        .request(Method::POST, &format!("/api/v1/admin/orgs/{org}/processes"))
                        .header(reqwest::header::CONTENT_TYPE, content_type)
                        .body(source),
                )
                .await
                .with_context(|| format!("{} was not published", file.display()))?;
            if remote.json {
                return print_json(&published);
            }
            println!(
                "published {} version {}: {}",
                text(&published, "process"),
                published["version"],
                text(&published, "url")
            );
            Ok(())
        }
        ProcessCommand::List { org, remote } => {
            let client = AdminClient::new(&remote)?;
            let processes = client
                .json(client.request(Method::GET, &format!("/api/v1/admin/orgs/{org}/processes")))
                .await?;
            if remote.json {
                return print_json(&processes);
            }
            println!("{:<24} {:>7} TITLE", "PROCESS", "VERSION");
            for p in processes.as_array().into_iter().flatten() {
                println!(
                    "{:<24} {:>7} {}",
                    text(p, "slug"),
                    p["latest_version"],
                    text(p, "title")
                );
            }
            Ok(())
        }
        ProcessCommand::Versions {
            process,
            org,
            remote,
        } => {
            let client = AdminClient::new(&remote)?;
            let versions = client
                .json(client.request(
                    Method::GET,
                    &format!("/api/v1/admin/orgs/{org}/processes/{process}/versions"),
                ))
                .await?;
            if remote.json {
                return print_json(&versions);
            }
            println!("{:>7} {:<22} TITLE", "VERSION", "PUBLISHED");
            for v in versions.as_array().into_iter().flatten() {
                println!(
                    "{:>7} {:<22} {}",
                    v["version"],
                    text(v, "published_at"),
                    text(v, "title")
                );
            }
            Ok(())
        }
    }
}
