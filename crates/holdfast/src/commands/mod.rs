//! The operator commands: each turns its arguments into admin API calls and prints the
//! result as text, or JSON with `--json`.

mod maintenance;
mod org;
mod process;
mod submissions;
mod webhook;

use crate::cli::{Cli, Command};

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::serve::run(args).await,
        Command::Org(command) => org::run(command).await,
        Command::Process(command) => process::run(command).await,
        Command::Submissions(command) => submissions::run(command).await,
        Command::Maintenance(command) => maintenance::run(command).await,
        Command::Webhook(command) => webhook::run(command).await,
    }
}

/// Prints a JSON value, pretty.
fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A string field of a JSON object, or "".
fn text<'a>(value: &'a serde_json::Value, key: &str) -> &'a str {
    value
        .get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
}
