//! The autosave benchmark: how many autosaves a Holdfast server acknowledges per second, and how
//! long each waits, measured against the ceiling of the same machine — `GET /healthz` driven the
//! same way in the same run.
//!
//! ```sh
//! cargo bench -p holdfast --bench autosave -- [--connections 64] [--seconds 10] \
//!     [--sessions N] [--database URL] [--verify]
//! ```
//!
//! It starts the release binary (`holdfast serve --demo`) over a fresh data directory (embedded
//! SQLite in WAL mode with full sync, or the PostgreSQL database given with `--database`),
//! opens `--sessions` sessions of the demo process, then drives each phase for `--seconds`
//! after a short warm-up: `--connections` concurrent connections (keep-alive, one HTTP client
//! each) send requests back to back. In the autosave phase every connection cycles through
//! its own share of the sessions, sending each session its next numbered change batch. With
//! `--verify` the server is stopped afterwards and the store is opened directly to check that
//! every acknowledged change is stored.
//!
//! It is a benchmark, not a test: it prints numbers and whether the targets were met
//! (autosave throughput at least half of the ceiling, p99 under 20 ms), and fails only if a
//! request failed or verification found a lost change. Results are in `docs/benchmarks.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_holdfast");

/// The autosave benchmark (see the top of `benches/autosave.rs`).
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent connections, each with its own keep-alive HTTP client.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds per phase (after the warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Warm-up seconds per phase, not measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Sessions to spread the autosaves over (default: 4 per connection).
    #[arg(long)]
    sessions: Option<usize>,
    /// Database URL (postgres://…); embedded SQLite in a temporary directory if absent.
    #[arg(long)]
    database: Option<String>,
    /// Afterwards, check in the store that every acknowledged change is there.
    #[arg(long)]
    verify: bool,
    /// The server binary to run (default: the one this benchmark was built with), for
    /// comparing builds.
    #[arg(long)]
    server_binary: Option<std::path::PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// What one phase measured.
#[derive(Default)]
struct Phase {
    /// Successful requests, the warm-up's included.
    all: u64,
    /// CPU seconds the server and this benchmark used during the phase, the warm-up's
    /// included (Linux only).
    cpu: Option<(f64, f64)>,
    /// CPU seconds of the server's threads during the phase by thread name, the warm-up's
    /// included (Linux only).
    threads: Vec<(String, f64)>,
    /// Successful requests started after the warm-up.
    ok: u64,
    /// Failed requests (any time).
    errors: u64,
    /// Latency of each measured request, in microseconds.
    latencies: Vec<u32>,
    /// The first few error messages.
    samples: Vec<String>,
}

impl Phase {
    /// Microseconds of server and of benchmark CPU per successful request.
    fn cpu_per_request(&self) -> Option<(f64, f64)> {
        let (server, client) = self.cpu?;
        let per = |seconds: f64| seconds * 1e6 / self.all.max(1) as f64;
        Some((per(server), per(client)))
    }

    fn merge(&mut self, other: Phase) {
        self.all += other.all;
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies.extend(other.latencies);
        if self.samples.len() < 5 {
            self.samples.extend(other.samples);
        }
    }

    fn per_second(&self, seconds: u64) -> f64 {
        self.ok as f64 / seconds as f64
    }

    /// Sorts the latencies, which [`Phase::quantile_ms`] needs.
    fn sorted(mut self) -> Self {
        self.latencies.sort_unstable();
        self
    }

    /// A latency quantile of a [`Phase::sorted`] phase.
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        f64::from(self.latencies[index]) / 1000.0
    }
}

/// The part of an autosave's answer the benchmark checks.
#[derive(serde::Deserialize)]
struct Ack {
    acked_seq: i64,
}

/// One session the benchmark types into: its token, and how far its changes were acknowledged.
struct BenchSession {
    token: String,
    /// The client id this benchmark sends the session's batches as.
    client: String,
    /// The last acknowledged sequence number (batches are sent one at a time from 1 up, so
    /// 1..=acked are all acknowledged).
    acked: i64,
}

/// `holdfast serve` as a child process.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(
        binary: &std::path::Path,
        data: &std::path::Path,
        database: Option<&str>,
    ) -> anyhow::Result<Server> {
        let mut command = Command::new(binary);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
            .arg(data)
            .env("HOLDFAST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(database) = database {
            command.args(["--database", database]);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut first = String::new();
        stdout.read_line(&mut first)?;
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let Some(url) = first.trim().strip_prefix("Holdfast is listening on ") else {
            let _ = child.kill();
            bail!("the server did not start: {first:?}");
        };
        Ok(Server {
            url: url.to_owned(),
            child,
        })
    }

    /// SIGTERM, then wait for the graceful stop.
    fn stop(mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        ensure!(status.success(), "kill -TERM failed");
        let status = self.child.wait()?;
        ensure!(status.success(), "the server exited with {status}");
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// CPU seconds a process has used so far, from `/proc` (Linux only).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // The kernel counts in USER_HZ, 100 per second on every Linux platform Rust supports.
    Some((utime + stime) / 100.0)
}

/// CPU seconds of the server and of this benchmark so far.
fn cpu_now(server: u32) -> Option<(f64, f64)> {
    Some((cpu_seconds(&server.to_string())?, cpu_seconds("self")?))
}

/// The CPU used since a reading of [`cpu_now`].
fn cpu_since(before: Option<(f64, f64)>, server: u32) -> Option<(f64, f64)> {
    let (server_before, client_before) = before?;
    let (server_after, client_after) = cpu_now(server)?;
    Some((server_after - server_before, client_after - client_before))
}

/// CPU seconds each named thread of a process has used so far, summed by name (Linux only):
/// where the server spends its time (`tokio-rt-worker`, `change-writer`, …).
fn thread_cpu(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let tid = task.file_name();
        let Some(tid) = tid.to_str() else {
            continue;
        };
        let (Ok(name), Some(cpu)) = (
            std::fs::read_to_string(task.path().join("comm")),
            cpu_seconds(&format!("{pid}/task/{tid}")),
        ) else {
            continue;
        };
        *by_name.entry(name.trim().to_owned()).or_insert(0.0) += cpu;
    }
    by_name
}

/// The CPU each named thread used since a reading of [`thread_cpu`], busiest first.
fn thread_cpu_since(
    before: &std::collections::BTreeMap<String, f64>,
    pid: u32,
) -> Vec<(String, f64)> {
    let mut used: Vec<(String, f64)> = thread_cpu(pid)
        .into_iter()
        .map(|(name, after)| {
            let spent = after - before.get(&name).copied().unwrap_or(0.0);
            (name, spent)
        })
        .filter(|(_, spent)| *spent > 0.0)
        .collect();
    used.sort_by(|a, b| b.1.total_cmp(&a.1));
    used
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .build()
        .expect("an HTTP client")
}

async fn open_sessions(url: &str, count: usize, parallel: usize) -> anyhow::Result<Vec<String>> {
    let per_task = count.div_ceil(parallel.max(1));
    let mut tasks = Vec::new();
    for task in 0..parallel {
        let url = url.to_owned();
        let n = per_task.min(count.saturating_sub(task * per_task));
        tasks.push(tokio::spawn(async move {
            let http = client();
            let mut tokens = Vec::with_capacity(n);
            for _ in 0..n {
                let response = http
                    .post(format!(
                        "{url}/api/v1/orgs/demo/processes/motor-claim/sessions"
                    ))
                    .json(&json!({}))
                    .send()
                    .await?;
                ensure!(
                    response.status() == 201,
                    "creating a session: {}",
                    response.status()
                );
                let body: Value = response.json().await?;
                tokens.push(body["token"].as_str().context("no token")?.to_owned());
            }
            anyhow::Ok(tokens)
        }));
    }
    let mut tokens = Vec::with_capacity(count);
    for task in tasks {
        tokens.extend(task.await??);
    }
    Ok(tokens)
}

/// Drives `GET /healthz` from every connection until the deadline.
async fn healthz(url: Arc<str>, warmup: Duration, measure: Duration, connections: usize) -> Phase {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = client();
            let target = format!("{url}/healthz");
            let mut phase = Phase::default();
            loop {
                let sent = Instant::now();
                if sent >= start + warmup + measure {
                    break;
                }
                let result = async {
                    let response = http.get(&target).send().await?;
                    let status = response.status();
                    response.bytes().await?;
                    anyhow::Ok(status)
                }
                .await;
                record(&mut phase, result, sent, start + warmup);
            }
            phase
        }));
    }
    let mut total = Phase::default();
    for task in tasks {
        total.merge(task.await.expect("a healthz task"));
    }
    total
}

/// Drives autosaves: each connection sends its sessions' next batches, one request at a time.
async fn autosave(
    url: Arc<str>,
    sessions: Vec<BenchSession>,
    warmup: Duration,
    measure: Duration,
    connections: usize,
) -> (Phase, Vec<BenchSession>) {
    let start = Instant::now();
    let mut shares: Vec<Vec<BenchSession>> = (0..connections).map(|_| Vec::new()).collect();
    for (i, session) in sessions.into_iter().enumerate() {
        shares[i % connections].push(session);
    }
    let mut tasks = Vec::new();
    for mut share in shares {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = client();
            let mut phase = Phase::default();
            if share.is_empty() {
                return (phase, share);
            }
            let mut next = 0;
            loop {
                let sent = Instant::now();
                if sent >= start + warmup + measure {
                    break;
                }
                let count = share.len();
                let session = &mut share[next];
                next = (next + 1) % count;
                let seq = session.acked + 1;
                // The load generator shares the machine with the server: it builds and reads
                // as little JSON as it can.
                let body = format!(
                    "{{\"client\":\"{}\",\"seq\":{seq},\"answers\":{{\
                     \"full_name\":\"Person typing {seq}\",\"estimate\":{seq},\
                     \"damage\":[\"bodywork\",\"lights\"]}}}}",
                    session.client
                );
                let result = async {
                    let response = http
                        .patch(format!("{url}/api/v1/sessions/{}", session.token))
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body)
                        .send()
                        .await?;
                    let status = response.status();
                    let bytes = response.bytes().await?;
                    if status == 200 {
                        let ack: Ack = serde_json::from_slice(&bytes)?;
                        ensure!(
                            ack.acked_seq == seq,
                            "acknowledged {} for seq {seq}",
                            ack.acked_seq
                        );
                    }
                    anyhow::Ok(status)
                }
                .await;
                if matches!(result, Ok(status) if status == 200) {
                    session.acked = seq;
                }
                record(&mut phase, result, sent, start + warmup);
            }
            (phase, share)
        }));
    }
    let mut total = Phase::default();
    let mut sessions = Vec::new();
    for task in tasks {
        let (phase, share) = task.await.expect("an autosave task");
        total.merge(phase);
        sessions.extend(share);
    }
    (total, sessions)
}

fn record(
    phase: &mut Phase,
    result: anyhow::Result<reqwest::StatusCode>,
    sent: Instant,
    measured_from: Instant,
) {
    let elapsed = sent.elapsed();
    match result {
        Ok(status) if status.is_success() => {
            phase.all += 1;
            if sent >= measured_from {
                phase.ok += 1;
                phase
                    .latencies
                    .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
            }
        }
        Ok(status) => {
            phase.errors += 1;
            if phase.samples.len() < 5 {
                phase.samples.push(format!("status {status}"));
            }
        }
        Err(error) => {
            phase.errors += 1;
            if phase.samples.len() < 5 {
                phase.samples.push(format!("{error:#}"));
            }
        }
    }
}

/// Checks in the store that every acknowledged batch of every session is in its change log and
/// that each session's revision counts its log. Returns the number of acknowledged changes.
async fn verify(
    data: &std::path::Path,
    database: Option<&str>,
    sessions: &[BenchSession],
) -> anyhow::Result<u64> {
    let store = holdfast_store::open(data, database).await?;
    let mut acknowledged = 0u64;
    let mut lost = 0u64;
    for session in sessions {
        let hash = holdfast_server::tokens::hash(&session.token);
        let stored = store
            .session_by_token(&hash)
            .await?
            .context("a session of the benchmark is missing")?;
        let log = store.changes(stored.id).await?;
        ensure!(
            i64::try_from(log.len())? == stored.revision,
            "a session's revision ({}) does not count its change log ({})",
            stored.revision,
            log.len()
        );
        let mut seqs: Vec<i64> = log
            .iter()
            .filter(|c| c.client.as_deref() == Some(session.client.as_str()))
            .filter_map(|c| c.seq)
            .collect();
        seqs.sort_unstable();
        for seq in 1..=session.acked {
            acknowledged += 1;
            if seqs.binary_search(&seq).is_err() {
                lost += 1;
            }
        }
    }
    ensure!(
        lost == 0,
        "acknowledged changes lost: {lost} of {acknowledged}"
    );
    Ok(acknowledged)
}

/// How the server's change writer batched the autosaves, from its `/metrics`.
async fn group_commit_summary(url: &str) -> Option<String> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let value = |name: &str| -> Option<f64> {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|number| number.parse().ok())
    };
    let quantile = |q: &str| -> Option<f64> {
        text.lines()
            .find(|line| {
                line.starts_with("holdfast_store_group_commit_seconds{")
                    && line.contains(&format!("quantile=\"{q}\""))
            })
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|number| number.parse().ok())
    };
    let batches = value("holdfast_store_group_commit_batches_total")?;
    let changes = value("holdfast_store_group_commit_changes_total")?;
    let seconds = value("holdfast_store_group_commit_seconds_sum")?;
    Some(format!(
        "group commit: {changes:.0} changes in {batches:.0} transactions \
         ({:.1} per commit; {:.2} ms per transaction on average, p50 {:.2} ms, p99 {:.2} ms)",
        changes / batches,
        seconds * 1000.0 / batches,
        quantile("0.5").unwrap_or(f64::NAN) * 1000.0,
        quantile("0.99").unwrap_or(f64::NAN) * 1000.0,
    ))
}

fn print_phase(name: &str, phase: &Phase, seconds: u64) {
    println!(
        "{name:<16} {:>10} {:>7} {:>10.0} {:>8.2} {:>8.2} {:>8.2}",
        phase.ok,
        phase.errors,
        phase.per_second(seconds),
        phase.quantile_ms(0.50),
        phase.quantile_ms(0.99),
        phase.quantile_ms(1.0),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.connections > 0, "--connections must be at least 1");
    ensure!(args.seconds > 0, "--seconds must be at least 1");
    let session_count = args.sessions.unwrap_or(args.connections * 4).max(1);
    let data = tempfile::tempdir()?;
    let database = args.database.as_deref();
    let backend = match database {
        None => "sqlite (WAL, synchronous=FULL)",
        Some(_) => "postgres (synchronous_commit=on)",
    };

    let binary = args
        .server_binary
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(BIN));
    let server = Server::start(&binary, data.path(), database)?;
    let url: Arc<str> = Arc::from(server.url.as_str());
    let tokens = open_sessions(&url, session_count, args.connections.min(16)).await?;
    let sessions: Vec<BenchSession> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| BenchSession {
            token,
            client: format!("bench-{i}"),
            acked: 0,
        })
        .collect();

    let warmup = Duration::from_secs(args.warmup);
    let measure = Duration::from_secs(args.seconds);
    println!(
        "holdfast autosave benchmark: {backend}, {} connections, {session_count} sessions, \
         {} s per phase after {} s warm-up",
        args.connections, args.seconds, args.warmup
    );
    let pid = server.child.id();
    let before = cpu_now(pid);
    let threads = thread_cpu(pid);
    let mut ceiling = healthz(url.clone(), warmup, measure, args.connections)
        .await
        .sorted();
    ceiling.cpu = cpu_since(before, pid);
    ceiling.threads = thread_cpu_since(&threads, pid);
    let before = cpu_now(pid);
    let threads = thread_cpu(pid);
    let (saves, sessions) =
        autosave(url.clone(), sessions, warmup, measure, args.connections).await;
    let mut saves = saves.sorted();
    saves.cpu = cpu_since(before, pid);
    saves.threads = thread_cpu_since(&threads, pid);

    println!(
        "{:<16} {:>10} {:>7} {:>10} {:>8} {:>8} {:>8}",
        "phase", "requests", "errors", "per s", "p50 ms", "p99 ms", "max ms"
    );
    print_phase("GET /healthz", &ceiling, args.seconds);
    print_phase("PATCH autosave", &saves, args.seconds);
    let ratio = saves.per_second(args.seconds) / ceiling.per_second(args.seconds);
    let p99 = saves.quantile_ms(0.99);
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "autosave / healthz throughput: {ratio:.2} (target >= 0.50: {})",
        met(ratio >= 0.5)
    );
    println!(
        "autosave p99: {p99:.2} ms (target < 20 ms: {})",
        met(p99 < 20.0)
    );
    for (name, phase) in [("healthz", &ceiling), ("autosave", &saves)] {
        if let Some((server, client)) = phase.cpu_per_request() {
            println!("{name} CPU per request: server {server:.0} µs, benchmark {client:.0} µs");
        }
    }
    let phase_seconds = (args.warmup + args.seconds) as f64;
    for (name, phase) in [("healthz", &ceiling), ("autosave", &saves)] {
        let threads: Vec<String> = phase
            .threads
            .iter()
            // Threads that used at least 1 % of a core: the rest is noise.
            .filter(|(_, spent)| spent / phase_seconds >= 0.01)
            .map(|(thread, spent)| {
                format!(
                    "{thread} {:.0} µs ({:.0} % of a core)",
                    spent * 1e6 / phase.all.max(1) as f64,
                    spent * 100.0 / phase_seconds
                )
            })
            .collect();
        if !threads.is_empty() {
            println!("{name} server threads per request: {}", threads.join(", "));
        }
    }
    for (name, phase) in [("healthz", &ceiling), ("autosave", &saves)] {
        for sample in &phase.samples {
            println!("{name} error: {sample}");
        }
    }

    if let Some(line) = group_commit_summary(&url).await {
        println!("{line}");
    }

    server.stop()?;
    if args.verify {
        let acknowledged = verify(data.path(), database, &sessions).await?;
        println!("verify: acknowledged changes lost: 0 of {acknowledged}");
    }
    ensure!(
        ceiling.errors == 0 && saves.errors == 0,
        "{} requests failed",
        ceiling.errors + saves.errors
    );
    Ok(())
}
