//! The configuration of one Holdfast deployment (`holdfast serve`), with its defaults.
//!
//! The binary fills it from flags and environment variables; tests build it directly.

use std::path::PathBuf;

/// Which side of the platform a deployment serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// End customers fill in published processes.
    Production,
    /// Process designers build and preview processes (the Builder).
    Development,
}

impl Environment {
    /// The name used in flags, JSON and plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Development => "development",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "production" => Ok(Environment::Production),
            "development" => Ok(Environment::Development),
            other => Err(format!(
                "unknown environment {other:?}: expected production or development"
            )),
        }
    }
}

/// Everything `holdfast serve` is told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the embedded database and the bootstrap admin token live.
    pub data_dir: PathBuf,
    /// A database URL (`postgres://…`); `None` for embedded SQLite in `data_dir`.
    pub database: Option<String>,
    /// The environment this deployment serves.
    pub environment: Environment,
    /// This deployment's region.
    pub region: String,
    /// All of the platform's regions (always includes `region`).
    pub regions: Vec<String>,
    /// Create the `demo` organisation with the example process.
    pub demo: bool,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The URL people reach this deployment at, for links in API answers
    /// (for example `http://127.0.0.1:8080`). Filled in from the listener when `None`.
    pub public_url: Option<String>,
    /// How maintenance windows are checked and announced.
    pub maintenance: MaintenanceConfig,
}

/// The maintenance settings of a deployment (`--max-window`, `--banner-lead`,
/// `--webhook-max-attempts`, `--webhook-timeout`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceConfig {
    /// The longest window a plan may schedule, in milliseconds (default 12 hours).
    pub max_window_ms: i64,
    /// How long before a window the banner appears, in milliseconds (default 72 hours).
    pub banner_lead_ms: i64,
    /// How many times a webhook delivery is attempted before it has failed (default 10:
    /// retries spread over about a day).
    pub webhook_max_attempts: u32,
    /// How long a webhook endpoint has to answer, in milliseconds (default 10 seconds).
    pub webhook_timeout_ms: u64,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            max_window_ms: 12 * 3_600_000,
            banner_lead_ms: 72 * 3_600_000,
            webhook_max_attempts: 10,
            webhook_timeout_ms: 10_000,
        }
    }
}

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

impl Config {
    /// A configuration with the documented defaults and the given data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            database: None,
            environment: Environment::Production,
            region: "local".to_owned(),
            regions: vec!["local".to_owned()],
            demo: false,
            body_limit: DEFAULT_BODY_LIMIT,
            public_url: None,
            maintenance: MaintenanceConfig::default(),
        }
    }
}

/// Checks a region or organisation slug: `^[a-z0-9][a-z0-9-]{0,63}$`.
pub fn is_valid_slug(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(is_valid_slug("demo"));
        assert!(is_valid_slug("0-acme"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("-acme"));
        assert!(!is_valid_slug("Acme"));
        assert!(!is_valid_slug("a/b"));
        assert!(!is_valid_slug(&"a".repeat(65)));
    }
}
