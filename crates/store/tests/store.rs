//! The store's behaviour, written once and run on each backend: SQLite in a temporary directory,
//! PostgreSQL in a fresh database per test (on the server named by `HOLDFAST_TEST_POSTGRES_URL`,
//! by default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! The PostgreSQL tests fail, loudly, when that server cannot be reached: a suite that skips
//! itself would hide the backend it exists to check.

use holdfast_store::{
    Answers, Change, ChangeRecord, Millis, NewOrg, NewSession, NewSubmission, NewVersion, Org,
    OrgId, PostgresStore, ProcessSummary, ProcessVersion, Session, SqliteStore, Store, StoreError,
    TokenHash, VersionId, VersionSummary, redact_url,
};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;

// ---- the two backends ---------------------------------------------------------------------------

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store on an empty database of its own, removed when the test ends.
struct TestDb {
    store: Arc<dyn Store>,
    backend: Backend,
}

enum Backend {
    Sqlite {
        path: PathBuf,
        _dir: TempDir,
    },
    Postgres {
        /// The maintenance database, where test databases are created and dropped.
        admin: Box<PgConnectOptions>,
        /// The test database.
        options: Box<PgConnectOptions>,
        name: String,
    },
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("holdfast.sqlite3");
        let store = SqliteStore::open(&path)
            .await
            .expect("opening a new SQLite store");
        TestDb {
            store: Arc::new(store),
            backend: Backend::Sqlite { path, _dir: dir },
        }
    }

    async fn postgres() -> TestDb {
        let url = std::env::var("HOLDFAST_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let admin: PgConnectOptions = url
            .parse()
            .expect("HOLDFAST_TEST_POSTGRES_URL is not a PostgreSQL URL");
        let mut conn = match admin.connect().await {
            Ok(conn) => conn,
            Err(error) => panic!(
                "PostgreSQL is not reachable at {} ({error}). The PostgreSQL tests need a server: \
                 start one or point HOLDFAST_TEST_POSTGRES_URL at one.",
                redact_url(&url)
            ),
        };
        let name = format!("holdfast_t_{}", random_hex());
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("creating a test database");
        conn.close().await.ok();

        let options = admin.clone().database(&name);
        let store = PostgresStore::connect_with(options.clone())
            .await
            .expect("connecting to the new test database");
        TestDb {
            store: Arc::new(store),
            backend: Backend::Postgres {
                admin: Box::new(admin),
                options: Box::new(options),
                name,
            },
        }
    }

    /// A second store on the same database, as a restarted (or another) node opens it.
    async fn reopen(&self) -> Arc<dyn Store> {
        match &self.backend {
            Backend::Sqlite { path, .. } => Arc::new(
                SqliteStore::open(path)
                    .await
                    .expect("reopening the SQLite store"),
            ),
            Backend::Postgres { options, .. } => Arc::new(
                PostgresStore::connect_with(PgConnectOptions::clone(options))
                    .await
                    .expect("reconnecting to the test database"),
            ),
        }
    }

    /// Runs SQL on the database behind the store's back.
    async fn execute(&self, sql: &'static str) {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let mut conn = sqlite_connection(path).await;
                conn.execute(sql).await.expect("raw SQL on SQLite");
                conn.close().await.ok();
            }
            Backend::Postgres { options, .. } => {
                let mut conn = options
                    .connect()
                    .await
                    .expect("a raw PostgreSQL connection");
                conn.execute(sql).await.expect("raw SQL on PostgreSQL");
                conn.close().await.ok();
            }
        }
    }

    /// Reads one number from the database behind the store's back.
    async fn count(&self, sql: &'static str) -> i64 {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let mut conn = sqlite_connection(path).await;
                let n = sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&mut conn)
                    .await
                    .expect("a count from SQLite");
                conn.close().await.ok();
                n
            }
            Backend::Postgres { options, .. } => {
                let mut conn: PgConnection = options
                    .connect()
                    .await
                    .expect("a raw PostgreSQL connection");
                let n = sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&mut conn)
                    .await
                    .expect("a count from PostgreSQL");
                conn.close().await.ok();
                n
            }
        }
    }

    /// Records a migration this build does not know, as a newer release would have applied.
    async fn record_future_migration(&self) {
        match &self.backend {
            Backend::Sqlite { .. } => {
                self.execute(
                    "INSERT INTO _sqlx_migrations \
                         (version, description, success, checksum, execution_time) \
                     VALUES (99990101000000, 'from a newer release', TRUE, X'00', 0)",
                )
                .await
            }
            Backend::Postgres { .. } => {
                self.execute(
                    "INSERT INTO _sqlx_migrations \
                         (version, description, success, checksum, execution_time) \
                     VALUES (99990101000000, 'from a newer release', TRUE, '\\x00', 0)",
                )
                .await
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Backend::Postgres { admin, name, .. } = &self.backend else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: do the clean-up on a
        // thread of its own. A failed clean-up leaves a database behind, nothing worse.
        let admin = PgConnectOptions::clone(admin);
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = admin.connect().await {
                    let _ = conn.execute(AssertSqlSafe(sql)).await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn sqlite_connection(path: &std::path::Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .expect("a raw SQLite connection")
}

fn random_hex() -> String {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = (
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now(),
    );
    format!(
        "{:016x}",
        std::collections::hash_map::RandomState::new().hash_one(seed)
    )
}

/// Runs each scenario once per backend, as `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    let db = super::TestDb::sqlite().await;
                    super::$scenario(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    let db = super::TestDb::postgres().await;
                    super::$scenario(&db).await;
                }
            )*
        }
    };
}

on_both_backends!(
    organisations_are_unique_by_slug,
    admin_tokens_are_kept_once,
    versions_count_up_from_one_per_process,
    concurrent_publishes_get_gap_free_numbers,
    publishing_for_an_unknown_organisation_is_not_found,
    a_session_starts_from_its_prefill,
    changes_merge_into_the_answers_and_are_logged,
    a_replayed_batch_is_applied_once,
    the_merge_rule_orders_a_tabs_batches_and_refuses_stale_views,
    batches_out_of_order_and_their_replays_are_each_applied_once,
    a_change_made_behind_the_stores_back_is_built_on,
    fifty_tabs_typing_at_once_lose_nothing,
    two_hundred_people_typing_at_once_each_keep_their_change,
    other_writes_take_turns_with_a_stream_of_changes,
    a_refused_change_in_a_batch_fails_alone,
    a_change_the_database_refuses_fails_alone,
    a_submitted_session_takes_no_more_changes,
    a_session_is_submitted_once,
    ten_concurrent_submits_make_one_submission,
    submissions_are_listed_oldest_first,
    reopening_applies_no_migration_twice,
    a_newer_schema_does_not_stop_an_older_node,
    corrupt_answers_are_reported_not_guessed,
);

// ---- helpers ------------------------------------------------------------------------------------

fn answers(value: Value) -> Answers {
    match value {
        Value::Object(map) => map,
        other => panic!("answers must be a JSON object, not {other}"),
    }
}

fn token(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

fn new_org(slug: &str) -> NewOrg {
    NewOrg {
        slug: slug.to_owned(),
        name: format!("{slug} Ltd"),
        region: "eu".to_owned(),
    }
}

async fn org(store: &dyn Store, slug: &str) -> Org {
    store
        .create_org(new_org(slug), 1_000)
        .await
        .expect("creating an organisation")
}

async fn publish(
    store: &dyn Store,
    org: OrgId,
    process: &str,
    title: &str,
    now: Millis,
) -> ProcessVersion {
    store
        .publish_version(
            org,
            NewVersion {
                process_slug: process.to_owned(),
                title: title.to_owned(),
                source: format!("slug: {process}\ntitle: {title}\n"),
            },
            now,
        )
        .await
        .expect("publishing a version")
}

/// An organisation with one published process, "claim".
async fn claim_process(store: &dyn Store) -> ProcessVersion {
    let acme = org(store, "acme").await;
    publish(store, acme.id, "claim", "File a claim", 2_000).await
}

async fn start(store: &dyn Store, token: TokenHash, version: VersionId, prefill: Value) -> Session {
    store
        .create_session(
            NewSession {
                token,
                version,
                answers: answers(prefill),
            },
            3_000,
        )
        .await
        .expect("creating a session")
}

/// The session with this token, as the store holds it now.
async fn stored(store: &dyn Store, token: &TokenHash) -> Session {
    store
        .session_by_token(token)
        .await
        .expect("by token")
        .expect("the session")
}

fn typed(client: &str, seq: i64, set: Value) -> Change {
    Change {
        client: Some(client.to_owned()),
        seq: Some(seq),
        base: None,
        answers: answers(set),
        current_step: None,
    }
}

/// `change`, made on revision `base`.
fn based(change: Change, base: i64) -> Change {
    Change {
        base: Some(base),
        ..change
    }
}

fn submission(public_id: &str, key: &str, set: Value) -> NewSubmission {
    NewSubmission {
        public_id: public_id.to_owned(),
        idempotency_key: Some(key.to_owned()),
        answers: answers(set),
    }
}

// ---- organisations and admin tokens ------------------------------------------------------------

async fn organisations_are_unique_by_slug(db: &TestDb) {
    let store = &*db.store;
    let acme = org(store, "acme").await;
    assert_eq!(acme.slug, "acme");
    assert_eq!(acme.name, "acme Ltd");
    assert_eq!(acme.region, "eu");
    assert_eq!(acme.created_at, 1_000);

    let again = store.create_org(new_org("acme"), 2_000).await;
    match again {
        Err(StoreError::Conflict(what)) => assert_eq!(what, "organisation \"acme\""),
        other => panic!("a second \"acme\" must be a conflict, got {other:?}"),
    }

    // Byte order, on both backends: "a-z" before "ab" before "acme".
    org(store, "ab").await;
    org(store, "a-z").await;
    let slugs: Vec<String> = store
        .list_orgs()
        .await
        .expect("listing organisations")
        .into_iter()
        .map(|org| org.slug)
        .collect();
    assert_eq!(slugs, ["a-z", "ab", "acme"]);

    assert_eq!(store.org("acme").await.expect("looking up"), Some(acme));
    assert_eq!(store.org("nobody").await.expect("looking up"), None);
}

async fn admin_tokens_are_kept_once(db: &TestDb) {
    let store = &*db.store;
    assert!(
        store
            .admin_token_hashes()
            .await
            .expect("listing")
            .is_empty()
    );
    store.add_admin_token(token(1), 10).await.expect("adding");
    store.add_admin_token(token(2), 20).await.expect("adding");
    store
        .add_admin_token(token(1), 30)
        .await
        .expect("adding a token again is a no-op");
    assert_eq!(
        store.admin_token_hashes().await.expect("listing"),
        [token(1), token(2)]
    );
}

// ---- process definitions -------------------------------------------------------------------------

async fn versions_count_up_from_one_per_process(db: &TestDb) {
    let store = &*db.store;
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;

    let v1 = publish(store, acme.id, "claim", "Claim, first draft", 10).await;
    let v2 = publish(store, acme.id, "claim", "Claim", 20).await;
    let v3 = publish(store, acme.id, "claim", "File a claim", 30).await;
    assert_eq!([v1.number, v2.number, v3.number], [1, 2, 3]);
    assert_eq!(v1.process_id, v3.process_id);
    assert_eq!(v3.org_id, acme.id);
    assert_eq!(v3.process_slug, "claim");
    assert_eq!(v3.title, "File a claim");
    assert_eq!(v3.source, "slug: claim\ntitle: File a claim\n");
    assert_eq!(v3.created_at, 30);

    // Numbers are per process, and processes are per organisation.
    let account = publish(store, acme.id, "account", "Open an account", 40).await;
    assert_eq!(account.number, 1);
    assert_ne!(account.process_id, v1.process_id);
    let theirs = publish(store, globex.id, "claim", "Their claim", 50).await;
    assert_eq!(theirs.number, 1);

    assert_eq!(
        store
            .latest_version(acme.id, "claim")
            .await
            .expect("latest"),
        Some(v3.clone())
    );
    assert_eq!(
        store
            .latest_version(globex.id, "claim")
            .await
            .expect("latest"),
        Some(theirs)
    );
    assert_eq!(
        store
            .latest_version(acme.id, "nothing")
            .await
            .expect("latest"),
        None
    );
    assert_eq!(store.version(v2.id).await.expect("by id"), Some(v2));
    assert_eq!(
        store.version(VersionId(999_999)).await.expect("by id"),
        None
    );

    assert_eq!(
        store
            .list_versions(acme.id, "claim")
            .await
            .expect("versions"),
        [
            VersionSummary {
                number: 1,
                title: "Claim, first draft".to_owned(),
                created_at: 10
            },
            VersionSummary {
                number: 2,
                title: "Claim".to_owned(),
                created_at: 20
            },
            VersionSummary {
                number: 3,
                title: "File a claim".to_owned(),
                created_at: 30
            },
        ]
    );
    assert!(
        store
            .list_versions(acme.id, "nothing")
            .await
            .expect("versions")
            .is_empty()
    );

    assert_eq!(
        store.list_processes(acme.id).await.expect("processes"),
        [
            ProcessSummary {
                slug: "account".to_owned(),
                title: "Open an account".to_owned(),
                latest_version: 1,
                updated_at: 40
            },
            ProcessSummary {
                slug: "claim".to_owned(),
                title: "File a claim".to_owned(),
                latest_version: 3,
                updated_at: 30
            },
        ]
    );
    assert!(
        store
            .list_processes(OrgId(999_999))
            .await
            .expect("processes")
            .is_empty()
    );
}

async fn concurrent_publishes_get_gap_free_numbers(db: &TestDb) {
    let acme = org(&*db.store, "acme").await;
    // Eight designers publish a process that does not exist yet, all at once.
    let mut publishing = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = Arc::clone(&db.store);
        publishing
            .spawn(async move { publish(&*store, acme.id, "claim", &format!("v{i}"), i).await });
    }
    let mut numbers = Vec::new();
    let mut processes = Vec::new();
    while let Some(published) = publishing.join_next().await {
        let version = published.expect("a publishing task");
        numbers.push(version.number);
        processes.push(version.process_id);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    processes.dedup();
    assert_eq!(processes.len(), 1, "one process, created once");
    assert_eq!(
        store_versions(&*db.store, acme.id, "claim").await,
        (1..=8).collect::<Vec<_>>()
    );
}

async fn store_versions(store: &dyn Store, org: OrgId, process: &str) -> Vec<i64> {
    store
        .list_versions(org, process)
        .await
        .expect("versions")
        .into_iter()
        .map(|version| version.number)
        .collect()
}

async fn publishing_for_an_unknown_organisation_is_not_found(db: &TestDb) {
    let result = db
        .store
        .publish_version(
            OrgId(999_999),
            NewVersion {
                process_slug: "claim".to_owned(),
                title: "Claim".to_owned(),
                source: String::new(),
            },
            10,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "got {result:?}"
    );
}

// ---- sessions and changes ----------------------------------------------------------------------

async fn a_session_starts_from_its_prefill(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    let session = start(store, token(1), claim.id, json!({"policy": "P-123"})).await;
    assert_eq!(session.org_id, claim.org_id);
    assert_eq!(session.version_id, claim.id);
    assert_eq!(session.answers, answers(json!({"policy": "P-123"})));
    assert_eq!((session.revision, session.current_step), (0, 0));
    assert_eq!((session.created_at, session.updated_at), (3_000, 3_000));
    assert_eq!(
        (session.submitted_at, session.submission_id.clone()),
        (None, None)
    );

    let found = store.session_by_token(&token(1)).await.expect("by token");
    assert_eq!(found, Some(session));
    assert_eq!(
        store.session_by_token(&token(2)).await.expect("by token"),
        None
    );

    let unknown_version = store
        .create_session(
            NewSession {
                token: token(3),
                version: VersionId(999_999),
                answers: Answers::new(),
            },
            3_000,
        )
        .await;
    assert!(
        matches!(unknown_version, Err(StoreError::NotFound)),
        "got {unknown_version:?}"
    );

    let same_token = store
        .create_session(
            NewSession {
                token: token(1),
                version: claim.id,
                answers: Answers::new(),
            },
            3_000,
        )
        .await;
    assert!(
        matches!(same_token, Err(StoreError::Conflict(_))),
        "got {same_token:?}"
    );
}

async fn changes_merge_into_the_answers_and_are_logged(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    let session = start(store, token(1), claim.id, json!({"policy": "P-123"})).await;

    let first = store
        .apply_change(
            &token(1),
            Change {
                client: Some("tab-a".to_owned()),
                seq: Some(1),
                base: None,
                answers: answers(json!({"name": "Ada", "email": "ada@example.com"})),
                current_step: None,
            },
            4_000,
        )
        .await
        .expect("first change");
    assert!(!first.duplicate);
    assert_eq!(first.session.revision, 1);
    assert_eq!(first.session.updated_at, 4_000);
    assert_eq!(
        first.session.answers,
        answers(json!({"policy": "P-123", "name": "Ada", "email": "ada@example.com"}))
    );

    // The person moves on to step 1, corrects the name and clears the e-mail address.
    let second = store
        .apply_change(
            &token(1),
            Change {
                client: Some("tab-a".to_owned()),
                seq: Some(2),
                base: None,
                answers: answers(json!({"name": "Ada Lovelace", "email": null})),
                current_step: Some(1),
            },
            5_000,
        )
        .await
        .expect("second change");
    assert_eq!(second.session.revision, 2);
    assert_eq!(second.session.current_step, 1);
    assert_eq!(
        second.session.answers,
        answers(json!({"policy": "P-123", "name": "Ada Lovelace"}))
    );

    // A plain form post, without client or sequence number, is applied every time.
    let posted = Change {
        client: None,
        seq: None,
        base: None,
        answers: answers(json!({"phone": "555"})),
        current_step: None,
    };
    store
        .apply_change(&token(1), posted.clone(), 6_000)
        .await
        .expect("a form post");
    let third = store
        .apply_change(&token(1), posted, 7_000)
        .await
        .expect("the same form post again");
    assert!(!third.duplicate);
    assert_eq!(third.session.revision, 4);
    assert_eq!(third.session.current_step, 1, "the step stays where it was");

    let stored = stored(store, &token(1)).await;
    assert_eq!(stored, third.session);

    assert_eq!(
        store.changes(session.id).await.expect("the change log"),
        [
            ChangeRecord {
                revision: 1,
                client: Some("tab-a".to_owned()),
                seq: Some(1),
                base: None,
                answers: answers(json!({"name": "Ada", "email": "ada@example.com"})),
                current_step: None,
                created_at: 4_000,
            },
            ChangeRecord {
                revision: 2,
                client: Some("tab-a".to_owned()),
                seq: Some(2),
                base: None,
                answers: answers(json!({"name": "Ada Lovelace", "email": null})),
                current_step: Some(1),
                created_at: 5_000,
            },
            ChangeRecord {
                revision: 3,
                client: None,
                seq: None,
                base: None,
                answers: answers(json!({"phone": "555"})),
                current_step: None,
                created_at: 6_000,
            },
            ChangeRecord {
                revision: 4,
                client: None,
                seq: None,
                base: None,
                answers: answers(json!({"phone": "555"})),
                current_step: None,
                created_at: 7_000,
            },
        ]
    );

    let unknown = store
        .apply_change(&token(9), typed("tab-a", 1, json!({"x": 1})), 8_000)
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound)),
        "got {unknown:?}"
    );
}

async fn a_replayed_batch_is_applied_once(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    let session = start(store, token(1), claim.id, json!({})).await;

    let first = store
        .apply_change(&token(1), typed("tab-a", 7, json!({"name": "Ada"})), 4_000)
        .await
        .expect("the batch");
    assert!(!first.duplicate);

    // The connection dropped before the answer arrived; the browser's journal sends the batch
    // again, after the person changed the name in another tab that had seen "Ada".
    store
        .apply_change(
            &token(1),
            based(typed("tab-b", 7, json!({"name": "Ada L."})), 1),
            5_000,
        )
        .await
        .expect("another tab's batch with the same number");
    let replay = store
        .apply_change(&token(1), typed("tab-a", 7, json!({"name": "Ada"})), 6_000)
        .await
        .expect("the replay");
    assert!(replay.duplicate);
    assert_eq!(replay.session.revision, 2);
    assert_eq!(replay.session.answers, answers(json!({"name": "Ada L."})));
    assert_eq!(replay.session.updated_at, 5_000);
    // The replay's name is not what the session holds, and not its own later batch: the tab
    // is told, so that the person sees both (the first answer may never have reached it).
    assert_eq!(replay.conflicts, vec!["name".to_owned()]);

    let log = store.changes(session.id).await.expect("the change log");
    assert_eq!(log.len(), 2);
}

async fn the_merge_rule_orders_a_tabs_batches_and_refuses_stale_views(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    let session = start(store, token(1), claim.id, json!({"email": "old@x.org"})).await;
    let session_token = token(1);
    let apply = |change: Change| store.apply_change(&session_token, change, 4_000);

    // Tab A's batches 1 and 2, sent at once when the page was hidden, arrive the wrong way
    // round: 2 ("Mary Jackson") first, then 1 ("Mary", and a city only it sets).
    let two = apply(based(typed("a", 2, json!({"name": "Mary Jackson"})), 0))
        .await
        .expect("batch 2");
    assert!(two.conflicts.is_empty());
    let one = apply(based(
        typed("a", 1, json!({"name": "Mary", "city": "Leeds"})),
        0,
    ))
    .await
    .expect("batch 1");
    assert!(!one.duplicate);
    assert!(
        one.conflicts.is_empty(),
        "overtaken by its own tab: not a conflict"
    );
    assert_eq!(
        one.session.answers,
        answers(json!({"email": "old@x.org", "name": "Mary Jackson", "city": "Leeds"}))
    );

    // Tab B, which saw revision 2, changes the email; tab A, still on revision 2 and showing
    // the old email, posts it with a new phone number.
    let b = apply(based(typed("b", 1, json!({"email": "new@x.org"})), 2))
        .await
        .expect("tab B");
    assert_eq!(b.session.revision, 3);
    let stale = apply(based(
        typed("a", 3, json!({"email": "old@x.org", "phone": "0113"})),
        2,
    ))
    .await
    .expect("tab A's stale batch is stored");
    assert_eq!(stale.conflicts, vec!["email".to_owned()]);
    assert_eq!(stale.session.answers["email"], "new@x.org");
    assert_eq!(stale.session.answers["phone"], "0113");

    // The person sees both and keeps their own: a new batch made on revision 4.
    let kept = apply(based(typed("a", 4, json!({"email": "old@x.org"})), 4))
        .await
        .expect("keeping theirs");
    assert!(kept.conflicts.is_empty());
    assert_eq!(kept.session.answers["email"], "old@x.org");

    // What was decided survives a reopen of the session (it is stored, not only cached).
    let again = stored(store, &token(1)).await;
    assert_eq!(again.answers, kept.session.answers);
    assert_eq!(again.writes["email"].client.as_deref(), Some("a"));
    assert_eq!(again.writes["email"].revision, 5);
    let log = store.changes(session.id).await.expect("the change log");
    assert_eq!(
        log.iter().map(|c| c.base).collect::<Vec<_>>(),
        vec![Some(0), Some(0), Some(2), Some(2), Some(4)]
    );
}

async fn batches_out_of_order_and_their_replays_are_each_applied_once(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    let session = start(store, token(1), claim.id, json!({})).await;
    let session_token = token(1);
    let send = |client: &'static str, seq: i64| {
        store.apply_change(
            &session_token,
            typed(client, seq, json!({ format!("{client}-{seq}"): seq })),
            4_000 + seq,
        )
    };
    // In order, then a gap (5 overtook 4), then the late 4, then replays of both and of an
    // early one, then the next; a second tab numbers its own batches from 1.
    let mut duplicates = Vec::new();
    for (client, seq) in [
        ("tab-a", 1),
        ("tab-a", 2),
        ("tab-a", 3),
        ("tab-a", 5),
        ("tab-a", 4),
        ("tab-a", 4),
        ("tab-a", 5),
        ("tab-a", 2),
        ("tab-b", 1),
        ("tab-a", 6),
        ("tab-b", 1),
    ] {
        let outcome = send(client, seq).await.expect("the batch");
        duplicates.push(outcome.duplicate);
    }
    assert_eq!(
        duplicates,
        [
            false, false, false, false, false, true, true, true, false, false, true
        ]
    );
    let log = store.changes(session.id).await.expect("the change log");
    let applied: Vec<(Option<&str>, Option<i64>, i64)> = log
        .iter()
        .map(|record| (record.client.as_deref(), record.seq, record.revision))
        .collect();
    assert_eq!(
        applied,
        [
            (Some("tab-a"), Some(1), 1),
            (Some("tab-a"), Some(2), 2),
            (Some("tab-a"), Some(3), 3),
            (Some("tab-a"), Some(5), 4),
            (Some("tab-a"), Some(4), 5),
            (Some("tab-b"), Some(1), 6),
            (Some("tab-a"), Some(6), 7),
        ]
    );
    let stored = stored(store, &token(1)).await;
    assert_eq!(stored.revision, 7);
    assert_eq!(stored.answers.len(), 7);
}

async fn a_change_made_behind_the_stores_back_is_built_on(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    let session = start(store, token(1), claim.id, json!({})).await;
    store
        .apply_change(&token(1), typed("tab-a", 1, json!({"name": "Ada"})), 4_000)
        .await
        .expect("a change");
    // Another process (an operator's repair) corrects the session directly, after the store
    // wrote it and without a word to it.
    db.execute(r#"UPDATE sessions SET answers = '{"name": "Ada", "email": "ada@example.org"}'"#)
        .await;

    let next = store
        .apply_change(&token(1), typed("tab-a", 2, json!({"phone": "123"})), 5_000)
        .await
        .expect("the next batch");
    assert!(!next.duplicate);
    assert_eq!(next.session.revision, 2);
    assert_eq!(
        next.session.answers,
        answers(json!({"name": "Ada", "email": "ada@example.org", "phone": "123"}))
    );
    let log = store.changes(session.id).await.expect("the change log");
    assert_eq!(log.len(), 2);
}

async fn fifty_tabs_typing_at_once_lose_nothing(db: &TestDb) {
    let claim = claim_process(&*db.store).await;
    let session = start(&*db.store, token(1), claim.id, json!({})).await;

    let mut typing = tokio::task::JoinSet::new();
    for i in 0..50_i64 {
        let store = Arc::clone(&db.store);
        typing.spawn(async move {
            store
                .apply_change(
                    &token(1),
                    typed(&format!("tab-{i}"), 1, json!({ format!("field_{i}"): i })),
                    4_000 + i,
                )
                .await
        });
    }
    while let Some(applied) = typing.join_next().await {
        let outcome = applied.expect("a typing task").expect("a change");
        assert!(!outcome.duplicate);
    }

    let stored = stored(&*db.store, &token(1)).await;
    assert_eq!(stored.revision, 50);
    for i in 0..50_i64 {
        assert_eq!(stored.answers.get(&format!("field_{i}")), Some(&json!(i)));
    }
    let revisions: Vec<i64> = db
        .store
        .changes(session.id)
        .await
        .expect("the change log")
        .into_iter()
        .map(|change| change.revision)
        .collect();
    assert_eq!(revisions, (1..=50).collect::<Vec<_>>());
}

// ---- group commit: many sessions' changes in one transaction ------------------------------------

/// Starts `count` typing tasks at once, one per session `token(1..=count)`, each sending that
/// session's change batch `seq` 1; returns each task's outcome by session.
async fn type_at_once(
    store: &Arc<dyn Store>,
    changes: Vec<(TokenHash, Change)>,
) -> Vec<Result<holdfast_store::ChangeOutcome, StoreError>> {
    let mut typing = tokio::task::JoinSet::new();
    for (index, (token, change)) in changes.into_iter().enumerate() {
        let store = Arc::clone(store);
        typing.spawn(async move { (index, store.apply_change(&token, change, 4_000).await) });
    }
    let mut outcomes = typing.join_all().await;
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

/// While 32 people type without pause, sessions are created and one is submitted: the other
/// writes get their turn between the change writer's batches (on SQLite the two write through
/// different connections to one file), every write succeeds, and nobody's change is lost.
async fn other_writes_take_turns_with_a_stream_of_changes(db: &TestDb) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    let claim = claim_process(&*db.store).await;
    for n in 1..=32 {
        start(&*db.store, token(n), claim.id, json!({})).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let mut typing = tokio::task::JoinSet::new();
    for n in 1..=32 {
        let (store, stop, acknowledged) = (
            Arc::clone(&db.store),
            Arc::clone(&stop),
            Arc::clone(&acknowledged),
        );
        typing.spawn(async move {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                let change = typed("tab", seq, json!({ "count": seq }));
                store
                    .apply_change(&token(n), change, 4_000)
                    .await
                    .expect("every change is applied");
                acknowledged.fetch_add(1, Ordering::Relaxed);
            }
            (n, seq)
        });
    }
    while acknowledged.load(Ordering::Relaxed) < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let before = acknowledged.load(Ordering::Relaxed);
    for n in 101..=120 {
        start(
            &*db.store,
            token(n),
            claim.id,
            json!({ "name": format!("person {n}") }),
        )
        .await;
    }
    let submitted = db
        .store
        .submit(
            &token(101),
            submission("S-101", "key-101", json!({"name": "person 101"})),
            5_000,
        )
        .await
        .expect("submitting while others type");
    assert!(submitted.created);
    let during = acknowledged.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);

    for (n, last) in typing.join_all().await {
        let stored = stored(&*db.store, &token(n)).await;
        assert_eq!(stored.revision, last, "session {n} holds every change");
        assert_eq!(stored.answers, answers(json!({ "count": last })));
    }
    assert!(
        during > 0,
        "the people went on typing while the other writes were made"
    );
}

async fn two_hundred_people_typing_at_once_each_keep_their_change(db: &TestDb) {
    let claim = claim_process(&*db.store).await;
    for n in 1..=200 {
        start(&*db.store, token(n), claim.id, json!({})).await;
    }

    let outcomes = type_at_once(
        &db.store,
        (1..=200)
            .map(|n| {
                (
                    token(n),
                    typed("tab", 1, json!({ "name": format!("person {n}") })),
                )
            })
            .collect(),
    )
    .await;

    for (n, outcome) in (1..=200).zip(outcomes) {
        let outcome = outcome.expect("every change is applied");
        assert!(!outcome.duplicate);
        assert_eq!(outcome.session.revision, 1);
        assert_eq!(
            outcome.session.answers,
            answers(json!({ "name": format!("person {n}") }))
        );
        let stored = stored(&*db.store, &token(n)).await;
        assert_eq!(
            stored, outcome.session,
            "what was answered is what is stored"
        );
        let log = db.store.changes(stored.id).await.expect("the change log");
        assert_eq!(log.len(), 1);
        assert_eq!(
            (log[0].client.as_deref(), log[0].seq),
            (Some("tab"), Some(1))
        );
    }
}

async fn a_refused_change_in_a_batch_fails_alone(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    for n in 1..=40 {
        start(store, token(n), claim.id, json!({})).await;
    }
    store
        .submit(&token(40), submission("S-40", "k", json!({})), 3_500)
        .await
        .expect("submitting session 40");

    // Good changes, changes to a session that does not exist and to a submitted one, and a
    // replay, all at once: they share transactions.
    let mut changes = Vec::new();
    for n in 1..=39 {
        changes.push((token(n), typed("tab", 1, json!({"name": n}))));
        if n % 4 == 0 {
            changes.push((token(250), typed("tab", 1, json!({"name": n}))));
            changes.push((token(40), typed("tab", n.into(), json!({"name": n}))));
        }
    }
    changes.push((token(7), typed("tab", 1, json!({"name": 7}))));
    let outcomes = type_at_once(&db.store, changes.clone()).await;

    let mut replays = 0;
    for ((token_of, change), outcome) in changes.iter().zip(outcomes) {
        match token_of.0[0] {
            250 => assert!(matches!(outcome, Err(StoreError::NotFound)), "{outcome:?}"),
            40 => assert!(matches!(outcome, Err(StoreError::Submitted)), "{outcome:?}"),
            _ => {
                let outcome = outcome.expect("a good change is applied");
                assert_eq!(outcome.session.revision, 1);
                assert_eq!(outcome.session.answers, change.answers);
                replays += usize::from(outcome.duplicate);
            }
        }
    }
    assert_eq!(
        replays, 1,
        "one of session 7's two identical batches is a replay"
    );
    for n in 1..=39 {
        let stored = stored(store, &token(n)).await;
        assert_eq!(stored.revision, 1);
        assert_eq!(stored.answers, answers(json!({"name": n})));
    }
    let submitted = stored(store, &token(40)).await;
    assert_eq!(submitted.revision, 0);
}

async fn a_change_the_database_refuses_fails_alone(db: &TestDb) {
    // A trigger makes the database refuse one client's changes, the way a full disk or a
    // broken constraint would: the batch it is in has to be applied again one change at a
    // time, each in its own savepoint.
    match &db.backend {
        Backend::Sqlite { .. } => {
            db.execute(
                "CREATE TRIGGER refuse_evil BEFORE INSERT ON session_changes \
                 WHEN NEW.client = 'evil' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .await
        }
        Backend::Postgres { .. } => {
            db.execute(
                "CREATE FUNCTION refuse_evil() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.client = 'evil' THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$",
            )
            .await;
            db.execute(
                "CREATE TRIGGER refuse_evil BEFORE INSERT ON session_changes \
                 FOR EACH ROW EXECUTE FUNCTION refuse_evil()",
            )
            .await
        }
    }
    let store = &*db.store;
    let claim = claim_process(store).await;
    for n in 1..=30 {
        start(store, token(n), claim.id, json!({})).await;
    }

    let mut changes = Vec::new();
    for n in 1..=30 {
        changes.push((token(n), typed("good", 1, json!({"name": n}))));
        if n % 10 == 0 {
            changes.push((token(n), typed("evil", 1, json!({"name": "evil"}))));
        }
    }
    let outcomes = type_at_once(&db.store, changes.clone()).await;

    for ((token_of, change), outcome) in changes.iter().zip(outcomes) {
        if change.client.as_deref() == Some("evil") {
            let error = outcome.expect_err("the database refuses evil changes");
            assert!(matches!(error, StoreError::Database(_)), "{error:?}");
        } else {
            let outcome = outcome.expect("a good change is applied");
            assert!(!outcome.duplicate);
            assert_eq!(outcome.session.answers, change.answers, "{token_of:?}");
        }
    }
    for n in 1..=30 {
        let stored = stored(store, &token(n)).await;
        assert_eq!(stored.answers, answers(json!({"name": n})));
        let log = store.changes(stored.id).await.expect("the change log");
        assert_eq!(log.len(), 1, "only the good change is logged");
        assert_eq!(stored.revision, 1);
    }
}

// ---- submissions -----------------------------------------------------------------------------------

async fn a_submitted_session_takes_no_more_changes(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    start(store, token(1), claim.id, json!({})).await;
    store
        .apply_change(&token(1), typed("tab-a", 1, json!({"name": "Ada"})), 4_000)
        .await
        .expect("a change");
    store
        .submit(
            &token(1),
            submission("S-1", "key-1", json!({"name": "Ada"})),
            5_000,
        )
        .await
        .expect("submitting");

    let late = store
        .apply_change(&token(1), typed("tab-a", 2, json!({"name": "Eve"})), 6_000)
        .await;
    assert!(matches!(late, Err(StoreError::Submitted)), "got {late:?}");
    let stored = stored(store, &token(1)).await;
    assert_eq!(stored.answers, answers(json!({"name": "Ada"})));
    assert_eq!(stored.revision, 1);
}

async fn a_session_is_submitted_once(db: &TestDb) {
    let store = &*db.store;
    let claim = claim_process(store).await;
    start(store, token(1), claim.id, json!({"name": "Ada"})).await;

    let first = store
        .submit(
            &token(1),
            submission("S-1", "key-1", json!({"name": "Ada"})),
            5_000,
        )
        .await
        .expect("submitting");
    assert!(first.created);
    assert_eq!(first.submission.id, "S-1");
    assert_eq!(first.submission.process_slug, "claim");
    assert_eq!(first.submission.version, 1);
    assert_eq!(first.submission.answers, answers(json!({"name": "Ada"})));
    assert_eq!(first.submission.submitted_at, 5_000);

    // Whatever the key, the session's one submission comes back.
    let again = store
        .submit(
            &token(1),
            submission("S-2", "key-2", json!({"name": "Eve"})),
            6_000,
        )
        .await
        .expect("submitting again");
    assert!(!again.created);
    assert_eq!(again.submission, first.submission);

    let session = stored(store, &token(1)).await;
    assert_eq!(session.submitted_at, Some(5_000));
    assert_eq!(session.submission_id.as_deref(), Some("S-1"));

    let unknown = store
        .submit(&token(9), submission("S-3", "key-3", json!({})), 7_000)
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound)),
        "got {unknown:?}"
    );

    // A public id that is taken (the caller's random generator failed) is a conflict.
    start(store, token(2), claim.id, json!({})).await;
    let taken = store
        .submit(&token(2), submission("S-1", "key-4", json!({})), 8_000)
        .await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(_))),
        "got {taken:?}"
    );
    let unsubmitted = stored(store, &token(2)).await;
    assert_eq!(unsubmitted.submitted_at, None);
}

async fn ten_concurrent_submits_make_one_submission(db: &TestDb) {
    let claim = claim_process(&*db.store).await;
    start(&*db.store, token(1), claim.id, json!({"name": "Ada"})).await;

    let mut submitting = tokio::task::JoinSet::new();
    for i in 0..10 {
        let store = Arc::clone(&db.store);
        submitting.spawn(async move {
            store
                .submit(
                    &token(1),
                    submission(
                        &format!("S-{i}"),
                        &format!("key-{i}"),
                        json!({"name": "Ada"}),
                    ),
                    5_000 + i,
                )
                .await
        });
    }
    let mut outcomes = Vec::new();
    while let Some(submitted) = submitting.join_next().await {
        outcomes.push(submitted.expect("a submitting task").expect("a submit"));
    }
    assert_eq!(outcomes.iter().filter(|outcome| outcome.created).count(), 1);
    let winner = outcomes
        .iter()
        .find(|outcome| outcome.created)
        .map(|outcome| outcome.submission.clone())
        .expect("one created submission");
    assert!(outcomes.iter().all(|outcome| outcome.submission == winner));

    let listed = db
        .store
        .list_submissions(claim.org_id, "claim")
        .await
        .expect("listing");
    assert_eq!(listed, [winner]);
    assert_eq!(db.count("SELECT COUNT(*) FROM submissions").await, 1);
}

async fn submissions_are_listed_oldest_first(db: &TestDb) {
    let store = &*db.store;
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let v1 = publish(store, acme.id, "claim", "Claim", 10).await;
    let account = publish(store, acme.id, "account", "Account", 10).await;
    let theirs = publish(store, globex.id, "claim", "Their claim", 10).await;

    start(store, token(1), v1.id, json!({})).await;
    start(store, token(4), account.id, json!({})).await;
    start(store, token(5), theirs.id, json!({})).await;
    let v2 = publish(store, acme.id, "claim", "Claim, improved", 20).await;
    start(store, token(2), v2.id, json!({})).await;
    start(store, token(3), v2.id, json!({})).await;

    // Submitted out of creation order; two in the same millisecond.
    for (n, id, at) in [
        (2, "S-b", 7_000),
        (1, "S-a", 8_000),
        (3, "S-c", 7_000),
        (4, "S-other-process", 6_000),
        (5, "S-other-org", 6_000),
    ] {
        store
            .submit(&token(n), submission(id, id, json!({"n": n})), at)
            .await
            .expect("submitting");
    }

    let listed: Vec<(String, String, i64, Millis)> = store
        .list_submissions(acme.id, "claim")
        .await
        .expect("listing")
        .into_iter()
        .map(|s| (s.id, s.process_slug, s.version, s.submitted_at))
        .collect();
    let expected = [
        ("S-b", "claim", 2, 7_000),
        ("S-c", "claim", 2, 7_000),
        ("S-a", "claim", 1, 8_000),
    ]
    .map(|(id, slug, version, at)| (id.to_owned(), slug.to_owned(), version, at));
    assert_eq!(listed, expected);

    assert!(
        store
            .list_submissions(acme.id, "nothing")
            .await
            .expect("listing")
            .is_empty()
    );
}

// ---- schema ----------------------------------------------------------------------------------------

async fn reopening_applies_no_migration_twice(db: &TestDb) {
    let claim = claim_process(&*db.store).await;
    start(&*db.store, token(1), claim.id, json!({"name": "Ada"})).await;
    let migrations = db.count("SELECT COUNT(*) FROM _sqlx_migrations").await;

    // A second node (or the same one restarted) opens the database while the first still runs.
    let second = db.reopen().await;
    let third = db.reopen().await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        migrations
    );
    let session = stored(&*second, &token(1)).await;
    assert_eq!(session.answers, answers(json!({"name": "Ada"})));

    // Both see each other's writes.
    second
        .apply_change(
            &token(1),
            typed("tab-a", 1, json!({"city": "London"})),
            4_000,
        )
        .await
        .expect("a change through the second store");
    let seen = stored(&*third, &token(1)).await;
    assert_eq!(
        seen.answers,
        answers(json!({"name": "Ada", "city": "London"}))
    );
    db.store
        .ping()
        .await
        .expect("the first store still answers");
    second.ping().await.expect("the second store answers");
}

async fn a_newer_schema_does_not_stop_an_older_node(db: &TestDb) {
    claim_process(&*db.store).await;
    db.record_future_migration().await;
    let older = db.reopen().await;
    assert!(older.org("acme").await.expect("looking up").is_some());
}

async fn corrupt_answers_are_reported_not_guessed(db: &TestDb) {
    let claim = claim_process(&*db.store).await;
    start(&*db.store, token(1), claim.id, json!({"name": "Ada"})).await;
    db.execute("UPDATE sessions SET answers = '[\"not\", \"an\", \"object\"]'")
        .await;
    let read = db.store.session_by_token(&token(1)).await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "got {read:?}");
    let change = db
        .store
        .apply_change(&token(1), typed("tab-a", 1, json!({"name": "Eve"})), 4_000)
        .await;
    assert!(
        matches!(change, Err(StoreError::Corrupt(_))),
        "got {change:?}"
    );
}

// ---- backend-specific ------------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_creates_its_directory_and_file_in_wal_mode() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir
        .path()
        .join("data")
        .join("nested")
        .join("holdfast.sqlite3");
    let store = SqliteStore::open(&path).await.expect("opening");
    assert_eq!(store.backend(), "sqlite");
    store.ping().await.expect("ping");
    assert!(path.exists());

    let mut conn = sqlite_connection(&path).await;
    let mode = sqlx::query_scalar::<_, String>("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("the journal mode");
    assert_eq!(mode, "wal");
    conn.close().await.ok();
}

#[tokio::test]
async fn sqlite_data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("holdfast.sqlite3");
    {
        let store = SqliteStore::open(&path).await.expect("opening");
        let claim = claim_process(&store).await;
        start(&store, token(1), claim.id, json!({"name": "Ada"})).await;
        store
            .apply_change(
                &token(1),
                typed("tab-a", 1, json!({"city": "London"})),
                4_000,
            )
            .await
            .expect("a change");
        // Dropped without closing, as a process that is killed.
    }
    {
        let store = SqliteStore::open(&path).await.expect("reopening");
        let session = store
            .session_by_token(&token(1))
            .await
            .expect("by token")
            .expect("the session survives");
        assert_eq!(
            session.answers,
            answers(json!({"name": "Ada", "city": "London"}))
        );
        assert_eq!(session.revision, 1);
        store
            .apply_change(&token(1), typed("tab-a", 2, json!({"zip": "N1"})), 5_000)
            .await
            .expect("another change");
        store.close().await;
    }
    let store = SqliteStore::open(&path).await.expect("reopening again");
    let session = store
        .session_by_token(&token(1))
        .await
        .expect("by token")
        .expect("the session survives");
    assert_eq!(session.revision, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closing_the_store_applies_the_queued_changes_and_acknowledges_nothing_after() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("holdfast.sqlite3");
    let store = Arc::new(SqliteStore::open(&path).await.expect("opening"));
    let claim = claim_process(&*store).await;
    for n in 1..=20 {
        start(&*store, token(n), claim.id, json!({})).await;
    }

    // People keep typing while the store closes.
    let mut typing = tokio::task::JoinSet::new();
    for n in 1..=20 {
        for seq in 1..=5 {
            let store = Arc::clone(&store);
            typing.spawn(async move {
                let change = typed("tab", seq, json!({ format!("field_{seq}"): seq }));
                (n, seq, store.apply_change(&token(n), change, 4_000).await)
            });
        }
    }
    tokio::task::yield_now().await;
    store.close().await;
    let outcomes = typing.join_all().await;
    let refused = store
        .apply_change(&token(1), typed("tab", 99, json!({"late": true})), 5_000)
        .await;
    assert!(
        matches!(&refused, Err(error) if error.is_unavailable()),
        "a closed store takes no changes: {refused:?}"
    );

    // Whatever was acknowledged is stored; whatever was not is "unavailable", not lost
    // silently.
    let reopened = SqliteStore::open(&path).await.expect("reopening");
    for (n, seq, outcome) in outcomes {
        let session = stored(&reopened, &token(n)).await;
        let log = reopened.changes(session.id).await.expect("the change log");
        assert_eq!(session.revision, i64::try_from(log.len()).expect("a count"));
        match outcome {
            Ok(_) => assert!(
                log.iter().any(|c| c.seq == Some(seq)),
                "acknowledged change {seq} of session {n} is stored"
            ),
            Err(error) => assert!(error.is_unavailable(), "{error:?}"),
        }
    }
}

#[tokio::test]
async fn open_chooses_the_backend_from_the_url() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let embedded = holdfast_store::open(dir.path(), None)
        .await
        .expect("the embedded default");
    assert_eq!(embedded.backend(), "sqlite");
    assert!(dir.path().join("holdfast.sqlite3").exists());

    let explicit = dir.path().join("elsewhere.db");
    let url = format!("sqlite://{}", explicit.display());
    let store = holdfast_store::open(dir.path(), Some(&url))
        .await
        .expect("an explicit SQLite file");
    assert_eq!(store.backend(), "sqlite");
    assert!(explicit.exists());

    let unsupported =
        holdfast_store::open(dir.path(), Some("mysql://root:secret@db/holdfast")).await;
    match unsupported {
        Err(StoreError::Config(message)) => {
            assert!(
                message.contains("mysql://root:***@db/holdfast"),
                "{message}"
            );
        }
        Err(other) => panic!("expected a configuration error, got {other:?}"),
        Ok(store) => panic!(
            "expected a configuration error, got a {} store",
            store.backend()
        ),
    }
}

#[tokio::test]
async fn an_unreachable_postgres_fails_fast_and_says_where() {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Port 1 on the loopback interface: nothing listens there.
    let result = holdfast_store::open(
        dir.path(),
        Some("postgres://holdfast:secret@127.0.0.1:1/holdfast"),
    )
    .await;
    let error = match result {
        Err(error) => error,
        Ok(store) => panic!("connected to a {} store on port 1", store.backend()),
    };
    assert!(matches!(error, StoreError::Database(_)), "got {error:?}");
    assert!(error.is_unavailable(), "got {error:?}");
    let message = error.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(!message.contains("secret"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    let malformed = PostgresStore::connect("postgres://[not a host").await;
    assert!(
        matches!(malformed, Err(StoreError::Config(_))),
        "got {malformed:?}"
    );
}

#[tokio::test]
async fn postgres_connections_commit_synchronously_whatever_the_default() {
    let db = TestDb::postgres().await;
    let Backend::Postgres { options, name, .. } = &db.backend else {
        unreachable!("a PostgreSQL test database");
    };
    // Turn the database's default off, so that the check below sees the store's own setting.
    let mut conn = options.connect().await.expect("a raw connection");
    conn.execute(AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET synchronous_commit TO off"
    )))
    .await
    .expect("changing the database default");
    conn.close().await.ok();
    let mut fresh = options.connect().await.expect("a raw connection");
    let default: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut fresh)
        .await
        .expect("the default");
    assert_eq!(default, "off", "a plain connection now starts with it off");
    fresh.close().await.ok();

    let store = PostgresStore::connect_with(PgConnectOptions::clone(options))
        .await
        .expect("connecting");
    for _ in 0..3 {
        let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(store.pool())
            .await
            .expect("the setting");
        assert_eq!(setting, "on");
    }
}

#[tokio::test]
async fn sqlite_connections_are_durable_and_strict() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&dir.path().join("holdfast.sqlite3"))
        .await
        .expect("opening");
    for pool in [store.write_pool(), store.read_pool()] {
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .expect("synchronous");
        assert_eq!(synchronous, 2, "synchronous = FULL");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .expect("foreign_keys");
        assert_eq!(foreign_keys, 1);
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await
            .expect("busy_timeout");
        assert_eq!(busy_timeout, 5_000);
    }
}
