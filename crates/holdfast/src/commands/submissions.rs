//! `holdfast submissions export`.

use std::io::Write;

use anyhow::Context;
use reqwest::Method;

use crate::cli::{ExportFormat, SubmissionsCommand};
use crate::client::AdminClient;

/// Runs a `submissions` command.
pub async fn run(command: SubmissionsCommand) -> anyhow::Result<()> {
    match command {
        SubmissionsCommand::Export {
            org,
            process,
            format,
            output,
            remote,
        } => {
            let client = AdminClient::new(&remote)?;
            let format = match format {
                ExportFormat::Jsonl => "jsonl",
                ExportFormat::Csv => "csv",
            };
            let body = client
                .send(
                    client
                        .request(
                            Method::GET,
                            &format!("/api/v1/admin/orgs/{org}/processes/{process}/submissions"),
                        )
                        .query(&[("format", format)]),
                )
                .await?
                .bytes()
                .await?;
            match output {
                Some(path) => std::fs::write(&path, &body)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().write_all(&body)?,
            }
            Ok(())
        }
    }
}
