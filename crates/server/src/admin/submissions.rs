//! `/api/v1/admin/orgs/{org}/processes/{process}/submissions`: the export of a process's
//! submissions, as JSON Lines or CSV (one row per submission, one column per field).

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use holdfast_store::Submission;
use serde::Deserialize;
use serde_json::Value;

use super::processes::find_org;
use crate::clock;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `GET …/submissions?format=jsonl|csv` (JSON Lines by default).
pub(crate) async fn export(
    State(state): State<AppState>,
    Path((org, process)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let org = find_org(&state, &org).await?;
    let latest = state
        .store
        .latest_version(org.id, &process)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no process {process:?}")))?;
    let submissions = state.store.list_submissions(org.id, &process).await?;
    match query.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => Ok((
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            jsonl(&submissions)?,
        )
            .into_response()),
        "csv" => {
            let definition = state.definition(&latest)?;
            let mut columns: Vec<String> = definition
                .steps
                .iter()
                .flat_map(|s| s.fields.iter().map(|f| f.id.clone()))
                .collect();
            // Fields that only older versions had still get their column.
            for submission in &submissions {
                for key in submission.answers.keys() {
                    if !columns.contains(key) {
                        columns.push(key.clone());
                    }
                }
            }
            Ok((
                [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                csv(&columns, &submissions)?,
            )
                .into_response())
        }
        other => Err(AppError::BadRequest(format!(
            "unknown export format {other:?}: expected jsonl or csv"
        ))),
    }
}

fn jsonl(submissions: &[Submission]) -> Result<String, AppError> {
    let mut out = String::new();
    for s in submissions {
        let line = serde_json::json!({
            "submission_id": s.id,
            "submitted_at": clock::rfc3339(s.submitted_at),
            "version": s.version,
            "answers": s.answers,
        });
        out.push_str(&serde_json::to_string(&line).map_err(anyhow::Error::from)?);
        out.push('\n');
    }
    Ok(out)
}

fn csv(columns: &[String], submissions: &[Submission]) -> Result<String, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["submission_id", "submitted_at", "version"];
    header.extend(columns.iter().map(String::as_str));
    writer.write_record(&header).map_err(anyhow::Error::from)?;
    for s in submissions {
        let mut row = vec![
            s.id.clone(),
            clock::rfc3339(s.submitted_at),
            s.version.to_string(),
        ];
        row.extend(columns.iter().map(|c| csv_cell(s.answers.get(c))));
        writer.write_record(&row).map_err(anyhow::Error::from)?;
    }
    let bytes = writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.into()))
}

/// One answer as a CSV cell. Lists are joined with "; ". Text that a spreadsheet would run as
/// a formula (starting with = + - @ or a tab or carriage return) is prefixed with `'`, except
/// plain phone-like numbers such as `+44 20 7946 0000`, which no spreadsheet runs.
pub fn csv_cell(answer: Option<&Value>) -> String {
    match answer {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => defuse_formula(s),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Some(other) => other.to_string(),
    }
}

fn defuse_formula(s: &str) -> String {
    let phone_like = || {
        s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'))
    };
    match s.chars().next() {
        Some('=' | '@' | '\t' | '\r') => format!("'{s}"),
        Some('+' | '-') if !phone_like() => format!("'{s}"),
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells() {
        assert_eq!(csv_cell(None), "");
        assert_eq!(csv_cell(Some(&json!("plain"))), "plain");
        assert_eq!(csv_cell(Some(&json!("=HYPERLINK(1)"))), "'=HYPERLINK(1)");
        assert_eq!(
            csv_cell(Some(&json!("+1+cmd|' /C calc'!A0"))),
            "'+1+cmd|' /C calc'!A0"
        );
        assert_eq!(csv_cell(Some(&json!("-2+3"))), "-2+3");
        assert_eq!(csv_cell(Some(&json!("@SUM(A1)"))), "'@SUM(A1)");
        assert_eq!(
            csv_cell(Some(&json!("+44 20 7946 0000"))),
            "+44 20 7946 0000"
        );
        assert_eq!(csv_cell(Some(&json!(12.5))), "12.5");
        assert_eq!(csv_cell(Some(&json!(-3))), "-3");
        assert_eq!(csv_cell(Some(&json!(true))), "true");
        assert_eq!(csv_cell(Some(&json!(["a", "b"]))), "a; b");
    }
}
