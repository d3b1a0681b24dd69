//! The real binary: `holdfast serve --demo` as a newcomer starts it, the operator CLI against
//! it, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::on_both_backends;
use crate::support::{Backend, MOTOR_CLAIM};

const BIN: &str = env!("CARGO_BIN_EXE_holdfast");

/// A `holdfast serve` process.
struct Served {
    child: Child,
    url: String,
    data: tempfile::TempDir,
}

impl Served {
    async fn start(backend: Backend) -> Served {
        let data = tempfile::tempdir().unwrap();
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
            .arg(data.path())
            .env("HOLDFAST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(database) = backend.fresh_database().await {
            command.args(["--database", &database]);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // Keep reading what it prints, as a terminal would.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = first
            .trim()
            .strip_prefix("Holdfast is listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_owned();
        Served { child, url, data }
    }

    /// Runs an operator command against this server; returns stdout, or panics with stderr.
    fn cli(&self, args: &[&str]) -> String {
        let output = self.cli_output(args);
        assert!(
            output.status.success(),
            "holdfast {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn cli_output(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .env("HOLDFAST_SERVER", &self.url)
            .env("HOLDFAST_TOKEN_FILE", self.data.path().join("admin-token"))
            .env_remove("HOLDFAST_TOKEN")
            .output()
            .unwrap()
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exits cleanly on SIGTERM: {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "did not stop within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

on_both_backends!(
    an_operator_runs_holdfast_with_the_cli,
    |backend: Backend| async move {
        let served = Served::start(backend).await;

        // The bootstrap admin token is private to the owner.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(served.data.path().join("admin-token"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // --demo made the demo process.
        let demo = reqwest::get(format!("{}/p/demo/motor-claim", served.url))
            .await
            .unwrap();
        assert_eq!(demo.status(), 200);
        assert!(demo.text().await.unwrap().contains("Motor insurance claim"));

        let out = served.cli(&["org", "create", "acme", "--name", "Acme Insurance"]);
        assert!(out.contains("created organisation acme"), "{out}");
        let orgs: Value = serde_json::from_str(&served.cli(&["org", "list", "--json"])).unwrap();
        let slugs: Vec<&str> = orgs
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, vec!["acme", "demo"]);

        let file = served.data.path().join("motor-claim.yaml");
        std::fs::write(&file, MOTOR_CLAIM).unwrap();
        let out = served.cli(&[
            "process",
            "publish",
            file.to_str().unwrap(),
            "--org",
            "acme",
        ]);
        assert!(out.contains("published motor-claim version 1"), "{out}");
        let out = served.cli(&[
            "process",
            "publish",
            file.to_str().unwrap(),
            "--org",
            "acme",
            "--json",
        ]);
        let published: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(published["version"], 2);
        let list: Value =
            serde_json::from_str(&served.cli(&["process", "list", "--org", "acme", "--json"]))
                .unwrap();
        assert_eq!(list[0]["latest_version"], 2);
        let versions = served.cli(&["process", "versions", "motor-claim", "--org", "acme"]);
        assert_eq!(
            versions.lines().count(),
            3,
            "a header and two versions: {versions}"
        );

        // A broken definition: every problem printed with its place, and a failing exit status.
        let broken = served.data.path().join("broken.yaml");
        std::fs::write(
            &broken,
            MOTOR_CLAIM.replace("type: email", "type: e-mail").replace(
                "required: true\n        max_length",
                "requird: true\n        max_length",
            ),
        )
        .unwrap();
        let output = served.cli_output(&[
            "process",
            "publish",
            broken.to_str().unwrap(),
            "--org",
            "acme",
        ]);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("steps[0].fields[1].type"), "{stderr}");
        assert!(stderr.contains("steps[0].fields[0]"), "{stderr}");
        assert!(stderr.contains("line "), "{stderr}");

        // A wrong token is refused.
        let output = Command::new(BIN)
            .args(["org", "list", "--server", &served.url, "--token", "nope"])
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("401"));

        // A person files a claim through the API; the operator exports it.
        let client = reqwest::Client::new();
        let created: Value = client
        .post(format!("{}/api/v1/orgs/acme/processes/motor-claim/sessions", served.url))
        .json(&serde_json::json!({"answers": {
            "full_name": "Ada, \"the Countess\"", "email": "ada@example.org", "policy_number": "AB123456",
            "incident_date": "2026-02-03", "vehicle": "car", "injured": false, "damage": ["windows"],
            "account_holder": "Ada", "agree": true
        }}))
        .send().await.unwrap().json().await.unwrap();
        let token = created["token"].as_str().unwrap();
        assert!(
            created["resume_url"]
                .as_str()
                .unwrap()
                .starts_with(&served.url)
        );
        let submitted = client
            .post(format!("{}/api/v1/sessions/{token}/submit", served.url))
            .header("Idempotency-Key", "k1")
            .send()
            .await
            .unwrap();
        assert_eq!(submitted.status(), 201);

        let jsonl = served.cli(&[
            "submissions",
            "export",
            "--org",
            "acme",
            "--process",
            "motor-claim",
        ]);
        let rows: Vec<Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["answers"]["full_name"], "Ada, \"the Countess\"");
        assert_eq!(rows[0]["answers"]["damage"], serde_json::json!(["windows"]));
        let csv_file = served.data.path().join("export.csv");
        served.cli(&[
            "submissions",
            "export",
            "--org",
            "acme",
            "--process",
            "motor-claim",
            "--format",
            "csv",
            "--output",
            csv_file.to_str().unwrap(),
        ]);
        let csv = std::fs::read_to_string(&csv_file).unwrap();
        assert!(
            csv.contains(r#","Ada, ""the Countess""",ada@example.org,"#),
            "quoted as CSV: {csv}"
        );
        assert_eq!(csv.lines().count(), 2);

        served.terminate();
    }
);
