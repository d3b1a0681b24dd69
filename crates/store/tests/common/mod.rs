//! A fresh store of each backend for the store test suites that hand tests an
//! `Arc<dyn Store>`: SQLite in a temporary directory, PostgreSQL in a new database at
//! `HOLDFAST_TEST_POSTGRES_URL` (default: the local server).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use holdfast_store::{PostgresStore, SqliteStore, Store};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

/// A store in a new SQLite file; keep the directory alive as long as the store.
pub async fn sqlite() -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("holdfast.sqlite3"))
        .await
        .unwrap();
    (Arc::new(store), Some(dir))
}

/// A store in a new PostgreSQL database named `holdfast_t_{suite}_…`.
pub async fn postgres(suite: &str) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    let url = std::env::var("HOLDFAST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let admin: PgConnectOptions = url.parse().unwrap();
    let mut conn = admin
        .connect()
        .await
        .expect("PostgreSQL is needed for the PostgreSQL half of these tests");
    let name = format!(
        "holdfast_t_{suite}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    conn.close().await.ok();
    let store = PostgresStore::connect_with(admin.database(&name))
        .await
        .unwrap();
    (Arc::new(store), None)
}
