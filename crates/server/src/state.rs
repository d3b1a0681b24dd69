//! The state every request handler shares: the store, the configuration, the clock and a cache
//! of parsed process definitions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use holdfast_definition::Process;
use holdfast_store::{ProcessVersion, Store, VersionId};

use crate::clock::Clock;
use crate::config::Config;
use crate::error::AppError;

/// A published version with its parsed definition.
type CachedVersion = (ProcessVersion, Arc<Process>);

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The deployment's configuration.
    pub config: Arc<Config>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    definitions: Arc<RwLock<HashMap<VersionId, Arc<Process>>>>,
    versions: Arc<RwLock<HashMap<VersionId, CachedVersion>>>,
}

impl AppState {
    /// Puts the parts together.
    pub fn new(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            clock,
            definitions: Arc::default(),
            versions: Arc::default(),
        }
    }

    /// The parsed definition of a published version. Versions are immutable, so a parsed
    /// definition is kept for the life of the process.
    pub fn definition(&self, version: &ProcessVersion) -> Result<Arc<Process>, AppError> {
        if let Some(found) = self
            .definitions
            .read()
            .ok()
            .and_then(|cache| cache.get(&version.id).cloned())
        {
            return Ok(found);
        }
        let parsed = holdfast_definition::parse(&version.source).map_err(|errors| {
            AppError::Internal(anyhow::anyhow!(
                "stored definition of version {:?} no longer parses: {errors}",
                version.id
            ))
        })?;
        let parsed = Arc::new(parsed);
        if let Ok(mut cache) = self.definitions.write() {
            cache.insert(version.id, parsed.clone());
        }
        Ok(parsed)
    }

    /// The version a session is on, with its parsed definition. Versions are immutable, so
    /// both are kept after the first read.
    pub async fn session_definition(
        &self,
        id: VersionId,
    ) -> Result<(ProcessVersion, Arc<Process>), AppError> {
        if let Some(found) = self
            .versions
            .read()
            .ok()
            .and_then(|cache| cache.get(&id).cloned())
        {
            return Ok(found);
        }
        let version = self.store.version(id).await?.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("session refers to missing version {id:?}"))
        })?;
        let definition = self.definition(&version)?;
        if let Ok(mut cache) = self.versions.write() {
            cache.insert(id, (version.clone(), definition.clone()));
        }
        Ok((version, definition))
    }
}

impl AppState {
    /// The address people reach this deployment at, without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.config
            .public_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/')
    }
}
