//! The server crashes while people are typing: 200 people autosave as fast as their browsers
//! can, the `holdfast` process is killed with SIGKILL in the middle of it, and started again on
//! the same data. Every change the server had acknowledged is still there, and no session is
//! damaged: each session's revision counts its change log, and its answers are what its change
//! log adds up to.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::on_both_backends;
use crate::support::Backend;

const BIN: &str = env!("CARGO_BIN_EXE_holdfast");

/// How many people type at once.
const PEOPLE: usize = 200;

/// How long they type before the server is killed (at the latest).
const TYPING: Duration = Duration::from_millis(2500);

/// Enough acknowledged changes for the crash to mean something: the kill comes once this many
/// are in (or after [`TYPING`]).
const ENOUGH_ACKNOWLEDGED: u64 = 3_000;

/// `holdfast serve --demo` as a child process.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(data: &Path, database: Option<&str>) -> Served {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
            .arg(data)
            .env("HOLDFAST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(database) = database {
            command.args(["--database", database]);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = first
            .trim()
            .strip_prefix("Holdfast is listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_owned();
        Served { child, url }
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One person at one browser tab, and what the server acknowledged to them.
struct Typist {
    token: String,
    client: String,
    acknowledged: Vec<i64>,
}

/// What each person types in change `seq`.
fn change(person: usize, seq: i64) -> Value {
    json!({
        "full_name": format!("Person {person} after change {seq}"),
        "estimate": seq,
        "damage": if seq % 2 == 0 { json!(["bodywork"]) } else { json!(null) },
    })
}

/// Types as fast as the server answers, one change batch at a time, until the server stops
/// answering (or `stop_at`).
async fn type_until_the_server_dies(
    http: reqwest::Client,
    url: String,
    person: usize,
    mut typist: Typist,
    counter: Arc<AtomicU64>,
    stop_at: Instant,
) -> Typist {
    for seq in 1.. {
        if Instant::now() >= stop_at {
            break;
        }
        let sent = http
            .patch(format!("{url}/api/v1/sessions/{}", typist.token))
            .json(&json!({"client": typist.client, "seq": seq, "answers": change(person, seq)}))
            .send()
            .await;
        let Ok(response) = sent else { break };
        if response.status() != 200 {
            break;
        }
        // Acknowledged only once the whole answer has arrived and says so.
        let Ok(ack) = response.json::<Value>().await else {
            break;
        };
        assert_eq!(ack["acked_seq"], seq, "{ack}");
        typist.acknowledged.push(seq);
        counter.fetch_add(1, Ordering::Relaxed);
    }
    typist
}

on_both_backends!(
    acknowledged_changes_survive_a_crash_of_the_server,
    |backend: Backend| async move {
        let data = tempfile::tempdir().unwrap();
        let database = backend.fresh_database().await;
        let served = Served::start(data.path(), database.as_deref());
        let http = reqwest::Client::new();

        // 200 people open the demo claim.
        let mut opening = tokio::task::JoinSet::new();
        for person in 0..PEOPLE {
            let (http, url) = (http.clone(), served.url.clone());
            opening.spawn(async move {
                let response = http
                    .post(format!(
                        "{url}/api/v1/orgs/demo/processes/motor-claim/sessions"
                    ))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                let body: Value = response.json().await.unwrap();
                (person, body["token"].as_str().unwrap().to_owned())
            });
        }
        let mut tokens = opening.join_all().await;
        tokens.sort();

        // They all type as fast as they can …
        let started = Instant::now();
        let counter = Arc::new(AtomicU64::new(0));
        let mut typing = tokio::task::JoinSet::new();
        for (person, token) in tokens {
            let typist = Typist {
                token,
                client: format!("tab-of-person-{person}"),
                acknowledged: Vec::new(),
            };
            typing.spawn(type_until_the_server_dies(
                http.clone(),
                served.url.clone(),
                person,
                typist,
                counter.clone(),
                started + Duration::from_secs(30),
            ));
        }
        // … and the server dies under them.
        while started.elapsed() < TYPING && counter.load(Ordering::Relaxed) < ENOUGH_ACKNOWLEDGED {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let killed_after = started.elapsed();
        served.kill();
        let typists = typing.join_all().await;
        let acknowledged: usize = typists.iter().map(|t| t.acknowledged.len()).sum();
        assert!(
            acknowledged >= PEOPLE,
            "too few changes were acknowledged before the kill for the test to mean anything: {acknowledged}"
        );

        // The server comes back on the same data.
        let served = Served::start(data.path(), database.as_deref());
        let store = holdfast_store::open(data.path(), database.as_deref())
            .await
            .unwrap();
        let mut lost = 0;
        for typist in &typists {
            // What the server says it holds …
            let response = http
                .get(format!("{}/api/v1/sessions/{}", served.url, typist.token))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let shown: Value = response.json().await.unwrap();
            let shown_answers = shown["answers"].as_object().expect("answers are an object");

            // … is what its change log adds up to, and the log has no gap.
            let session = store
                .session_by_token(&holdfast_server::tokens::hash(&typist.token))
                .await
                .unwrap()
                .expect("the session survived");
            let log = store.changes(session.id).await.unwrap();
            let revisions: Vec<i64> = log.iter().map(|c| c.revision).collect();
            assert_eq!(revisions, (1..=session.revision).collect::<Vec<_>>());
            assert_eq!(shown["revision"], session.revision);
            let mut replayed = Map::new();
            for entry in &log {
                for (field, value) in &entry.answers {
                    if value.is_null() {
                        replayed.remove(field);
                    } else {
                        replayed.insert(field.clone(), value.clone());
                    }
                }
            }
            assert_eq!(shown_answers, &replayed, "answers match the change log");
            assert_eq!(session.answers, replayed);

            // Every acknowledged change is in the log.
            let logged: BTreeSet<i64> = log
                .iter()
                .filter(|c| c.client.as_deref() == Some(typist.client.as_str()))
                .filter_map(|c| c.seq)
                .collect();
            lost += typist
                .acknowledged
                .iter()
                .filter(|seq| !logged.contains(seq))
                .count();

            // And the person can go on typing where the server left off.
            let next = logged.last().copied().unwrap_or(0) + 1;
            let response = http
                .patch(format!("{}/api/v1/sessions/{}", served.url, typist.token))
                .json(&json!({"client": typist.client, "seq": next, "answers": {"full_name": "Back again"}}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let ack: Value = response.json().await.unwrap();
            assert_eq!(ack["revision"], session.revision + 1);
        }
        println!(
            "{backend:?}: {PEOPLE} people typing, server killed after {} ms",
            killed_after.as_millis()
        );
        println!("acknowledged changes lost: {lost} of {acknowledged}");
        assert_eq!(lost, 0, "acknowledged changes were lost");
    }
);

on_both_backends!(
    a_server_whose_change_writer_stops_stops_with_an_error,
    |backend: Backend| async move {
        let data = tempfile::tempdir().unwrap();
        let mut config = holdfast_server::Config::new(data.path());
        config.database = backend.fresh_database().await;
        config.demo = true;
        let app = holdfast_server::App::build(config, Arc::new(holdfast_server::SystemClock))
            .await
            .unwrap();
        let store = app.state().store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // Nobody asks this server to stop.
        let serving = tokio::spawn(app.serve(listener, std::future::pending()));
        let http = reqwest::Client::new();
        let ready = http.get(format!("{url}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);

        // The change writer stops (closing the store stops it as a failure would).
        store.close().await;
        let ready = http.get(format!("{url}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 503);
        assert_eq!(
            ready.text().await.unwrap(),
            "not ready: the change writer has stopped\n"
        );

        // The server notices, stops by itself and says why.
        let error = serving
            .await
            .unwrap()
            .expect_err("the server stops with an error");
        assert!(
            error.to_string().contains("the change writer stopped"),
            "{error:#}"
        );
    }
);
