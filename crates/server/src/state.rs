//! The state every request handler shares: the store, the configuration, the clock and a cache
//! of parsed process definitions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use holdfast_definition::Process;
use holdfast_store::{ProcessVersion, Store, TokenHash, VersionId};

use crate::clock::Clock;
use crate::config::Config;
use crate::error::AppError;

/// A published version with its parsed definition.
type CachedVersion = (ProcessVersion, Arc<Process>);

/// How many sessions' versions [`AppState::session_version`] keeps. At about 100 bytes an
/// entry this is a few megabytes; when it is full it starts over, which costs one read per
/// session.
const SESSION_VERSIONS_KEPT: usize = 65_536;

/// Shared application state: a handle to one [`Shared`], so that cloning it (axum does, for
/// every extractor and middleware of every request) is one reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What every request handler shares.
pub struct Shared {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The deployment's configuration.
    pub config: Arc<Config>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// This node's maintenance state (what it refuses, what it has in flight).
    pub maintenance: Arc<crate::maintenance::MaintenanceNode>,
    definitions: RwLock<HashMap<VersionId, Arc<Process>>>,
    versions: RwLock<HashMap<VersionId, CachedVersion>>,
    /// The version each recently seen session is on, by token hash. A session never changes
    /// version, so autosaves need not read the session before applying their change.
    session_versions: RwLock<HashMap<TokenHash, VersionId>>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Puts the parts together.
    pub fn new(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        AppState(Arc::new(Shared {
            store,
            maintenance: Arc::new(crate::maintenance::MaintenanceNode::new(&config)),
            config: Arc::new(config),
            clock,
            definitions: RwLock::default(),
            versions: RwLock::default(),
            session_versions: RwLock::default(),
        }))
    }

    /// The version of the session with this token hash, if this node has seen the session.
    /// Only sessions that exist are remembered, and a session's version never changes, so an
    /// answer is always right (the store still checks that the session exists when it applies
    /// a change).
    pub fn session_version(&self, token: &TokenHash) -> Option<VersionId> {
        self.session_versions
            .read()
            .ok()
            .and_then(|cache| cache.get(token).copied())
    }

    /// Remembers the version of a session that was read from the store.
    pub fn remember_session_version(&self, token: TokenHash, version: VersionId) {
        if let Ok(mut cache) = self.session_versions.write() {
            if cache.len() >= SESSION_VERSIONS_KEPT && !cache.contains_key(&token) {
                cache.clear();
            }
            cache.insert(token, version);
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

    /// The parsed definition of the version a session is on, without a copy of the version
    /// (whose source text can be long): what an autosave needs.
    pub async fn version_definition(&self, id: VersionId) -> Result<Arc<Process>, AppError> {
        if let Some(found) = self
            .versions
            .read()
            .ok()
            .and_then(|cache| cache.get(&id).map(|(_, definition)| definition.clone()))
        {
            return Ok(found);
        }
        Ok(self.session_definition(id).await?.1)
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
