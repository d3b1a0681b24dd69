//! Announcing: the public status API, the iCalendar and Atom feeds (each read with a real
//! parser), and the banner on runtime pages from 72 hours before a window until it ends.

use icalendar::Component;
use serde_json::Value;

use super::{BEFORE_PLAN, HOUR, PHASE_2_START, Platform, SEED_PLAN};
use crate::on_both_backends;
use crate::support::Backend;

async fn status(platform: &Platform, query: &str) -> Value {
    let response = platform.get(&format!("/api/v1/status{query}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The status API's item for a window.
pub fn item(body: &Value, id: &str) -> Value {
    body["scheduled_maintenances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} in {body}"))
}

on_both_backends!(
    maintenance_is_announced_by_the_status_api_and_the_feeds,
    |backend: Backend| async move {
        let platform = Platform::start(backend, BEFORE_PLAN).await;
        let (code, _) = platform.schedule(SEED_PLAN).await;
        assert_eq!(code, 201);

        // The status API: no auth, the names status-page users know.
        let body = status(&platform, "").await;
        assert_eq!(body["status"]["indicator"], "none");
        let items = body["scheduled_maintenances"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        let apac = &items[1];
        assert_eq!(apac["id"], "w2");
        assert_eq!(
            apac["name"],
            "Enhanced performance and security maintenance: Production environment (APAC customers)"
        );
        assert_eq!(apac["status"], "scheduled");
        assert_eq!(apac["impact"], "maintenance");
        assert_eq!(apac["impact_minutes"], 15);
        assert_eq!(apac["scheduled_for"], "2027-01-31T16:00:00Z");
        assert_eq!(apac["scheduled_until"], "2027-01-31T18:00:00Z");
        assert_eq!(apac["started_at"], Value::Null);
        assert_eq!(apac["resolved_at"], Value::Null);
        assert_eq!(apac["environment"], "production");
        assert_eq!(apac["environments"], serde_json::json!(["production"]));
        assert_eq!(apac["regions"], serde_json::json!(["apac"]));
        assert_eq!(apac["updates"][0]["status"], "scheduled");
        assert_eq!(items[0]["impact"], "none");
        assert_eq!(items[0]["regions"], serde_json::json!(["apac", "eu", "na"]));
        assert_eq!(items[0]["all_regions"], true);

        // ?region narrows it; an unknown region is refused.
        let eu = status(&platform, "?region=eu").await;
        let ids: Vec<&str> = eu["scheduled_maintenances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["w1", "w3"]);
        assert_eq!(
            platform.get("/api/v1/status?region=mars").await.status(),
            422
        );

        // The clock moves the status: in progress from the start, completed after the end.
        platform.set_time(PHASE_2_START + HOUR).await;
        let body = status(&platform, "?region=apac").await;
        let apac = &item(&body, "w2");
        assert_eq!(apac["status"], "in_progress");
        assert_eq!(apac["started_at"], "2027-01-31T16:00:00Z");
        assert_eq!(
            apac["updates"][0]["status"], "in_progress",
            "newest first: {apac}"
        );
        assert_eq!(body["status"]["indicator"], "maintenance");
        platform.set_time(PHASE_2_START + 3 * HOUR).await;
        let body = status(&platform, "?region=apac").await;
        let apac = &item(&body, "w2");
        assert_eq!(apac["status"], "completed");
        assert_eq!(apac["resolved_at"], "2027-01-31T18:00:00Z");
        let history: Vec<&str> = apac["updates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["status"].as_str().unwrap())
            .collect();
        assert_eq!(history, ["completed", "in_progress", "scheduled"]);

        // The iCalendar feed, read by a real RFC 5545 parser. (Phase 1 ended three weeks ago:
        // the feeds keep a week of history.)
        let response = platform.get("/maintenance.ics").await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        let text = response.text().await.unwrap();
        assert!(text.contains("\r\n"), "lines end in CRLF");
        let calendar: icalendar::Calendar = text.parse().unwrap();
        assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
        let events: Vec<&icalendar::Event> = calendar.events().collect();
        assert_eq!(events.len(), 2);
        let apac = events
            .iter()
            .find(|e| e.get_uid().is_some_and(|u| u.starts_with("w2@")))
            .expect("the APAC phase");
        assert_eq!(apac.property_value("DTSTART"), Some("20270131T160000Z"));
        assert_eq!(apac.property_value("DTEND"), Some("20270131T180000Z"));
        assert_eq!(
            apac.get_summary(),
            Some(
                "Enhanced performance and security maintenance: Production environment (APAC customers)"
            )
        );
        assert_eq!(apac.property_value("STATUS"), Some("CONFIRMED"));
        assert!(apac.property_value("DTSTAMP").is_some());
        let eu: icalendar::Calendar = platform
            .get("/maintenance.ics?region=eu")
            .await
            .text()
            .await
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(eu.events().count(), 1);

        // A cancelled window stays in the calendar as cancelled, and leaves the status API.
        let response = platform
            .admin(
                reqwest::Method::POST,
                "/api/v1/admin/maintenance/windows/w3/cancel",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let calendar: icalendar::Calendar = platform
            .get("/maintenance.ics?region=na")
            .await
            .text()
            .await
            .unwrap()
            .parse()
            .unwrap();
        let na = calendar
            .events()
            .find(|e| e.get_uid().is_some_and(|u| u.starts_with("w3@")))
            .unwrap();
        assert_eq!(na.property_value("STATUS"), Some("CANCELLED"));
        let body = status(&platform, "?region=na").await;
        assert!(
            body["scheduled_maintenances"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["id"] != "w3")
        );

        // The Atom feed, read by an XML parser.
        let response = platform.get("/maintenance.atom").await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/atom+xml")
        );
        let text = response.text().await.unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let feed = doc.root_element();
        assert_eq!(feed.tag_name().name(), "feed");
        assert_eq!(
            feed.tag_name().namespace(),
            Some("http://www.w3.org/2005/Atom")
        );
        for required in ["id", "title", "updated", "author"] {
            assert!(
                feed.children().any(|c| c.tag_name().name() == required),
                "feed has <{required}>"
            );
        }
        let entries: Vec<_> = feed
            .children()
            .filter(|c| c.tag_name().name() == "entry")
            .collect();
        assert_eq!(entries.len(), 2);
        let child = |node: &roxmltree::Node, name: &str| {
            node.children()
                .find(|c| c.tag_name().name() == name)
                .and_then(|c| c.text())
                .unwrap_or_default()
                .to_owned()
        };
        for entry in &entries {
            for required in ["id", "title", "updated"] {
                assert!(!child(entry, required).is_empty(), "entry has <{required}>");
            }
            assert!(jiff::Timestamp::from_str_rfc3339(&child(entry, "updated")).is_ok());
        }
        let titles: Vec<String> = entries.iter().map(|e| child(e, "title")).collect();
        assert!(
            titles
                .iter()
                .any(|t| t.ends_with("Production environment (APAC customers) (completed)")),
            "{titles:?}"
        );
        assert!(
            titles.iter().any(|t| t.contains("(cancelled)")),
            "{titles:?}"
        );
        let apac = roxmltree::Document::parse(
            &platform
                .get("/maintenance.atom?region=apac")
                .await
                .text()
                .await
                .unwrap(),
        )
        .unwrap()
        .root_element()
        .children()
        .filter(|c| c.tag_name().name() == "entry")
        .count();
        assert_eq!(apac, 1);
        platform.stop().await;
    }
);

trait FromStrRfc3339 {
    fn from_str_rfc3339(text: &str) -> Result<jiff::Timestamp, jiff::Error>;
}

impl FromStrRfc3339 for jiff::Timestamp {
    fn from_str_rfc3339(text: &str) -> Result<jiff::Timestamp, jiff::Error> {
        text.parse()
    }
}

on_both_backends!(
    maintenance_banner_shows_from_72_hours_before_until_the_end,
    |backend: Backend| async move {
        let platform = Platform::start(backend, BEFORE_PLAN).await;
        platform.with_claim("acme", "eu").await;
        let (code, _) = platform.schedule(SEED_PLAN).await;
        assert_eq!(code, 201);
        platform.poll().await;
        let page = |platform: &Platform| {
            let http = platform.http.clone();
            let url = format!("{}/p/acme/motor-claim", platform.url);
            async move { http.get(url).send().await.unwrap().text().await.unwrap() }
        };

        // A week before the EU phase: nothing yet (phase 1 is the Builder's, phase 2 APAC's).
        assert!(!page(&platform).await.contains("maintenance-banner"));

        // 48 hours before: announced on the runtime pages of this EU production deployment.
        platform
            .set_time(super::PHASE_2_START + 7 * 24 * HOUR - 48 * HOUR)
            .await;
        let html = page(&platform).await;
        assert!(html.contains("maintenance-banner"), "{html}");
        assert!(
            html.contains(
                "Planned maintenance (eu and na): Sunday 7 February 2027, 16:00 UTC to 18:00 UTC"
            ),
            "{html}"
        );
        assert!(html.contains("up to 15 minutes"), "{html}");

        // During it, and gone after it.
        platform
            .set_time(super::PHASE_2_START + 7 * 24 * HOUR + HOUR)
            .await;
        assert!(page(&platform).await.contains("Maintenance in progress"));
        platform
            .set_time(super::PHASE_2_START + 7 * 24 * HOUR + 3 * HOUR)
            .await;
        assert!(!page(&platform).await.contains("maintenance-banner"));
        platform.stop().await;
    }
);
