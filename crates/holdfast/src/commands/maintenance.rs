//! `holdfast maintenance schedule | list | show | cancel | notice | begin | end | report |
//! suggest`: each calls the admin API and prints text, or JSON with `--json`. `notice` of a
//! plan file renders it here, without a server.

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::{print_json, text};
use crate::cli::{MaintenanceCommand, NoticeFormat};
use crate::client::AdminClient;

/// Runs a `maintenance` command.
pub async fn run(command: MaintenanceCommand) -> anyhow::Result<()> {
    match command {
        MaintenanceCommand::Schedule { plan, remote } => {
            let source = std::fs::read_to_string(&plan)
                .with_context(|| format!("cannot read the plan file {}", plan.display()))?;
            let client = AdminClient::new(&remote)?;
            let stored = client
                .json(
                    client
                        .request(Method::POST, "/api/v1/admin/maintenance/plans")
                        .header("content-type", content_type(&plan))
                        .body(source),
                )
                .await?;
            if remote.json {
                return print_json(&stored);
            }
            println!(
                "scheduled plan {}: {}",
                text(&stored, "id"),
                text(&stored, "title")
            );
            print_phases(&stored);
            Ok(())
        }
        MaintenanceCommand::List { remote } => {
            let client = AdminClient::new(&remote)?;
            let plans = client
                .json(client.request(Method::GET, "/api/v1/admin/maintenance/plans"))
                .await?;
            if remote.json {
                return print_json(&plans);
            }
            let plans = plans.as_array().cloned().unwrap_or_default();
            if plans.is_empty() {
                println!("no maintenance is planned");
            }
            for plan in &plans {
                println!("{}  {}", text(plan, "id"), text(plan, "title"));
                print_phases(plan);
            }
            Ok(())
        }
        MaintenanceCommand::Show { id, remote } => {
            let client = AdminClient::new(&remote)?;
            let path = match id.chars().next() {
                Some('p' | 'P') => format!("/api/v1/admin/maintenance/plans/{}", encode(&id)),
                _ => format!("/api/v1/admin/maintenance/windows/{}", encode(&id)),
            };
            let shown = client.json(client.request(Method::GET, &path)).await?;
            if remote.json {
                return print_json(&shown);
            }
            if let Some(phases) = shown.get("phases").and_then(Value::as_array) {
                println!("{}  {}", text(&shown, "id"), text(&shown, "title"));
                if !text(&shown, "summary").is_empty() {
                    println!("  {}", text(&shown, "summary"));
                }
                for phase in phases {
                    print_window(phase);
                }
            } else {
                print_window(&shown);
            }
            Ok(())
        }
        MaintenanceCommand::Cancel {
            id,
            message,
            remote,
        } => {
            let client = AdminClient::new(&remote)?;
            let path = match id.chars().next() {
                Some('p' | 'P') => {
                    format!("/api/v1/admin/maintenance/plans/{}/cancel", encode(&id))
                }
                _ => format!("/api/v1/admin/maintenance/windows/{}/cancel", encode(&id)),
            };
            let body = match message {
                Some(message) => json!({ "message": message }),
                None => json!({}),
            };
            let cancelled = client
                .json(client.request(Method::POST, &path).json(&body))
                .await?;
            if remote.json {
                return print_json(&cancelled);
            }
            println!("cancelled {id}");
            if cancelled.get("phases").is_some() {
                print_phases(&cancelled);
            } else {
                print_window(&cancelled);
            }
            Ok(())
        }
        MaintenanceCommand::Notice {
            plan,
            tz,
            format,
            output,
            remote,
        } => {
            let rendered = if std::path::Path::new(&plan).is_file() {
                render_local(&plan, &tz, format)?
            } else {
                let client = AdminClient::new(&remote)?;
                let format = match format {
                    NoticeFormat::Markdown => "markdown",
                    NoticeFormat::Html => "html",
                };
                let request = client
                    .request(
                        Method::GET,
                        &format!("/api/v1/admin/maintenance/plans/{}/notice", encode(&plan)),
                    )
                    .query(&[("format", format), ("tz", &tz.join(","))]);
                client.send(request).await?.text().await?
            };
            match output {
                Some(path) => std::fs::write(&path, rendered)
                    .with_context(|| format!("cannot write {}", path.display())),
                None => {
                    print!("{rendered}");
                    Ok(())
                }
            }
        }
        MaintenanceCommand::Begin {
            window,
            minutes,
            message,
            remote,
        } => {
            let client = AdminClient::new(&remote)?;
            let mut body = json!({});
            if let Some(window) = &window {
                body["window"] = json!(window);
            }
            if let Some(minutes) = minutes {
                body["minutes"] = json!(minutes);
            }
            if let Some(message) = message {
                body["message"] = json!(message);
            }
            let begun = client
                .json(
                    client
                        .request(Method::POST, "/api/v1/admin/maintenance/begin")
                        .json(&body),
                )
                .await?;
            if remote.json {
                return print_json(&begun);
            }
            let downtime = &begun["downtime"];
            println!(
                "maintenance begun: downtime {} of window {} ({} in {})",
                text(downtime, "id"),
                text(downtime, "window"),
                text(downtime, "environment"),
                regions(&downtime["regions"])
            );
            let nodes = begun["nodes"].as_array().map_or(0, Vec::len);
            if begun["drained"].as_bool() == Some(true) {
                println!("  drained: every request in flight finished on all {nodes} node(s)");
            } else {
                println!(
                    "  warning: not every node reported drained within 30 seconds ({nodes} seen)"
                );
            }
            println!("  expected end: {}", text(downtime, "expected_end"));
            println!(
                "  staff bypass link (shown once): {}",
                text(&begun, "bypass_url")
            );
            Ok(())
        }
        MaintenanceCommand::End { window, remote } => {
            let client = AdminClient::new(&remote)?;
            let body = match &window {
                Some(window) => json!({ "window": window }),
                None => json!({}),
            };
            let ended = client
                .json(
                    client
                        .request(Method::POST, "/api/v1/admin/maintenance/end")
                        .json(&body),
                )
                .await?;
            if remote.json {
                return print_json(&ended);
            }
            for downtime in ended["ended"].as_array().into_iter().flatten() {
                println!(
                    "maintenance ended: downtime {} of window {} ({} to {})",
                    text(downtime, "id"),
                    text(downtime, "window"),
                    text(downtime, "started_at"),
                    text(downtime, "ended_at")
                );
            }
            Ok(())
        }
        MaintenanceCommand::Report { window, remote } => {
            let client = AdminClient::new(&remote)?;
            let mut request = client.request(Method::GET, "/api/v1/admin/maintenance/report");
            if let Some(window) = &window {
                request = request.query(&[("window", window)]);
            }
            let report = client.json(request).await?;
            if remote.json {
                return print_json(&report);
            }
            let number = |key: &str| report[key].as_i64().unwrap_or(0);
            println!(
                "maintenance report: downtime {} of window {} — {}",
                text(&report, "downtime"),
                text(&report, "window"),
                text(&report, "name")
            );
            println!(
                "  {} in {}",
                text(&report, "environment"),
                regions(&report["regions"])
            );
            println!(
                "  scheduled:          {} to {}",
                text(&report, "scheduled_start"),
                text(&report, "scheduled_end")
            );
            let ended = if report["ongoing"].as_bool() == Some(true) {
                "(still in progress)".to_owned()
            } else {
                text(&report, "ended_at").to_owned()
            };
            println!(
                "  downtime:           {} to {ended}, {}",
                text(&report, "started_at"),
                duration(number("duration_seconds"))
            );
            println!("  requests refused:   {}", number("requests_refused"));
            println!(
                "  sessions active:    {} when it began",
                number("sessions_active")
            );
            println!(
                "  sessions resumed:   {} afterwards",
                number("sessions_resumed")
            );
            println!("  sessions submitted: {}", number("sessions_submitted"));
            println!(
                "  changes lost:       {} (from gaps in the clients' change numbers)",
                number("changes_lost")
            );
            Ok(())
        }
        MaintenanceCommand::Suggest {
            environment,
            region,
            duration,
            weeks,
            count,
            remote,
        } => {
            let client = AdminClient::new(&remote)?;
            let request = client
                .request(Method::GET, "/api/v1/admin/maintenance/suggest")
                .query(&[
                    ("environment", environment.as_str()),
                    ("region", region.as_str()),
                    ("duration", duration.as_str()),
                    ("weeks", &weeks.to_string()),
                    ("count", &count.to_string()),
                ]);
            let suggested = client.json(request).await?;
            if remote.json {
                return print_json(&suggested);
            }
            println!(
                "off-peak windows of {} for {environment} in {region}, from {weeks} week(s) of activity:",
                duration_words(suggested["duration_minutes"].as_i64().unwrap_or(0) * 60)
            );
            for s in suggested["suggestions"].as_array().into_iter().flatten() {
                println!(
                    "  {} to {}  ({})  expected {}: {}",
                    text(s, "start"),
                    text(s, "end"),
                    text(s, "weekly"),
                    text(&suggested, "counting"),
                    s["expected"].as_f64().unwrap_or(0.0)
                );
            }
            Ok(())
        }
    }
}

/// Renders the notice of a plan file here.
fn render_local(path: &str, tz: &[String], format: NoticeFormat) -> anyhow::Result<String> {
    use holdfast_server::maintenance::{notice, plan};
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plan file {path}"))?;
    let new = match plan::read(&source) {
        Ok(new) => new,
        Err(problems) => {
            let mut message = format!("the plan {path} has {} problem(s)", problems.len());
            for p in problems {
                message.push_str(&format!("\n  {}: {}", p.field, p.message));
            }
            bail!(message)
        }
    };
    let zones = notice::zones(tz).map_err(anyhow::Error::msg)?;
    let input = notice::NoticePlan::from_new(&new);
    Ok(match format {
        NoticeFormat::Markdown => notice::markdown(&input, &zones),
        NoticeFormat::Html => notice::html(&input, &zones),
    })
}

fn content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        _ => "application/yaml",
    }
}

/// Ids are letters and digits; anything else is sent percent-encoded.
fn encode(id: &str) -> String {
    form_encode(id)
}

fn form_encode(text: &str) -> String {
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

fn regions(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

fn print_phases(plan: &Value) {
    for phase in plan["phases"].as_array().into_iter().flatten() {
        println!(
            "  {:<5} phase {}  {:<11} {:<12} {} to {}  {:<11}  {}",
            text(phase, "id"),
            phase["phase"].as_i64().unwrap_or(0),
            text(phase, "environment"),
            regions(&phase["regions"]),
            text(phase, "start"),
            text(phase, "end"),
            text(phase, "status"),
            text(phase, "name")
        );
    }
}

fn print_window(window: &Value) {
    println!(
        "{}  phase {} of {}: {}",
        text(window, "id"),
        window["phase"].as_i64().unwrap_or(0),
        text(window, "plan"),
        text(window, "name")
    );
    println!(
        "    {} in {}, {} to {}, up to {} min for end customers",
        text(window, "environment"),
        regions(&window["regions"]),
        text(window, "start"),
        text(window, "end"),
        window["impact_minutes"].as_i64().unwrap_or(0)
    );
    println!("    status: {}", text(window, "status"));
    if !text(window, "message").is_empty() {
        println!("    message: {}", text(window, "message"));
    }
    for update in window["updates"].as_array().into_iter().flatten() {
        println!(
            "    {}  {:<11}  {}",
            text(update, "created_at"),
            text(update, "status"),
            text(update, "message")
        );
    }
}

fn duration(seconds: i64) -> String {
    format!("{seconds} s ({})", duration_words(seconds))
}

fn duration_words(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}
