//! Scheduling: the seed notice's three-phase plan goes in through the CLI as one plan with
//! three windows and renders the customer notice; every kind of nonsense is refused with a
//! message that names the phase and the problem.

use serde_json::Value;

use super::{BEFORE_PLAN, HOUR, Platform, SEED_PLAN};
use crate::on_both_backends;
use crate::support::Backend;

fn problems(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["field"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

async fn refused(platform: &Platform, plan: &str) -> Vec<String> {
    let (status, body) = platform.schedule(plan).await;
    assert_eq!(status, 422, "refused: {body}");
    assert_eq!(body["error"], "invalid");
    problems(&body)
}

on_both_backends!(
    maintenance_scheduling_refuses_each_kind_of_nonsense,
    |backend: Backend| async move {
        let platform = Platform::start_with(backend, BEFORE_PLAN, |config| {
            config.maintenance.max_window_ms = 3 * HOUR;
        })
        .await;

        // An end not after its start.
        let got = refused(
            &platform,
            &SEED_PLAN.replace("end: 2027-01-31T18:00:00Z", "end: 2027-01-31T16:00:00Z"),
        )
        .await;
        assert_eq!(
            got,
            vec![
                "phases[1]: phase 2 (Production environment (APAC customers)): the end 2027-01-31T16:00:00Z is not after the start 2027-01-31T16:00:00Z"
            ]
        );

        // A phase that has already ended.
        let short = SEED_PLAN.replace("end: 2027-01-10T20:00:00Z", "end: 2027-01-10T18:00:00Z");
        let got = refused(&platform, &short.replace("2027-01-10", "2027-01-02")).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with(
                "phases[0]: phase 1 (Development environment (all customers)): it has already ended"
            ),
            "{got:?}"
        );

        // Longer than the configured limit (3 h here; the development phase lasts 4 h).
        let got = refused(&platform, SEED_PLAN).await;
        assert_eq!(
            got,
            vec![
                "phases[0]: phase 1 (Development environment (all customers)): it lasts 4 h, longer than the limit of 3 h (set with --max-window)"
            ]
        );

        // An unknown region and an unknown environment.
        let got = refused(&platform, &short.replace("[eu, na]", "[eu, mars]")).await;
        assert_eq!(
            got,
            vec![
                "phases[2].regions: phase 3 (Production environment (EU and North America customers)): unknown region \"mars\"; this platform's regions are apac, eu, na"
            ]
        );
        let got = refused(
            &platform,
            &short.replace(
                "environment: production\n    regions: [apac]",
                "environment: staging\n    regions: [apac]",
            ),
        )
        .await;
        assert_eq!(
            got,
            vec![
                "phases[1].environment: phase 2 (Production environment (APAC customers)): unknown environment \"staging\"; expected production or development"
            ]
        );

        // Two phases of the plan overlapping on the same environment and region.
        let got = refused(
            &platform,
            &short
                .replace("2027-02-07T16:00:00Z", "2027-01-31T17:00:00Z")
                .replace("2027-02-07T18:00:00Z", "2027-01-31T19:00:00Z")
                .replace("[eu, na]", "[eu, apac]"),
        )
        .await;
        assert_eq!(
            got,
            vec![
                "phases[2]: phase 3 (Production environment (EU and North America customers)) overlaps phase 2 (Production environment (APAC customers)) on production in apac"
            ]
        );

        // Unknown keys, and documents that are not plans.
        let got = refused(
            &platform,
            &short.replace("summary:", "colour: red\nsummary:"),
        )
        .await;
        assert!(got[0].contains("unknown field `colour`"), "{got:?}");
        let got = refused(&platform, "title: [").await;
        assert!(!got.is_empty());

        // The plan itself is fine; a second one overlapping an already scheduled phase is not.
        let (status, body) = platform.schedule(&short).await;
        assert_eq!(status, 201, "{body}");
        let got = refused(
            &platform,
            "title: Database upgrade
phases:
  - name: EU database
    environment: production
    regions: [na]
    start: 2027-02-07T17:00:00Z
    end: 2027-02-07T19:00:00Z
",
        )
        .await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .starts_with("phases[0]: phase 1 (EU database): overlaps the scheduled window w3"),
            "{got:?}"
        );
        assert!(got[0].ends_with("on production in na"), "{got:?}");

        // The same window on another region, or after cancelling, is fine.
        let (status, _) = platform
            .schedule(
                "title: Database upgrade
phases:
  - name: APAC database
    environment: production
    regions: [apac]
    start: 2027-02-07T17:00:00Z
    end: 2027-02-07T19:00:00Z
",
            )
            .await;
        assert_eq!(status, 201);
        platform.stop().await;
    }
);

on_both_backends!(
    maintenance_the_seed_plan_scheduled_through_the_cli_renders_its_notice,
    |backend: Backend| async move {
        let platform = Platform::start(backend, BEFORE_PLAN).await;
        let dir = tempfile::tempdir().unwrap();
        let plan_file = dir.path().join("plan.yaml");
        std::fs::write(&plan_file, SEED_PLAN).unwrap();
        let plan_path = plan_file.to_str().unwrap();

        // schedule prints the plan's id and each phase's window id.
        let out = platform
            .cli_ok(&["maintenance", "schedule", plan_path])
            .await;
        assert!(
            out.starts_with("scheduled plan p1: Enhanced performance and security maintenance"),
            "{out}"
        );
        for (window, line) in [
            ("w1", "development all"),
            ("w2", "production  apac"),
            ("w3", "production  eu, na"),
        ] {
            let found = out
                .lines()
                .find(|l| l.trim_start().starts_with(window))
                .unwrap_or_else(|| panic!("{window} in {out}"));
            assert!(
                found
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .contains(&line.split_whitespace().collect::<Vec<_>>().join(" ")),
                "{found}"
            );
        }

        // --json on list and show.
        let listed: Value =
            serde_json::from_str(&platform.cli_ok(&["maintenance", "list", "--json"]).await)
                .unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let phases = listed[0]["phases"].as_array().unwrap();
        assert_eq!(phases.len(), 3);
        assert_eq!(phases[1]["id"], "w2");
        assert_eq!(phases[1]["status"], "scheduled");
        assert_eq!(phases[1]["start"], "2027-01-31T16:00:00Z");
        assert_eq!(phases[1]["end"], "2027-01-31T18:00:00Z");
        assert_eq!(phases[1]["impact_minutes"], 15);
        assert_eq!(phases[0]["impact_minutes"], 0);
        assert_eq!(phases[0]["regions"], "all");
        assert_eq!(phases[2]["regions"], serde_json::json!(["eu", "na"]));
        let shown: Value = serde_json::from_str(
            &platform
                .cli_ok(&["maintenance", "show", "w2", "--json"])
                .await,
        )
        .unwrap();
        assert_eq!(shown["updates"][0]["status"], "scheduled");

        // The notice, with every phase in UTC and in the time zones asked for.
        let notice = platform
            .cli_ok(&[
                "maintenance",
                "notice",
                "p1",
                "--tz",
                "Europe/Amsterdam,Asia/Singapore",
            ])
            .await;
        for section in [
            "## Overview",
            "## What will happen?",
            "## When will it occur?",
            "## What will end customers see and experience?",
            "## What are the advantages?",
            "## Data integrity",
        ] {
            assert!(notice.contains(section), "{section} in {notice}");
        }
        for when in [
            "Sunday 10 January 2027, 16:00–20:00 UTC",
            "Sunday 31 January 2027, 16:00–18:00 UTC",
            "Sunday 7 February 2027, 16:00–18:00 UTC",
            "Sunday 7 February 2027, 17:00–19:00 CET (Europe/Amsterdam)",
            "Monday 1 February 2027, 00:00–02:00 +08 (Asia/Singapore)",
        ] {
            assert!(notice.contains(when), "{when} in {notice}");
        }
        insta::assert_snapshot!("seed_plan_notice_markdown", notice);

        // The same notice from the file, without the server; and as HTML.
        let from_file = platform
            .cli_ok(&[
                "maintenance",
                "notice",
                plan_path,
                "--tz",
                "Europe/Amsterdam",
                "--tz",
                "Asia/Singapore",
            ])
            .await;
        assert_eq!(from_file, notice);
        let html = platform
            .cli_ok(&["maintenance", "notice", "p1", "--format", "html"])
            .await;
        assert!(html.contains("<h2>When will it occur?</h2>"), "{html}");
        assert!(html.contains("Phase 3 – Production environment (EU and North America customers)</strong>: Sunday 7 February 2027, 16:00–18:00 UTC"), "{html}");
        let (ok, _, err) = platform
            .cli(&["maintenance", "notice", "p1", "--tz", "Mars/Olympus"])
            .await;
        assert!(!ok);
        assert!(err.contains("unknown time zone"), "{err}");

        // Cancelling one phase leaves the others; a cancelled phase is out of the notice.
        let out = platform
            .cli_ok(&[
                "maintenance",
                "cancel",
                "w1",
                "--message",
                "Not needed after all",
            ])
            .await;
        assert!(out.contains("status: cancelled"), "{out}");
        let (ok, _, err) = platform.cli(&["maintenance", "cancel", "w1"]).await;
        assert!(!ok && err.contains("nothing to cancel"), "{err}");
        let notice = platform.cli_ok(&["maintenance", "notice", "p1"]).await;
        assert!(!notice.contains("Development environment"), "{notice}");
        let out = platform.cli_ok(&["maintenance", "show", "p1"]).await;
        assert!(out.contains("Not needed after all"), "{out}");

        // A refused plan exits with status 1 and says why.
        std::fs::write(&plan_file, SEED_PLAN).unwrap();
        let (ok, _, err) = platform.cli(&["maintenance", "schedule", plan_path]).await;
        assert!(!ok);
        assert!(
            err.contains("phases[1]: phase 2 (Production environment (APAC customers)): overlaps the scheduled window w2"),
            "{err}"
        );
        platform.stop().await;
    }
);
