//! [`super::MaintenanceStore`] on SQLite: writes go through the single write connection, and
//! the scheduling transaction is `BEGIN IMMEDIATE`, which holds the database's write lock from
//! its first statement, so no other scheduler can check against the same windows meanwhile.

use crate::SqliteStore;

/// SQLite takes `?` placeholders as they are.
fn same(sql: &str) -> String {
    sql.to_owned()
}

impl SqliteStore {
    /// A write transaction holding the write lock from its first statement on.
    async fn maintenance_lock(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.write_pool().begin_with("BEGIN IMMEDIATE").await?)
    }
}

super::impl_maintenance_store!(
    SqliteStore,
    sqlx::Sqlite,
    same,
    read_pool,
    write_pool,
    maintenance_lock
);
