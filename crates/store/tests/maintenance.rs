//! Maintenance storage, written once and run on each backend: plans and their windows, the
//! scheduling check inside one transaction, cancelling, automatic updates recorded once,
//! downtimes with the sessions active at their start, and the facts of the report.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use holdfast_store::maintenance::{
    DowntimeId, NewDowntime, NewPlan, NewWindow, NodeBeat, Regions, ScheduleOutcome,
};
use holdfast_store::{Change, NewOrg, NewSession, NewVersion, Store, StoreError, TokenHash};
use serde_json::Map;

const HOUR: i64 = 3_600_000;
const NOW: i64 = 1_800_000_000_000;

mod common;

async fn sqlite() -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    common::sqlite().await
}

async fn postgres() -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    common::postgres("maint").await
}

macro_rules! on_both {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (store, _dir) = super::sqlite().await;
                $body(store).await;
            }
            #[tokio::test]
            async fn postgres() {
                let (store, _dir) = super::postgres().await;
                $body(store).await;
            }
        }
    };
}

fn window(name: &str, environment: &str, regions: Regions, start: i64, hours: i64) -> NewWindow {
    NewWindow {
        name: name.to_owned(),
        environment: environment.to_owned(),
        regions,
        starts_at: start,
        ends_at: start + hours * HOUR,
        impact_minutes: 15,
        message: String::new(),
    }
}

fn plan(phases: Vec<NewWindow>) -> NewPlan {
    NewPlan {
        title: "Upgrade".to_owned(),
        summary: "Faster.".to_owned(),
        impact_minutes: 15,
        advantages: vec!["Speed".to_owned()],
        source: "title: Upgrade".to_owned(),
        unscheduled: false,
        phases,
    }
}

fn regions(list: &[&str]) -> Regions {
    Regions::Some(list.iter().map(|r| (*r).to_owned()).collect())
}

async fn schedule(store: &dyn Store, new: NewPlan) -> holdfast_store::maintenance::MaintenancePlan {
    match store.schedule_plan(new, NOW, &|_| Ok(())).await.unwrap() {
        ScheduleOutcome::Scheduled(plan) => plan,
        ScheduleOutcome::Refused(r) => panic!("refused: {r:?}"),
    }
}

async fn plans_keep_their_phases(store: Arc<dyn Store>) {
    let stored = schedule(
        store.as_ref(),
        plan(vec![
            window("Dev", "development", Regions::All, NOW + 24 * HOUR, 4),
            window("APAC", "production", regions(&["apac"]), NOW + 48 * HOUR, 2),
            window(
                "EU+NA",
                "production",
                regions(&["eu", "na"]),
                NOW + 72 * HOUR,
                2,
            ),
        ]),
    )
    .await;
    assert_eq!(stored.windows.len(), 3);
    assert_eq!(stored.advantages, vec!["Speed".to_owned()]);
    let phases: Vec<i64> = stored.windows.iter().map(|w| w.phase).collect();
    assert_eq!(phases, vec![1, 2, 3]);
    assert_eq!(stored.windows[2].regions, regions(&["eu", "na"]));
    assert_eq!(stored.windows[0].regions, Regions::All);
    assert_eq!(stored.windows[0].updates.len(), 1);
    assert_eq!(stored.windows[0].updates[0].status, "scheduled");

    // The check sees what is scheduled, and a refusal stores nothing.
    let outcome = store
        .schedule_plan(
            plan(vec![window("Again", "production", Regions::All, NOW, 1)]),
            NOW,
            &|existing| {
                assert_eq!(existing.len(), 3);
                Err(vec!["overlaps".to_owned()])
            },
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ScheduleOutcome::Refused(vec!["overlaps".to_owned()])
    );
    assert_eq!(store.list_plans().await.unwrap().len(), 1);

    // Cancelling one phase; a second cancel is a no-op.
    let second = stored.windows[1].id;
    assert_eq!(
        store
            .cancel_windows(&[second], "Not needed", NOW)
            .await
            .unwrap(),
        vec![second]
    );
    assert!(
        store
            .cancel_windows(&[second], "again", NOW)
            .await
            .unwrap()
            .is_empty()
    );
    let cancelled = store.window(second).await.unwrap().unwrap();
    assert_eq!(cancelled.cancelled_at, Some(NOW));
    assert_eq!(cancelled.updates.last().unwrap().status, "cancelled");

    // Automatic updates are recorded once.
    let first = stored.windows[0].id;
    assert!(
        store
            .add_update(first, "in_progress", "Started", Some("in_progress"), NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_update(first, "in_progress", "Started", Some("in_progress"), NOW)
            .await
            .unwrap()
    );
    assert_eq!(store.window(first).await.unwrap().unwrap().updates.len(), 2);

    // Listing by end time.
    assert_eq!(store.list_windows(NOW + 60 * HOUR).await.unwrap().len(), 1);
    assert_eq!(store.list_windows(0).await.unwrap().len(), 3);
}
on_both!(plans_keep_their_phases, super::plans_keep_their_phases);

async fn downtimes_count_what_happened(store: Arc<dyn Store>) {
    let org = store
        .create_org(
            NewOrg {
                slug: "acme".into(),
                name: "Acme".into(),
                region: "eu".into(),
            },
            NOW,
        )
        .await
        .unwrap();
    let version = store
        .publish_version(
            org.id,
            NewVersion {
                process_slug: "claim".into(),
                title: "Claim".into(),
                source: "x".into(),
            },
            NOW,
        )
        .await
        .unwrap();
    let token = TokenHash([1; 32]);
    store
        .create_session(
            NewSession {
                token: token.clone(),
                version: version.id,
                answers: Map::new(),
            },
            NOW,
        )
        .await
        .unwrap();
    let change = |seq: i64| Change {
        client: Some("tab".into()),
        seq: Some(seq),
        base: None,
        answers: Map::new(),
        current_step: None,
    };
    store
        .apply_change(&token, change(1), NOW + 1)
        .await
        .unwrap();

    let stored = schedule(
        store.as_ref(),
        plan(vec![window("EU", "production", regions(&["eu"]), NOW, 2)]),
    )
    .await;
    let new = |regions: Regions| NewDowntime {
        window: stored.windows[0].id,
        environment: "production".into(),
        regions,
        expected_end: Some(NOW + 2 * HOUR),
        bypass: TokenHash([9; 32]),
        active_since: NOW - HOUR,
    };
    let downtime = store
        .begin_downtime(new(regions(&["eu"])), NOW + 10)
        .await
        .unwrap();
    assert!(matches!(
        store.begin_downtime(new(Regions::All), NOW + 11).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.open_downtimes().await.unwrap(),
        vec![downtime.clone()]
    );
    store.add_refused(downtime.id, 3).await.unwrap();
    store.add_refused(downtime.id, 2).await.unwrap();

    let facts = store.downtime_facts(downtime.id).await.unwrap();
    assert_eq!(facts.sessions_active, 1);
    assert_eq!(facts.sessions_resumed, 0);

    let ended = store.end_downtime(downtime.id, NOW + 100).await.unwrap();
    assert_eq!(ended.ended_at, Some(NOW + 100));
    assert_eq!(ended.requests_refused, 5);
    assert!(matches!(
        store.end_downtime(downtime.id, NOW + 101).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.open_downtimes().await.unwrap().is_empty());

    // The client resyncs its journal (seq 2, 3) after the end, then seq 5: 4 is missing.
    store
        .apply_change(&token, change(2), NOW + 200)
        .await
        .unwrap();
    store
        .apply_change(&token, change(3), NOW + 201)
        .await
        .unwrap();
    let facts = store.downtime_facts(downtime.id).await.unwrap();
    assert_eq!((facts.sessions_resumed, facts.changes_lost), (1, 0));
    store
        .apply_change(&token, change(5), NOW + 202)
        .await
        .unwrap();
    assert_eq!(
        store
            .downtime_facts(downtime.id)
            .await
            .unwrap()
            .changes_lost,
        1
    );

    assert_eq!(
        store.latest_downtime().await.unwrap().unwrap().id,
        downtime.id
    );
    assert!(store.downtime(DowntimeId(9999)).await.unwrap().is_none());
    let window = store.window(stored.windows[0].id).await.unwrap().unwrap();
    assert_eq!(window.downtimes.len(), 1);

    // Activity per hour for suggestions.
    let activity = store.session_activity(NOW - HOUR).await.unwrap();
    assert_eq!(activity.len(), 1);
    assert_eq!(activity[0].1, "eu");
    assert_eq!(activity[0].2, NOW / HOUR);
    assert_eq!(
        store.design_activity(0).await.unwrap(),
        vec![("eu".to_owned(), NOW / HOUR)]
    );
}
on_both!(
    downtimes_count_what_happened,
    super::downtimes_count_what_happened
);

async fn nodes_beat(store: Arc<dyn Store>) {
    let beat = |drained: i64, seen_at: i64| NodeBeat {
        node_id: "n1".into(),
        environment: "production".into(),
        region: "eu".into(),
        drained,
        seen_at,
    };
    store.node_beat(beat(0, NOW)).await.unwrap();
    store.node_beat(beat(4, NOW + 5)).await.unwrap();
    assert_eq!(store.nodes(NOW).await.unwrap(), vec![beat(4, NOW + 5)]);
    assert!(store.nodes(NOW + 6).await.unwrap().is_empty());
}
on_both!(nodes_beat, super::nodes_beat);
