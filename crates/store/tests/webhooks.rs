//! Webhook storage, written once and run on each backend: endpoints per organisation, the
//! outbox (every event written once, with its deliveries to the right organisations), claims
//! that no two workers win at once, and the delivery log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use holdfast_store::maintenance::webhooks::{
    AttemptOutcome, AttemptRecord, EndpointId, NewEndpoint, NewEvent, WebhookSecret,
};
use holdfast_store::maintenance::{NewPlan, NewWindow, Regions, ScheduleOutcome, WindowId};
use holdfast_store::{NewOrg, Org, Store, StoreError};

const HOUR: i64 = 3_600_000;
const NOW: i64 = 1_800_000_000_000;
const LIMIT: i64 = 10;

mod common;

async fn sqlite() -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    common::sqlite().await
}

async fn postgres() -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    common::postgres("hooks").await
}

macro_rules! on_both {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (store, _dir) = super::sqlite().await;
                $body(store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (store, _dir) = super::postgres().await;
                $body(store).await;
            }
        }
    };
}

async fn org(store: &dyn Store, slug: &str, region: &str) -> Org {
    store
        .create_org(
            NewOrg {
                slug: slug.to_owned(),
                name: slug.to_owned(),
                region: region.to_owned(),
            },
            NOW,
        )
        .await
        .unwrap()
}

fn endpoint(org: &Org, url: &str) -> NewEndpoint {
    NewEndpoint {
        org: org.id,
        url: url.to_owned(),
        secret: WebhookSecret::new(format!("whsec_{url}")),
    }
}

/// Schedules a one-phase production plan in `regions`; returns its window.
async fn window(store: &dyn Store, regions: Regions) -> WindowId {
    let plan = NewPlan {
        title: "Upgrade".to_owned(),
        summary: String::new(),
        impact_minutes: 15,
        advantages: Vec::new(),
        source: String::new(),
        unscheduled: false,
        phases: vec![NewWindow {
            name: "Upgrade".to_owned(),
            environment: "production".to_owned(),
            regions,
            starts_at: NOW + 48 * HOUR,
            ends_at: NOW + 50 * HOUR,
            impact_minutes: 15,
            message: String::new(),
        }],
    };
    match store.schedule_plan(plan, NOW, &|_| Ok(())).await.unwrap() {
        ScheduleOutcome::Scheduled(plan) => plan.windows[0].id,
        ScheduleOutcome::Refused(r) => panic!("refused: {r:?}"),
    }
}

fn event(key: &str, window: WindowId, audience: Regions) -> NewEvent {
    NewEvent {
        public_id: format!("evt_{key}"),
        key: key.to_owned(),
        update_id: None,
        window,
        event_type: "maintenance.reminder".to_owned(),
        body: format!("{{\"id\":\"evt_{key}\"}}"),
        audience,
    }
}

fn failed(at: i64) -> AttemptRecord {
    AttemptRecord {
        started_at: at,
        duration_ms: 12,
        status_code: Some(500),
        error: Some("HTTP 500".to_owned()),
    }
}

async fn endpoints_belong_to_an_organisation(store: Arc<dyn Store>) {
    let acme = org(store.as_ref(), "acme", "eu").await;
    let first = store
        .add_webhook_endpoint(endpoint(&acme, "https://acme.example/hook"), LIMIT, NOW)
        .await
        .unwrap();
    assert_eq!(first.secret.expose(), "whsec_https://acme.example/hook");
    let listed = store.webhook_endpoints(acme.id).await.unwrap();
    assert_eq!(
        listed,
        vec![first.clone()],
        "the secret is kept to sign with"
    );

    // The same URL twice is refused; so is one over the limit.
    let again = store
        .add_webhook_endpoint(endpoint(&acme, "https://acme.example/hook"), LIMIT, NOW)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    store
        .add_webhook_endpoint(endpoint(&acme, "https://acme.example/two"), 2, NOW)
        .await
        .unwrap();
    let over = store
        .add_webhook_endpoint(endpoint(&acme, "https://acme.example/three"), 2, NOW)
        .await;
    assert!(matches!(over, Err(StoreError::Conflict(_))), "{over:?}");

    // An unknown organisation is not found.
    let ghost = Org {
        id: holdfast_store::OrgId(9_999),
        ..acme.clone()
    };
    let unknown = store
        .add_webhook_endpoint(endpoint(&ghost, "https://ghost.example/"), LIMIT, NOW)
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");

    // Removing is once, and only by its organisation; the URL can then be registered again.
    let other = org(store.as_ref(), "other", "eu").await;
    assert!(matches!(
        store.remove_webhook_endpoint(other.id, first.id, NOW).await,
        Err(StoreError::NotFound)
    ));
    store
        .remove_webhook_endpoint(acme.id, first.id, NOW)
        .await
        .unwrap();
    assert!(matches!(
        store.remove_webhook_endpoint(acme.id, first.id, NOW).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.webhook_endpoints(acme.id).await.unwrap().len(), 1);
    store
        .add_webhook_endpoint(endpoint(&acme, "https://acme.example/hook"), LIMIT, NOW)
        .await
        .unwrap();
}
on_both!(
    endpoints_belong_to_an_organisation_sqlite_and_postgres,
    super::endpoints_belong_to_an_organisation
);

async fn an_event_is_written_once_for_the_organisations_it_concerns(store: Arc<dyn Store>) {
    let eu = org(store.as_ref(), "eu-insurer", "eu").await;
    let na = org(store.as_ref(), "na-bank", "na").await;
    store
        .add_webhook_endpoint(endpoint(&eu, "https://eu.example/a"), LIMIT, NOW)
        .await
        .unwrap();
    store
        .add_webhook_endpoint(endpoint(&eu, "https://eu.example/b"), LIMIT, NOW)
        .await
        .unwrap();
    store
        .add_webhook_endpoint(endpoint(&na, "https://na.example/"), LIMIT, NOW)
        .await
        .unwrap();
    let w = window(store.as_ref(), Regions::Some(vec!["eu".to_owned()])).await;

    // The scheduled update waits to be announced.
    let pending = store.unannounced_updates(100).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, "scheduled");
    let mut announce = event("u", w, Regions::Some(vec!["eu".to_owned()]));
    announce.update_id = Some(pending[0].id);
    assert!(
        store
            .enqueue_webhook_event(announce.clone(), NOW)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.unannounced_updates(100).await.unwrap().is_empty());
    // The same update again (from another node, with another key) is not written twice.
    announce.key = "u-again".to_owned();
    announce.public_id = "evt_again".to_owned();
    assert_eq!(
        store.enqueue_webhook_event(announce, NOW).await.unwrap(),
        None
    );

    // Only the EU organisation's two endpoints hear of an EU window.
    assert_eq!(store.webhook_deliveries(eu.id, 50).await.unwrap().len(), 2);
    assert!(
        store
            .webhook_deliveries(na.id, 50)
            .await
            .unwrap()
            .is_empty()
    );

    // A reminder for everyone, written twice, is written once.
    for _ in 0..2 {
        store
            .enqueue_webhook_event(event("w:1:reminder:24h", w, Regions::All), NOW)
            .await
            .unwrap();
    }
    assert_eq!(store.webhook_deliveries(eu.id, 50).await.unwrap().len(), 4);
    let na_log = store.webhook_deliveries(na.id, 50).await.unwrap();
    assert_eq!(na_log.len(), 1);
    assert_eq!(na_log[0].event_id, "evt_w:1:reminder:24h");
    assert_eq!(na_log[0].state, "pending");
    assert_eq!(na_log[0].next_attempt_at, Some(NOW));
}
on_both!(
    events_are_written_once_sqlite_and_postgres,
    super::an_event_is_written_once_for_the_organisations_it_concerns
);

async fn a_delivery_is_claimed_by_one_worker_and_retried_until_it_lands(store: Arc<dyn Store>) {
    let acme = org(store.as_ref(), "acme", "eu").await;
    store
        .add_webhook_endpoint(endpoint(&acme, "https://acme.example/hook"), LIMIT, NOW)
        .await
        .unwrap();
    let w = window(store.as_ref(), Regions::All).await;
    store
        .enqueue_webhook_event(event("k", w, Regions::All), NOW)
        .await
        .unwrap();

    let claimed = store
        .claim_webhook_deliveries(NOW, "lease-a", NOW + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let delivery = &claimed[0];
    assert_eq!(delivery.attempt, 1);
    assert_eq!(delivery.url, "https://acme.example/hook");
    assert_eq!(delivery.secret.expose(), "whsec_https://acme.example/hook");
    assert_eq!(delivery.event_type, "maintenance.reminder");
    // Held: nobody else gets it until the lease runs out.
    assert!(
        store
            .claim_webhook_deliveries(NOW + 1_000, "lease-b", NOW + 61_000, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The endpoint failed: retry in 30 s. A worker that lost the lease cannot move it on.
    assert!(
        !store
            .record_webhook_attempt(
                delivery.id,
                "lease-b",
                1,
                failed(NOW),
                AttemptOutcome::GaveUp,
                NOW
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .record_webhook_attempt(
                delivery.id,
                "lease-a",
                1,
                failed(NOW),
                AttemptOutcome::RetryAt(NOW + 30_000),
                NOW
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_webhook_deliveries(NOW + 29_000, "lease-c", NOW + 89_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );

    // Due again; this time the worker dies holding it, and another takes over after the lease.
    let second = store
        .claim_webhook_deliveries(NOW + 30_000, "lease-d", NOW + 90_000, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempt, 2);
    let third = store
        .claim_webhook_deliveries(NOW + 91_000, "lease-e", NOW + 151_000, 10)
        .await
        .unwrap();
    assert_eq!(third.len(), 1);
    assert!(
        store
            .record_webhook_attempt(
                third[0].id,
                "lease-e",
                third[0].attempt,
                AttemptRecord {
                    started_at: NOW + 91_000,
                    duration_ms: 8,
                    status_code: Some(204),
                    error: None,
                },
                AttemptOutcome::Delivered,
                NOW + 91_000
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_webhook_deliveries(NOW + 10 * HOUR, "lease-f", NOW + 11 * HOUR, 10)
            .await
            .unwrap()
            .is_empty(),
        "delivered is done"
    );

    let log = store.webhook_deliveries(acme.id, 50).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, "delivered");
    assert_eq!(log[0].next_attempt_at, None);
    let codes: Vec<Option<i64>> = log[0].log.iter().map(|a| a.record.status_code).collect();
    assert_eq!(codes, [Some(500), Some(500), Some(204)], "{log:?}");
}
on_both!(
    claims_and_retries_sqlite_and_postgres,
    super::a_delivery_is_claimed_by_one_worker_and_retried_until_it_lands
);

async fn concurrent_workers_never_claim_the_same_delivery(store: Arc<dyn Store>) {
    let acme = org(store.as_ref(), "acme", "eu").await;
    for n in 0..5 {
        store
            .add_webhook_endpoint(
                endpoint(&acme, &format!("https://acme.example/{n}")),
                LIMIT,
                NOW,
            )
            .await
            .unwrap();
    }
    let w = window(store.as_ref(), Regions::All).await;
    for n in 0..8 {
        store
            .enqueue_webhook_event(event(&format!("k{n}"), w, Regions::All), NOW)
            .await
            .unwrap();
    }
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let store = store.clone();
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let lease = format!("worker-{worker}-{}", mine.len());
                let claimed = store
                    .claim_webhook_deliveries(NOW, &lease, NOW + 60_000, 3)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|d| d.id));
            }
        });
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    while let Some(claimed) = workers.join_next().await {
        for id in claimed.unwrap() {
            total += 1;
            assert!(seen.insert(id), "{id:?} was claimed twice");
        }
    }
    assert_eq!(total, 40);
}
on_both!(
    concurrent_claims_sqlite_and_postgres,
    super::concurrent_workers_never_claim_the_same_delivery
);

async fn removing_an_endpoint_cancels_what_it_was_still_owed(store: Arc<dyn Store>) {
    let acme = org(store.as_ref(), "acme", "eu").await;
    let hook = store
        .add_webhook_endpoint(endpoint(&acme, "https://acme.example/hook"), LIMIT, NOW)
        .await
        .unwrap();
    let w = window(store.as_ref(), Regions::All).await;
    store
        .enqueue_webhook_event(event("k", w, Regions::All), NOW)
        .await
        .unwrap();
    store
        .remove_webhook_endpoint(acme.id, hook.id, NOW)
        .await
        .unwrap();
    assert!(
        store
            .claim_webhook_deliveries(NOW, "lease", NOW + 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let log = store.webhook_deliveries(acme.id, 50).await.unwrap();
    assert_eq!(log[0].state, "cancelled");
    assert_eq!(log[0].endpoint_id, EndpointId(hook.id.0));
    // New events no longer go to it.
    store
        .enqueue_webhook_event(event("k2", w, Regions::All), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.webhook_deliveries(acme.id, 50).await.unwrap().len(),
        1
    );
}
on_both!(
    removing_cancels_sqlite_and_postgres,
    super::removing_an_endpoint_cancels_what_it_was_still_owed
);
