//! The customer notice of a plan, in Markdown and HTML, with the sections of the notice in
//! `seed/maintenance-notice.txt`: overview, what will happen, when (every phase in UTC and,
//! on request, in given time zones), what end customers will see, advantages and data
//! integrity.
//!
//! The wording is worked out here once; the two templates (`notice.md`, `notice.html`) only
//! lay it out, the HTML one escaping everything.

use askama::Template;
use holdfast_store::maintenance::{MaintenancePlan, NewPlan, Regions};
use jiff::tz::TimeZone;

use super::plan::minutes_text;
use super::status::regions_words;

/// What a notice is made from: a scheduled plan or a plan file.
#[derive(Debug, Clone)]
pub struct NoticePlan {
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Advantages (empty: the standard ones).
    pub advantages: Vec<String>,
    /// The phases (cancelled ones left out).
    pub phases: Vec<NoticePhase>,
}

/// One phase of a notice.
#[derive(Debug, Clone)]
pub struct NoticePhase {
    /// Name.
    pub name: String,
    /// `development` or `production`.
    pub environment: String,
    /// Regions.
    pub regions: Regions,
    /// Start, UTC.
    pub starts_at: i64,
    /// End, UTC.
    pub ends_at: i64,
    /// The longest end customers may be affected, in minutes.
    pub impact_minutes: i64,
    /// The operators' message.
    pub message: String,
}

impl NoticePlan {
    /// From a plan file.
    pub fn from_new(plan: &NewPlan) -> Self {
        NoticePlan {
            title: plan.title.clone(),
            summary: plan.summary.clone(),
            advantages: plan.advantages.clone(),
            phases: plan
                .phases
                .iter()
                .map(|p| NoticePhase {
                    name: p.name.clone(),
                    environment: p.environment.clone(),
                    regions: p.regions.clone(),
                    starts_at: p.starts_at,
                    ends_at: p.ends_at,
                    impact_minutes: p.impact_minutes,
                    message: p.message.clone(),
                })
                .collect(),
        }
    }

    /// From a scheduled plan.
    pub fn from_stored(plan: &MaintenancePlan) -> Self {
        NoticePlan {
            title: plan.title.clone(),
            summary: plan.summary.clone(),
            advantages: plan.advantages.clone(),
            phases: plan
                .windows
                .iter()
                .filter(|w| w.cancelled_at.is_none())
                .map(|w| NoticePhase {
                    name: w.name.clone(),
                    environment: w.environment.clone(),
                    regions: w.regions.clone(),
                    starts_at: w.starts_at,
                    ends_at: w.ends_at,
                    impact_minutes: w.impact_minutes,
                    message: w.message.clone(),
                })
                .collect(),
        }
    }
}

/// Looks up IANA time zones by name.
pub fn zones(names: &[String]) -> Result<Vec<(String, TimeZone)>, String> {
    names
        .iter()
        .map(|name| {
            TimeZone::get(name)
                .map(|zone| (name.clone(), zone))
                .map_err(|_| {
                    format!("unknown time zone {name:?}: use an IANA name such as Europe/Amsterdam")
                })
        })
        .collect()
}

/// The advantages a notice lists when the plan names none.
pub const STANDARD_ADVANTAGES: [&str; 3] = [
    "Performance: faster responses, with bottlenecks removed and servers and databases tuned.",
    "Scalability: capacity that grows with your end customers and their usage, so processes stay fast under any load.",
    "Downtime prevention: problems are addressed before they can affect anyone, with updates and checks done off-peak.",
];

struct PhaseText {
    label: String,
    when_utc: String,
    when_local: Vec<String>,
    what: String,
    message: String,
}

struct NoticeText {
    title: String,
    summary: String,
    intro: String,
    phases: Vec<PhaseText>,
    when_intro: String,
    experience: Vec<String>,
    advantages: Vec<String>,
    integrity: Vec<String>,
}

#[derive(Template)]
#[template(path = "notice.md")]
struct MarkdownNotice<'a> {
    n: &'a NoticeText,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct HtmlNotice<'a> {
    n: &'a NoticeText,
}

/// The notice in Markdown.
pub fn markdown(plan: &NoticePlan, zones: &[(String, TimeZone)]) -> String {
    let text = compose(plan, zones);
    MarkdownNotice { n: &text }
        .render()
        .unwrap_or_else(|error| format!("the notice could not be rendered: {error}"))
}

/// The notice as an HTML document.
pub fn html(plan: &NoticePlan, zones: &[(String, TimeZone)]) -> String {
    let text = compose(plan, zones);
    HtmlNotice { n: &text }
        .render()
        .unwrap_or_else(|error| format!("the notice could not be rendered: {error}"))
}

/// "Sunday 10 January 2027, 16:00–20:00 UTC" (the end date in full when it is another day).
fn span(start: i64, end: i64, zone: &TimeZone, zone_label: &str) -> String {
    let day = |t| super::in_zone(t, zone, "%Y-%m-%d");
    let start_text = super::in_zone(start, zone, "%A %-d %B %Y, %H:%M");
    let end_text = if day(start) == day(end) {
        super::in_zone(end, zone, "%H:%M")
    } else {
        super::in_zone(end, zone, "%A %-d %B %Y, %H:%M")
    };
    format!("{start_text}–{end_text} {zone_label}")
}

fn phase_label(index: usize, phase: &NoticePhase) -> String {
    format!("Phase {} – {}", index + 1, phase.name)
}

fn compose(plan: &NoticePlan, zones: &[(String, TimeZone)]) -> NoticeText {
    let count = plan.phases.len();
    let phases: Vec<PhaseText> = plan
        .phases
        .iter()
        .enumerate()
        .map(|(i, phase)| {
            let when_local = zones
                .iter()
                .map(|(name, zone)| {
                    let abbreviation = super::in_zone(phase.starts_at, zone, "%Z");
                    span(
                        phase.starts_at,
                        phase.ends_at,
                        zone,
                        &format!("{abbreviation} ({name})"),
                    )
                })
                .collect();
            let length = minutes_text(phase.ends_at - phase.starts_at);
            let what = if phase.environment == "development" {
                format!(
                    "Maintenance of the development environment ({}). It affects the Builder only: designing, previewing and publishing processes is unavailable during the window. It does not affect your end customers' experience.",
                    regions_words(&phase.regions)
                )
            } else if phase.impact_minutes == 0 {
                format!(
                    "Maintenance of the production environment ({}). End customers should not be affected during this {length} window.",
                    regions_words(&phase.regions)
                )
            } else {
                format!(
                    "Maintenance of the production environment ({}). The digital processes your end customers use may be unavailable for up to {} minutes during this {length} window.",
                    regions_words(&phase.regions),
                    phase.impact_minutes
                )
            };
            PhaseText {
                label: phase_label(i, phase),
                when_utc: span(phase.starts_at, phase.ends_at, &TimeZone::UTC, "UTC"),
                when_local,
                what,
                message: phase.message.clone(),
            }
        })
        .collect();
    let production: Vec<usize> = plan
        .phases
        .iter()
        .enumerate()
        .filter(|(_, p)| p.environment == "production" && p.impact_minutes > 0)
        .map(|(i, _)| i + 1)
        .collect();
    let experience = if production.is_empty() {
        vec!["Your end customers will not notice this maintenance: they can keep filling in and submitting your processes throughout.".to_owned()]
    } else {
        let which = match production.as_slice() {
            [one] => format!("During phase {one}"),
            [init @ .., last] => format!(
                "During phases {} and {last}",
                init.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            [] => String::new(),
        };
        vec![
            format!("{which}, a person who is filling in a form will notice something like a dropped network connection. Everything they enter is kept: what the server had already saved stays saved, and what they type during the outage is kept on their device until the service is back."),
            "While the service is down the form does not let them submit; it says why in an error message, and nothing is lost.".to_owned(),
            "If they reload the page, they see a maintenance page instead of the form. It says when the service is expected back and that their answers are saved, and it checks every 30 seconds by itself.".to_owned(),
            "As soon as the service is back, they return to the form at the step where they left off, with every answer, and can submit.".to_owned(),
        ]
    };
    let advantages = if plan.advantages.is_empty() {
        STANDARD_ADVANTAGES
            .iter()
            .map(|a| (*a).to_owned())
            .collect()
    } else {
        plan.advantages.clone()
    };
    NoticeText {
        title: plan.title.clone(),
        summary: plan.summary.clone(),
        intro: format!(
            "The maintenance takes place in {count} phase{}:",
            if count == 1 { "" } else { "s" }
        ),
        when_intro: if count == 1 {
            "The maintenance is scheduled for one window, at a time when the fewest people are affected:".to_owned()
        } else {
            format!("To keep the impact low, the maintenance is scheduled in {count} phases, each affecting different servers and regions:")
        },
        phases,
        experience,
        advantages,
        integrity: vec![
            "The integrity of your end customers' data is our first concern. Nothing they have entered is lost or corrupted by this maintenance.".to_owned(),
            "Every change an end customer makes is numbered and kept on their device until our servers have durably saved it; changes are applied exactly once, in order.".to_owned(),
            "When the maintenance is over, they continue the process at the point where it stopped. Afterwards we count, from those numbers, how many changes were lost; we expect zero, and we will report it.".to_owned(),
        ],
    }
}
