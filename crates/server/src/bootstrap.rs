//! What happens on start before traffic is taken: the bootstrap admin token and the demo.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use holdfast_store::{NewOrg, NewVersion, Store};

use crate::tokens;

/// The example process shipped with Holdfast, published by `--demo`.
pub const DEMO_PROCESS: &str = include_str!("../../../examples/motor-claim.yaml");

/// The file in the data directory that holds the bootstrap admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Makes sure an admin token exists. On a fresh deployment (no admin token stored) a new one is
/// written to `DATA_DIR/admin-token` with mode 0600; a token found in that file is always
/// accepted. Returns true if a new token was created.
pub async fn admin_token(store: &dyn Store, data_dir: &Path, now: i64) -> anyhow::Result<bool> {
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim();
            anyhow::ensure!(
                !token.is_empty(),
                "{} is empty: delete it to have a new admin token made",
                path.display()
            );
            store.add_admin_token(tokens::hash(token), now).await?;
            Ok(false)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if !store.admin_token_hashes().await?.is_empty() {
                return Ok(false);
            }
            let token = tokens::generate();
            write_secret(&path, &token)
                .with_context(|| format!("cannot write the admin token to {}", path.display()))?;
            store.add_admin_token(tokens::hash(&token), now).await?;
            Ok(true)
        }
        Err(error) => {
            Err(error).with_context(|| format!("cannot read the admin token {}", path.display()))
        }
    }
}

fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Creates the organisation `demo` with the example process, unless they exist already.
pub async fn demo(store: &dyn Store, region: &str, now: i64) -> anyhow::Result<()> {
    let org = match store.org("demo").await? {
        Some(org) => org,
        None => {
            store
                .create_org(
                    NewOrg {
                        slug: "demo".to_owned(),
                        name: "Demo Insurance".to_owned(),
                        region: region.to_owned(),
                    },
                    now,
                )
                .await?
        }
    };
    let definition = holdfast_definition::parse(DEMO_PROCESS)
        .map_err(|e| anyhow::anyhow!("the shipped example process does not parse: {e}"))?;
    let latest = store.latest_version(org.id, &definition.slug).await?;
    if latest.is_none_or(|v| v.source != DEMO_PROCESS) {
        store
            .publish_version(
                org.id,
                NewVersion {
                    process_slug: definition.slug.clone(),
                    title: definition.title.clone(),
                    source: DEMO_PROCESS.to_owned(),
                },
                now,
            )
            .await?;
    }
    Ok(())
}
