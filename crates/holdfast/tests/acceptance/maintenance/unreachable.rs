//! A node whose database becomes unreachable closes itself the way a downtime does — end
//! customers get the maintenance page and 503 JSON, never a 500 — and opens again by itself
//! when the database is back. PostgreSQL is reached through a proxy the test can cut.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::{PHASE_2_START, Platform, complete_claim};
use crate::support::Backend;

/// A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused at
/// once) and restored.
struct Proxy {
    address: String,
    cut: Arc<AtomicBool>,
    cutting: Arc<Notify>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let cutting = Arc::new(Notify::new());
        let (cut_flag, cut_notify) = (cut.clone(), cutting.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if cut_flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let notify = cut_notify.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = notify.notified() => {}
                    }
                });
            }
        });
        Proxy {
            address,
            cut,
            cutting,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.cutting.notify_waiters();
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_a_node_without_its_database_shows_the_maintenance_page_not_500() {
    let database = Backend::Postgres.fresh_database().await.unwrap();
    // postgres://user@HOST:PORT/NAME → through the proxy.
    let (before, rest) = database.split_once('@').unwrap();
    let (host_port, name) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(host_port.to_owned()).await;
    let proxied = format!("{before}@{}/{name}", proxy.address);
    let platform = Platform::start_on(Some(proxied), PHASE_2_START, |_| {}).await;
    platform.with_claim("acme", "eu").await;
    let token = platform.open_session("acme", json!({})).await;
    assert_eq!(
        platform
            .autosave(&token, 1, json!({"full_name": "Ada"}))
            .await
            .status(),
        200
    );

    proxy.cut();
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let closed = loop {
        let page = platform.get(&format!("/s/{token}")).await;
        let page_status = page.status().as_u16();
        let page_html = page.text().await.unwrap();
        let save = platform
            .autosave(&token, 2, json!({"email": "ada@example.org"}))
            .await;
        let save_status = save.status().as_u16();
        let save_body: serde_json::Value = save.json().await.unwrap_or_default();
        statuses.push((page_status, save_status));
        // Until the node notices, a request may meet the database's absence on its own (a
        // plain 503 page, "Back in a moment" too); the page and the save are two requests, so
        // the node may close between them: wait until both are the maintenance answer.
        if save_body["error"] == "maintenance"
            && page_html.contains("Back in a moment")
            && page_html.contains("Everything you have entered so far is saved")
        {
            break save_body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never closed: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        statuses.iter().all(|(p, s)| *p != 500 && *s != 500),
        "no 500 while the database was away: {statuses:?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&(503, 503)),
        "the maintenance page and answer are 503s"
    );
    assert!(closed["retry_after"].as_i64().unwrap() <= 30);
    assert_eq!(platform.get("/readyz").await.status(), 503);
    assert_eq!(platform.get("/healthz").await.status(), 200);

    // The database comes back: the node opens by itself, and the journal is replayed.
    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let save = platform
            .autosave(&token, 2, json!({"email": "ada@example.org"}))
            .await;
        let status = save.status().as_u16();
        assert_ne!(status, 500);
        if status == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never reopened");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(platform.get("/readyz").await.status(), 200);
    let mut rest = complete_claim();
    rest.as_object_mut().unwrap().remove("email");
    assert_eq!(platform.autosave(&token, 3, rest).await.status(), 200);
    assert_eq!(platform.submit(&token).await.status(), 201);
    platform.stop().await;
}
