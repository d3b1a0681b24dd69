//! Off-peak: the operator asks for a 2-hour production window in a region and gets the hours
//! of the week that, by the recorded activity, affect the fewest sessions.

use serde_json::{Value, json};

use super::{HOUR, Platform};
use crate::on_both_backends;
use crate::support::Backend;

/// Monday 2027-01-04T09:00:00Z.
const MONDAY_9: i64 = 1_799_053_200_000;

on_both_backends!(
    maintenance_suggest_avoids_the_busy_hours,
    |backend: Backend| async move {
        let platform = Platform::start(backend, MONDAY_9).await;
        platform.with_claim("acme", "eu").await;
        platform.with_claim("globex", "apac").await;
        // Three people fill in the claim on Monday between 09:00 and 10:00 (in eu), and one
        // in apac on Tuesday.
        for minute in [5, 20, 40] {
            platform.set_time(MONDAY_9 + minute * 60_000).await;
            let token = platform.open_session("acme", json!({})).await;
            assert_eq!(
                platform
                    .autosave(&token, 1, json!({"full_name": "Ada"}))
                    .await
                    .status(),
                200
            );
        }
        platform.set_time(MONDAY_9 + 24 * HOUR).await;
        let token = platform.open_session("globex", json!({})).await;
        assert_eq!(
            platform
                .autosave(&token, 1, json!({"full_name": "Bo"}))
                .await
                .status(),
            200
        );

        platform.set_time(MONDAY_9 + 2 * 24 * HOUR).await;
        let suggested: Value = serde_json::from_str(
            &platform
                .cli_ok(&[
                    "maintenance",
                    "suggest",
                    "--environment",
                    "production",
                    "--region",
                    "eu",
                    "--duration",
                    "2h",
                    "--weeks",
                    "1",
                    "--count",
                    "20",
                    "--json",
                ])
                .await,
        )
        .unwrap();
        assert_eq!(suggested["duration_minutes"], 120);
        assert_eq!(suggested["counting"], "sessions");
        let suggestions = suggested["suggestions"].as_array().unwrap();
        assert_eq!(suggestions.len(), 20);
        for s in suggestions {
            assert_eq!(s["expected"], 0.0, "{s}");
            let start: jiff::Timestamp = s["start"].as_str().unwrap().parse().unwrap();
            let weekday = start.to_zoned_datetime(jiff::tz::TimeZone::UTC);
            let hour = i64::from(weekday.hour());
            let monday = weekday.weekday() == jiff::civil::Weekday::Monday;
            assert!(
                !(monday && (8..=9).contains(&hour)),
                "a window covering Monday 09:00 is not proposed: {s}"
            );
            // Proposed at least 72 hours ahead.
            assert!(start.as_millisecond() >= MONDAY_9 + 2 * 24 * HOUR + 72 * HOUR);
        }

        // Asked for exactly the busy hour's neighbourhood, the count is what was recorded.
        let out = platform
            .cli_ok(&[
                "maintenance",
                "suggest",
                "--environment",
                "production",
                "--region",
                "eu",
                "--duration",
                "12h",
                "--weeks",
                "1",
                "--count",
                "14",
            ])
            .await;
        assert!(
            out.contains("off-peak windows of 12 h for production in eu"),
            "{out}"
        );
        assert!(
            out.contains("expected sessions: 3"),
            "the busiest proposal counts 3: {out}"
        );

        let (ok, _, err) = platform
            .cli(&[
                "maintenance",
                "suggest",
                "--environment",
                "production",
                "--region",
                "mars",
                "--duration",
                "2h",
            ])
            .await;
        assert!(!ok && err.contains("unknown region"), "{err}");
        platform.stop().await;
    }
);
