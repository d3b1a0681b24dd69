//! The maintenance plan file (`docs/maintenance-plan.md`): reading it (YAML or JSON, unknown
//! keys refused, every problem with its path) and checking it against the platform: each
//! phase's times, length, environment and regions, and overlaps with the plan's other phases
//! and with the windows already scheduled.
//!
//! Pure: the time, the platform's regions and the scheduled windows are passed in.

use holdfast_store::maintenance::{MaintenanceWindow, NewPlan, NewWindow, Regions};
use serde::Deserialize;
use serde_json::Value;

use super::ids;
use crate::clock::rfc3339;
use crate::error::Problem;

/// The longest plan document accepted, in bytes.
pub const MAX_PLAN_BYTES: usize = 256 * 1024;
/// The most phases a plan may have.
pub const MAX_PHASES: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanDocument {
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    impact_minutes: Option<i64>,
    #[serde(default)]
    advantages: Vec<String>,
    phases: Vec<PhaseDocument>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseDocument {
    name: String,
    environment: String,
    regions: Value,
    start: String,
    end: String,
    #[serde(default)]
    impact_minutes: Option<i64>,
    #[serde(default)]
    message: String,
}

/// What the platform checks a plan against.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// Now (milliseconds since the epoch).
    pub now: i64,
    /// The platform's regions.
    pub regions: &'a [String],
    /// The longest window allowed, in milliseconds.
    pub max_window_ms: i64,
}

/// Reads a plan document without checking it against the platform (for rendering a notice
/// from a file). Every problem has the path it is about.
pub fn read(source: &str) -> Result<NewPlan, Vec<Problem>> {
    if source.len() > MAX_PLAN_BYTES {
        return Err(vec![problem(
            "",
            format!("the plan is larger than {MAX_PLAN_BYTES} bytes"),
        )]);
    }
    let value = holdfast_definition::to_json(source).map_err(|errors| {
        errors
            .0
            .into_iter()
            .map(|e| Problem {
                field: e.path.clone(),
                message: match (e.line, e.column) {
                    (Some(l), Some(c)) => format!("{} (line {l}, column {c})", e.message),
                    _ => e.message,
                },
            })
            .collect::<Vec<_>>()
    })?;
    let document: PlanDocument = serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { String::new() } else { path };
        vec![Problem {
            field,
            message: error.into_inner().to_string(),
        }]
    })?;
    let mut problems = Vec::new();
    let title = document.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        problems.push(problem("title", "must be 1 to 200 characters"));
    }
    if document.summary.chars().count() > 4000 {
        problems.push(problem("summary", "must be at most 4000 characters"));
    }
    let default_impact = document.impact_minutes.unwrap_or(0);
    if default_impact < 0 {
        problems.push(problem("impact_minutes", "must be zero or more"));
    }
    for (i, advantage) in document.advantages.iter().enumerate() {
        if advantage.trim().is_empty() || advantage.chars().count() > 1000 {
            problems.push(problem(
                format!("advantages[{i}]"),
                "must be 1 to 1000 characters",
            ));
        }
    }
    if document.phases.is_empty() || document.phases.len() > MAX_PHASES {
        problems.push(problem(
            "phases",
            format!("a plan has 1 to {MAX_PHASES} phases"),
        ));
    }
    let mut phases = Vec::new();
    for (i, phase) in document.phases.into_iter().enumerate() {
        let at = format!("phases[{i}]");
        let label = phase_label(i, &phase.name);
        let before = problems.len();
        let name = phase.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            problems.push(problem(
                format!("{at}.name"),
                format!("phase {}: the name must be 1 to 200 characters", i + 1),
            ));
        }
        if phase.message.chars().count() > 4000 {
            problems.push(problem(
                format!("{at}.message"),
                format!("{label}: the message must be at most 4000 characters"),
            ));
        }
        let environment = phase.environment.trim().to_owned();
        if environment != "production" && environment != "development" {
            problems.push(problem(
                format!("{at}.environment"),
                format!(
                    "{label}: unknown environment {environment:?}; expected production or development"
                ),
            ));
        }
        let regions = match read_regions(&phase.regions) {
            Ok(regions) => Some(regions),
            Err(message) => {
                problems.push(problem(
                    format!("{at}.regions"),
                    format!("{label}: {message}"),
                ));
                None
            }
        };
        let start = read_time(&phase.start).map_err(|message| {
            problems.push(problem(
                format!("{at}.start"),
                format!("{label}: {message}"),
            ))
        });
        let end = read_time(&phase.end).map_err(|message| {
            problems.push(problem(format!("{at}.end"), format!("{label}: {message}")))
        });
        let impact = phase.impact_minutes.unwrap_or(default_impact);
        if impact < 0 {
            problems.push(problem(
                format!("{at}.impact_minutes"),
                format!("{label}: must be zero or more"),
            ));
        }
        if let (Ok(start), Ok(end)) = (start, end)
            && end <= start
        {
            problems.push(problem(
                at.clone(),
                format!(
                    "{label}: the end {} is not after the start {}",
                    rfc3339(end),
                    rfc3339(start)
                ),
            ));
        }
        if let (true, Some(regions), Ok(starts_at), Ok(ends_at)) =
            (problems.len() == before, regions, start, end)
        {
            phases.push(NewWindow {
                name,
                environment,
                regions,
                starts_at,
                ends_at,
                impact_minutes: impact,
                message: phase.message.trim().to_owned(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(NewPlan {
        title,
        summary: document.summary.trim().to_owned(),
        impact_minutes: default_impact,
        advantages: document
            .advantages
            .into_iter()
            .map(|a| a.trim().to_owned())
            .collect(),
        source: source.to_owned(),
        unscheduled: false,
        phases,
    })
}

/// Reads a plan and checks it against the platform: no phase has ended already, none is
/// longer than the limit, every region is one of the platform's, and no two phases of the
/// plan overlap on the same environment and region. (Overlaps with windows already scheduled
/// are checked by [`check_overlaps`], inside the transaction that stores the plan.)
pub fn parse(source: &str, limits: Limits<'_>) -> Result<NewPlan, Vec<Problem>> {
    let plan = read(source)?;
    let mut problems = Vec::new();
    for (i, phase) in plan.phases.iter().enumerate() {
        let at = format!("phases[{i}]");
        let label = phase_label(i, &phase.name);
        if phase.ends_at <= limits.now {
            problems.push(problem(
                at.clone(),
                format!(
                    "{label}: it has already ended (it ended {}; it is now {})",
                    rfc3339(phase.ends_at),
                    rfc3339(limits.now)
                ),
            ));
        }
        let length = phase.ends_at - phase.starts_at;
        if length > limits.max_window_ms {
            problems.push(problem(
                at.clone(),
                format!(
                    "{label}: it lasts {}, longer than the limit of {} (set with --max-window)",
                    minutes_text(length),
                    minutes_text(limits.max_window_ms)
                ),
            ));
        }
        if let Regions::Some(list) = &phase.regions {
            for region in list {
                if !limits.regions.contains(region) {
                    problems.push(problem(
                        format!("{at}.regions"),
                        format!(
                            "{label}: unknown region {region:?}; this platform's regions are {}",
                            limits.regions.join(", ")
                        ),
                    ));
                }
            }
        }
        for (j, other) in plan.phases.iter().enumerate().take(i) {
            if let Some(region) = overlap(
                &phase.environment,
                &phase.regions,
                (phase.starts_at, phase.ends_at),
                &other.environment,
                &other.regions,
                (other.starts_at, other.ends_at),
            ) {
                problems.push(problem(
                    at.clone(),
                    format!(
                        "{label} overlaps {} on {} in {region}",
                        phase_label(j, &other.name),
                        phase.environment
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(problems)
    }
}

/// Refuses phases that overlap a window already scheduled on the same environment and region.
pub fn check_overlaps(plan: &NewPlan, scheduled: &[MaintenanceWindow]) -> Result<(), Vec<String>> {
    let mut refusals = Vec::new();
    for (i, phase) in plan.phases.iter().enumerate() {
        for window in scheduled {
            if let Some(region) = overlap(
                &phase.environment,
                &phase.regions,
                (phase.starts_at, phase.ends_at),
                &window.environment,
                &window.regions,
                (window.starts_at, window.ends_at),
            ) {
                refusals.push(format!(
                    "phases[{i}]\u{1f}{}: overlaps the scheduled window {} (\"{}\", {}, {} to {}) on {} in {region}",
                    phase_label(i, &phase.name),
                    ids::window(window.id),
                    window.name,
                    window.plan_title,
                    rfc3339(window.starts_at),
                    rfc3339(window.ends_at),
                    window.environment,
                ));
            }
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

/// Turns the store's refusals (`path\u{1f}message`) back into problems.
pub fn refusals_to_problems(refusals: Vec<String>) -> Vec<Problem> {
    refusals
        .into_iter()
        .map(|r| match r.split_once('\u{1f}') {
            Some((field, message)) => problem(field, message),
            None => problem("", r),
        })
        .collect()
}

/// The region two windows share if they overlap in time on the same environment.
fn overlap(
    env_a: &str,
    regions_a: &Regions,
    (start_a, end_a): (i64, i64),
    env_b: &str,
    regions_b: &Regions,
    (start_b, end_b): (i64, i64),
) -> Option<String> {
    if env_a != env_b || start_a >= end_b || start_b >= end_a {
        return None;
    }
    match (regions_a, regions_b) {
        (Regions::All, Regions::All) => Some("every region".to_owned()),
        (Regions::All, Regions::Some(list)) | (Regions::Some(list), Regions::All) => {
            list.first().cloned()
        }
        (Regions::Some(a), Regions::Some(b)) => a.iter().find(|r| b.contains(r)).cloned(),
    }
}

fn read_regions(value: &Value) -> Result<Regions, String> {
    match value {
        Value::String(word) if word == "all" => Ok(Regions::All),
        Value::String(one) => Err(format!(
            "regions must be all or a list of regions, such as [{one}]"
        )),
        Value::Array(items) => {
            let mut list: Vec<String> = Vec::new();
            for item in items {
                let Some(region) = item.as_str() else {
                    return Err("every region must be a name".to_owned());
                };
                if !crate::config::is_valid_slug(region) {
                    return Err(format!("{region:?} is not a region name"));
                }
                if !list.iter().any(|r| r == region) {
                    list.push(region.to_owned());
                }
            }
            if list.is_empty() {
                return Err("the list of regions is empty; write all for every region".to_owned());
            }
            Ok(Regions::Some(list))
        }
        _ => Err("regions must be all or a list of regions".to_owned()),
    }
}

fn read_time(text: &str) -> Result<i64, String> {
    let timestamp: jiff::Timestamp = text.trim().parse().map_err(|_| {
        format!("{text:?} is not an RFC 3339 time with an offset, such as 2027-01-10T16:00:00Z")
    })?;
    Ok(timestamp.as_millisecond())
}

/// "phase 2 (Production environment (APAC customers))".
pub fn phase_label(index: usize, name: &str) -> String {
    format!("phase {} ({})", index + 1, name.trim())
}

/// "2 h", "90 min", "12 h 30 min".
pub fn minutes_text(ms: i64) -> String {
    let minutes = ms / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NOW: i64 = 1_795_000_000_000; // 2026-11-18
    const SEED: &str = "title: Enhanced performance and security maintenance
summary: Infrastructure upgrades.
impact_minutes: 15
phases:
  - name: Development environment (all customers)
    environment: development
    regions: all
    start: 2027-01-10T16:00:00Z
    end: 2027-01-10T20:00:00Z
    impact_minutes: 0
  - name: Production environment (APAC customers)
    environment: production
    regions: [apac]
    start: 2027-01-31T16:00:00Z
    end: 2027-01-31T18:00:00Z
  - name: Production environment (EU and North America customers)
    environment: production
    regions: [eu, na]
    start: 2027-02-07T16:00:00Z
    end: 2027-02-07T18:00:00Z
";

    fn regions() -> Vec<String> {
        ["apac", "eu", "na"].map(String::from).to_vec()
    }

    fn limits(regions: &[String]) -> Limits<'_> {
        Limits {
            now: NOW,
            regions,
            max_window_ms: 12 * 3_600_000,
        }
    }

    fn messages(source: &str) -> Vec<String> {
        let regions = regions();
        parse(source, limits(&regions))
            .unwrap_err()
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[test]
    fn the_seed_plan_reads() {
        let regions = regions();
        let plan = parse(SEED, limits(&regions)).unwrap();
        assert_eq!(plan.phases.len(), 3);
        assert_eq!(plan.phases[0].impact_minutes, 0);
        assert_eq!(plan.phases[1].impact_minutes, 15);
        assert_eq!(plan.phases[0].regions, Regions::All);
        assert_eq!(
            plan.phases[2].regions,
            Regions::Some(vec!["eu".into(), "na".into()])
        );
    }

    #[test]
    fn nonsense_is_refused_naming_the_phase() {
        let end_first = SEED.replace("end: 2027-01-31T18:00:00Z", "end: 2027-01-31T15:00:00Z");
        assert_eq!(
            messages(&end_first),
            vec![
                "phases[1]: phase 2 (Production environment (APAC customers)): the end 2027-01-31T15:00:00Z is not after the start 2027-01-31T16:00:00Z"
            ]
        );
        let past = SEED.replace("2027-01-10", "2025-01-10");
        assert!(
            messages(&past)[0].contains(
                "phase 1 (Development environment (all customers)): it has already ended"
            )
        );
        let long = SEED.replace("end: 2027-02-07T18:00:00Z", "end: 2027-02-08T18:00:00Z");
        assert!(messages(&long)[0].contains("phase 3 (Production environment (EU and North America customers)): it lasts 26 h, longer than the limit of 12 h"));
        let region = SEED.replace("[apac]", "[mars]");
        assert!(messages(&region)[0].contains("phases[1].regions: phase 2 (Production environment (APAC customers)): unknown region \"mars\""));
        let environment = SEED.replace("environment: development", "environment: staging");
        assert!(messages(&environment)[0].contains("unknown environment \"staging\""));
        let overlap = SEED
            .replace("2027-02-07", "2027-01-31")
            .replace("[eu, na]", "[eu, apac]");
        assert!(messages(&overlap)[0].starts_with("phases[2]: phase 3 (Production environment (EU and North America customers)) overlaps phase 2"), "{:?}", messages(&overlap));
        let unknown = SEED.replace("summary:", "colour: red\nsummary:");
        assert!(messages(&unknown)[0].contains("unknown field `colour`"));
        let bad_time = SEED.replace("2027-01-10T16:00:00Z", "next sunday");
        assert!(messages(&bad_time)[0].starts_with("phases[0].start: phase 1"));
    }

    #[test]
    fn overlapping_scheduled_windows_are_refused() {
        let regions = regions();
        let plan = parse(SEED, limits(&regions)).unwrap();
        let window = MaintenanceWindow {
            id: holdfast_store::maintenance::WindowId(7),
            plan_id: holdfast_store::maintenance::PlanId(1),
            plan_title: "Earlier plan".into(),
            phase: 1,
            name: "EU database".into(),
            environment: "production".into(),
            regions: Regions::Some(vec!["na".into()]),
            starts_at: plan.phases[2].starts_at + 3_600_000,
            ends_at: plan.phases[2].ends_at + 3_600_000,
            impact_minutes: 5,
            message: String::new(),
            cancelled_at: None,
            created_at: NOW,
            updated_at: NOW,
            updates: vec![],
            downtimes: vec![],
        };
        let problems = refusals_to_problems(check_overlaps(&plan, &[window]).unwrap_err());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "phases[2]");
        assert!(
            problems[0]
                .message
                .contains("overlaps the scheduled window w7")
        );
        assert!(problems[0].message.ends_with("on production in na"));
    }
}
