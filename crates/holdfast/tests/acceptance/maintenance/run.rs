//! Running a downtime: the operator begins it (requests in flight finish first), end customers
//! get the maintenance page and 503 JSON while their answers stay safe, staff use the bypass
//! link, the operator ends it, the person resumes and submits, and the report says what it
//! cost. Development maintenance closes only the design side.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{HOUR, PHASE_2_START, Platform, SEED_PLAN, complete_claim};
use crate::on_both_backends;
use crate::support::Backend;

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

on_both_backends!(
    maintenance_downtime_keeps_every_answer_and_is_reported,
    |backend: Backend| async move {
        let platform = Platform::start_with(backend, crate::maintenance::BEFORE_PLAN, |config| {
            config.region = "apac".to_owned();
        })
        .await;
        platform.with_claim("acme", "apac").await;
        let (code, _) = platform.schedule(SEED_PLAN).await;
        assert_eq!(code, 201);
        platform.set_time(PHASE_2_START - 5 * 60_000).await;

        // A person has filled part of the claim.
        let token = platform
            .open_session("acme", json!({ "full_name": "Ada Lovelace" }))
            .await;
        let saved = platform
            .autosave(&token, 1, json!({ "email": "ada@example.org" }))
            .await;
        assert_eq!(saved.status(), 200);

        // The operator begins phase 2's downtime; it reports done once drained.
        platform.set_time(PHASE_2_START).await;
        let begun: Value = serde_json::from_str(
            &platform
                .cli_ok(&["maintenance", "begin", "w2", "--json"])
                .await,
        )
        .unwrap();
        assert_eq!(begun["drained"], true, "{begun}");
        assert_eq!(begun["downtime"]["window"], "w2");
        assert_eq!(begun["downtime"]["expected_end"], "2027-01-31T18:00:00Z");
        assert!(!begun["nodes"].as_array().unwrap().is_empty());
        let bypass_url = begun["bypass_url"].as_str().unwrap().to_owned();

        // The person keeps typing: the save is refused as maintenance, nothing is lost.
        let refused = platform
            .autosave(&token, 2, json!({ "policy_number": "AB123456" }))
            .await;
        assert_eq!(refused.status(), 503);
        assert!(retry_after(&refused) <= 30);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "maintenance");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("Nothing you entered is lost")
        );
        assert_eq!(body["retry_after"], 30);
        assert_eq!(body["expected_end"], "2027-01-31T18:00:00Z");

        // Submit is refused the same way.
        let refused = platform.submit(&token).await;
        assert_eq!(refused.status(), 503);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "maintenance");

        // A reload shows the maintenance page: 503, when it is expected back, answers saved,
        // and it checks by itself (script, or a meta refresh without JavaScript).
        let page = platform.get(&format!("/s/{token}")).await;
        assert_eq!(page.status(), 503);
        assert!(retry_after(&page) <= 30);
        let html = page.text().await.unwrap();
        assert!(html.contains("<h1>Down for maintenance</h1>"), "{html}");
        assert!(html.contains("datetime=\"2027-01-31T18:00:00Z\""), "{html}");
        assert!(html.contains("Sunday 31 January 2027, 18:00 UTC"), "{html}");
        assert!(
            html.contains("Everything you have entered so far is saved"),
            "{html}"
        );
        assert!(
            html.contains("<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>"),
            "{html}"
        );
        assert!(html.contains("checks every 30 seconds"), "{html}");
        // The script, at the address of this version of the assets.
        let script = html
            .split("src=\"")
            .filter_map(|rest| rest.split_once('"'))
            .map(|(src, _)| src)
            .find(|src| src.starts_with("/assets/") && src.ends_with("/maintenance.js"))
            .unwrap_or_else(|| panic!("no maintenance script in {html}"));
        assert_eq!(platform.get(script).await.status(), 200);
        assert_eq!(platform.get("/p/acme/motor-claim").await.status(), 503);

        // Operations stay open: not ready, alive, the status API says so, the admin API works.
        assert_eq!(platform.get("/readyz").await.status(), 503);
        assert_eq!(platform.get("/healthz").await.status(), 200);
        let status: Value = platform.get("/api/v1/status").await.json().await.unwrap();
        assert_eq!(status["status"]["indicator"], "maintenance");
        assert_eq!(
            crate::maintenance::announce::item(&status, "w2")["status"],
            "in_progress"
        );
        let orgs = platform
            .admin(reqwest::Method::GET, "/api/v1/admin/orgs")
            .send()
            .await
            .unwrap();
        assert_eq!(orgs.status(), 200);

        // Staff follow the bypass link (an HttpOnly cookie) and can try the system.
        let staff = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let wrong = staff
            .get(format!(
                "{}/maintenance/bypass?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                platform.url
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 404);
        let opened = staff.get(&bypass_url).send().await.unwrap();
        assert_eq!(opened.status(), 200);
        let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        let staff_page = staff
            .get(format!("{}/s/{token}", platform.url))
            .send()
            .await
            .unwrap();
        assert_eq!(staff_page.status(), 200);

        // While it lasts, the report says so.
        let report: Value = serde_json::from_str(
            &platform
                .cli_ok(&["maintenance", "report", "w2", "--json"])
                .await,
        )
        .unwrap();
        assert_eq!(report["ongoing"], true);
        assert_eq!(report["sessions_active"], 1);

        // Ten minutes later the operator ends it; the node is ready again at once.
        platform.set_time(PHASE_2_START + 10 * 60_000).await;
        let out = platform.cli_ok(&["maintenance", "end"]).await;
        assert!(
            out.contains("maintenance ended: downtime d1 of window w2"),
            "{out}"
        );
        assert_eq!(platform.get("/readyz").await.status(), 200);
        assert_eq!(platform.get(&format!("/s/{token}")).await.status(), 200);

        // The person's journal is replayed (seq 2 again), they finish, and Submit succeeds.
        let mut rest = complete_claim();
        rest.as_object_mut().unwrap().remove("full_name");
        rest.as_object_mut().unwrap().remove("email");
        let replay = platform
            .autosave(&token, 2, json!({ "policy_number": "AB123456" }))
            .await;
        assert_eq!(replay.status(), 200);
        let rest_saved = platform.autosave(&token, 3, rest).await;
        assert_eq!(
            rest_saved.status(),
            200,
            "{}",
            rest_saved.text().await.unwrap()
        );
        let submitted = platform.submit(&token).await;
        assert_eq!(
            submitted.status(),
            201,
            "{}",
            submitted.text().await.unwrap()
        );

        // The report: when, how long, what was refused, who resumed, nothing lost.
        let report: Value =
            serde_json::from_str(&platform.cli_ok(&["maintenance", "report", "--json"]).await)
                .unwrap();
        assert_eq!(report["downtime"], "d1");
        assert_eq!(report["window"], "w2");
        assert_eq!(report["ongoing"], false);
        assert_eq!(report["started_at"], "2027-01-31T16:00:00Z");
        assert_eq!(report["ended_at"], "2027-01-31T16:10:00Z");
        assert_eq!(report["duration_seconds"], 600);
        assert_eq!(report["requests_refused"], 4, "{report}");
        assert_eq!(report["sessions_active"], 1);
        assert_eq!(report["sessions_resumed"], 1);
        assert_eq!(report["sessions_submitted"], 1);
        assert_eq!(report["changes_lost"], 0);
        let text = platform.cli_ok(&["maintenance", "report", "w2"]).await;
        assert!(text.contains("changes lost:       0"), "{text}");
        assert!(text.contains("600 s (10 min)"), "{text}");

        // The window is verifying until its scheduled end, then completed.
        let status: Value = platform
            .get("/api/v1/status?region=apac")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            crate::maintenance::announce::item(&status, "w2")["status"],
            "verifying"
        );
        platform.stop().await;
    }
);

on_both_backends!(
    maintenance_of_the_development_environment_leaves_end_customers_untouched,
    |backend: Backend| async move {
        // 2027-01-10T16:00:00Z, phase 1 (the Builder, all regions).
        let phase_1 = 1_799_596_800_000;
        let platform = Platform::start(backend, phase_1 - HOUR).await;
        platform.with_claim("acme", "eu").await;
        let (code, _) = platform.schedule(SEED_PLAN).await;
        assert_eq!(code, 201);
        platform.set_time(phase_1).await;
        let out = platform.cli_ok(&["maintenance", "begin", "w1"]).await;
        assert!(out.contains("(development in all)"), "{out}");

        // End customers keep filling in and submitting.
        let token = platform.open_session("acme", complete_claim()).await;
        assert_eq!(
            platform
                .autosave(&token, 1, json!({"phone": "+31 20 123 4567"}))
                .await
                .status(),
            200
        );
        assert_eq!(platform.get(&format!("/s/{token}")).await.status(), 200);
        assert_eq!(platform.get("/p/acme/motor-claim").await.status(), 200);
        assert_eq!(platform.submit(&token).await.status(), 201);
        assert_eq!(
            platform.get("/readyz").await.status(),
            200,
            "a production node stays ready"
        );

        // Publishing (the design side of the admin API) is closed.
        let publish = platform
            .admin(reqwest::Method::POST, "/api/v1/admin/orgs/acme/processes")
            .body(crate::support::MOTOR_CLAIM)
            .send()
            .await
            .unwrap();
        assert_eq!(publish.status(), 503);
        assert!(retry_after(&publish) <= 30);
        let body: Value = publish.json().await.unwrap();
        assert_eq!(body["error"], "maintenance");

        platform.cli_ok(&["maintenance", "end", "w1"]).await;
        let publish = platform
            .admin(reqwest::Method::POST, "/api/v1/admin/orgs/acme/processes")
            .body(crate::support::MOTOR_CLAIM)
            .send()
            .await
            .unwrap();
        assert_eq!(publish.status(), 201);
        let report: Value =
            serde_json::from_str(&platform.cli_ok(&["maintenance", "report", "--json"]).await)
                .unwrap();
        assert_eq!(report["sessions_active"], 0, "end customers were not in it");
        assert_eq!(report["requests_refused"], 1);
        platform.stop().await;
    }
);

on_both_backends!(
    maintenance_begin_waits_for_requests_in_flight,
    |backend: Backend| async move {
        let platform = Platform::start(backend, PHASE_2_START).await;
        platform.with_claim("acme", "eu").await;
        let token = platform.open_session("acme", json!({})).await;

        // An autosave is on its way: its headers and half its body have arrived.
        let body = json!({"client": "tab-1", "seq": 1, "answers": {"full_name": "Ada Lovelace"}})
            .to_string();
        let (first, second) = body.split_at(body.len() / 2);
        let address = platform.url.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(
                format!(
                    "PATCH /api/v1/sessions/{token} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
                    body.len()
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;

        // Unscheduled maintenance of this deployment: begin waits for that request.
        let begin = {
            let url = platform.url.clone();
            let admin_token = platform.token.clone();
            tokio::spawn(async move {
                tokio::process::Command::new(env!("CARGO_BIN_EXE_holdfast"))
                    .args(["maintenance", "begin", "--minutes", "20", "--json"])
                    .env("HOLDFAST_SERVER", url)
                    .env("HOLDFAST_TOKEN", admin_token)
                    .output()
                    .await
                    .unwrap()
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert!(
            !begin.is_finished(),
            "begin waits while a save is in flight"
        );
        // New saves are refused already.
        assert_eq!(
            platform
                .autosave(&token, 2, json!({"email": "ada@example.org"}))
                .await
                .status(),
            503
        );

        // The save completes and is acknowledged; then begin reports done.
        stream.write_all(second.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let output = begin.await.unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let begun: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(begun["drained"], true);
        assert_eq!(begun["downtime"]["environment"], "production");
        assert_eq!(begun["downtime"]["regions"], json!(["eu"]));
        let session = platform
            .http
            .get(format!("{}/api/v1/sessions/{token}", platform.url))
            .header(
                "cookie",
                format!(
                    "holdfast_maintenance_bypass={}",
                    begun["bypass_url"]
                        .as_str()
                        .unwrap()
                        .rsplit('=')
                        .next()
                        .unwrap()
                ),
            )
            .send()
            .await
            .unwrap();
        let session: Value = session.json().await.unwrap();
        assert_eq!(
            session["answers"]["full_name"], "Ada Lovelace",
            "acknowledged, kept"
        );

        // The unscheduled maintenance is recorded like any other and completed at its end.
        platform.set_time(PHASE_2_START + 5 * 60_000).await;
        platform.cli_ok(&["maintenance", "end"]).await;
        let plans: Value =
            serde_json::from_str(&platform.cli_ok(&["maintenance", "list", "--json"]).await)
                .unwrap();
        assert_eq!(plans[0]["unscheduled"], true);
        assert_eq!(plans[0]["phases"][0]["status"], "completed");
        assert_eq!(plans[0]["phases"][0]["end"], "2027-01-31T16:05:00Z");
        let report: Value =
            serde_json::from_str(&platform.cli_ok(&["maintenance", "report", "--json"]).await)
                .unwrap();
        assert_eq!(report["duration_seconds"], 300);
        assert_eq!(report["sessions_active"], 1);
        platform.stop().await;
    }
);

on_both_backends!(
    a_page_waiting_for_the_end_of_a_downtime_hears_of_it_at_once,
    |backend: Backend| async move {
        let platform = Platform::start(backend, PHASE_2_START).await;
        platform.with_claim("acme", "eu").await;
        let availability = |wait: u64| {
            let request = platform
                .http
                .get(format!("{}/api/v1/availability?wait={wait}", platform.url));
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.json::<Value>().await.unwrap()
            }
        };
        assert_eq!(availability(0).await["open"], true, "open: at once");
        assert_eq!(availability(20).await["open"], true, "open: no waiting");

        platform
            .cli_ok(&["maintenance", "begin", "--minutes", "20", "--json"])
            .await;
        let closed = availability(0).await;
        assert_eq!(closed["open"], false);
        assert!(closed["retry_after"].as_i64().unwrap() > 0, "{closed}");

        // Pages wait for the end.
        let waiting: Vec<_> = (0..3).map(|_| tokio::spawn(availability(20))).collect();
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            waiting.iter().all(|w| !w.is_finished()),
            "held while closed"
        );

        platform.set_time(PHASE_2_START + 60_000).await;
        let ended = std::time::Instant::now();
        platform.cli_ok(&["maintenance", "end"]).await;
        for waiter in waiting {
            let answer = waiter.await.unwrap();
            assert_eq!(answer["open"], true, "{answer}");
            assert!(answer["spread_ms"].as_u64().unwrap() <= 3_000);
        }
        assert!(
            ended.elapsed() < std::time::Duration::from_secs(10),
            "answered at the end, not at the wait's end: {:?}",
            ended.elapsed()
        );
        platform.stop().await;
    }
);
