//! `holdfast org create | list`.

use reqwest::Method;
use serde_json::json;

use super::{print_json, text};
use crate::cli::OrgCommand;
use crate::client::AdminClient;

/// Runs an `org` command.
pub async fn run(command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Create {
            slug,
            region,
            name,
            remote,
        } => {
            let client = AdminClient::new(&remote)?;
            let mut body = json!({ "slug": slug });
            if let Some(region) = region {
                body["region"] = json!(region);
            }
            if let Some(name) = name {
                body["name"] = json!(name);
            }
            let org = client
                .json(
                    client
                        .request(Method::POST, "/api/v1/admin/orgs")
                        .json(&body),
                )
                .await?;
            if remote.json {
                print_json(&org)
            } else {
                println!(
                    "created organisation {} (region {})",
                    text(&org, "slug"),
                    text(&org, "region")
                );
                Ok(())
            }
        }
        OrgCommand::List { remote } => {
            let client = AdminClient::new(&remote)?;
            let orgs = client
                .json(client.request(Method::GET, "/api/v1/admin/orgs"))
                .await?;
            if remote.json {
                return print_json(&orgs);
            }
            println!("{:<24} {:<12} NAME", "SLUG", "REGION");
            for org in orgs.as_array().into_iter().flatten() {
                println!(
                    "{:<24} {:<12} {}",
                    text(org, "slug"),
                    text(org, "region"),
                    text(org, "name")
                );
            }
            Ok(())
        }
    }
}
