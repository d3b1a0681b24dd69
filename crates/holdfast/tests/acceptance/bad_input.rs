//! Bad input gets a clear answer and never damages what is stored.

use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, TestServer};

on_both_backends!(
    unknown_things_are_404_pages,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let person = server.person();
        for path in [
            "/p/nobody/motor-claim",
            "/p/acme/no-such-process",
            "/s/not-a-token",
            "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "/nothing-here",
        ] {
            let page = person.open(path).await;
            assert_eq!(page.status, 404, "{path}");
            assert!(
                page.html.contains("<h1>Page not found</h1>"),
                "{path}: {}",
                page.html
            );
        }
        let response = server
            .http()
            .get(format!(
                "{}/api/v1/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                server.url
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "not_found");
        server.stop().await;
    }
);

on_both_backends!(
    answers_of_unknown_fields_or_wrong_types_are_refused_by_name,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let url = format!(
            "{}/api/v1/orgs/acme/processes/motor-claim/sessions",
            server.url
        );
        for (answers, field) in [
            (json!({"favourite_colour": "blue"}), "favourite_colour"),
            (json!({"estimate": "a lot"}), "estimate"),
            (json!({"vehicle": "spaceship"}), "vehicle"),
            (json!({"injured": "yes"}), "injured"),
        ] {
            let response = server
                .http()
                .post(&url)
                .json(&json!({ "answers": answers }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 422, "{answers}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["field"], field, "{body}");
            assert!(body["message"].as_str().unwrap().contains(field), "{body}");
        }

        // Autosave refuses the same, and what was stored stays as it was.
        let token = server
            .open_session("acme", "motor-claim", json!({"full_name": "Ada"}))
            .await;
        let patch = |body: Value| {
            server
                .http()
                .patch(format!("{}/api/v1/sessions/{token}", server.url))
                .json(&body)
                .send()
        };
        let response = patch(json!({"client": "tab-1", "seq": 1, "answers": {"full_name": 42}}))
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let response = patch(json!({"client": "tab-1", "seq": "one", "answers": {}}))
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains("seq"), "{body}");
        let response = server
            .http()
            .patch(format!("{}/api/v1/sessions/{token}", server.url))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        // A valid change followed by anything else is not a valid body either.
        let response = server
            .http()
            .patch(format!("{}/api/v1/sessions/{token}", server.url))
            .header("content-type", "application/json")
            .body(r#"{"client": "tab-1", "seq": 1, "answers": {"full_name": "Eve"}} {"seq": 2}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("trailing characters"),
            "{body}"
        );
        let session = server.session(&token).await;
        assert_eq!(session["answers"], json!({"full_name": "Ada"}));
        assert_eq!(session["revision"], 0);
        server.stop().await;
    }
);

on_both_backends!(
    bodies_over_the_limit_are_413,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let token = server.open_session("acme", "motor-claim", json!({})).await;
        let huge = "x".repeat(1024 * 1024 + 1);
        let response = server
            .http()
            .patch(format!("{}/api/v1/sessions/{token}", server.url))
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"client":"a","seq":1,"answers":{{"full_name":"{huge}"}}}}"#
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
        let response = server
            .admin(reqwest::Method::POST, "/api/v1/admin/orgs/acme/processes")
            .body(huge.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
        let response = server
            .http()
            .post(format!("{}/s/{token}", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("full_name={huge}&_action=next"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
        assert_eq!(server.session(&token).await["revision"], 0);
        server.stop().await;
    }
);

on_both_backends!(
    a_definition_with_problems_is_refused_with_every_problem,
    |backend: Backend| async move {
        let server = TestServer::start(backend).await;
        server.create_org("acme").await;
        let broken = "\
slug: broken
title: Broken
steps:
  - id: one
    title: One
    fields:
      - id: name
        type: txt
        label: Name
      - id: age
        type: number
        label: Age
        requird: true
      - id: details
        type: textarea
        label: Details
        visible_if: {field: injurd, equals: true}
";
        let response = server
            .admin(reqwest::Method::POST, "/api/v1/admin/orgs/acme/processes")
            .body(broken)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        let errors = body["errors"].as_array().unwrap();
        assert!(errors.len() >= 3, "{body}");
        let paths: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
        assert!(paths.contains(&"steps[0].fields[0].type"), "{paths:?}");
        assert!(
            paths.iter().any(|p| p.starts_with("steps[0].fields[1]")),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"steps[0].fields[2].visible_if.field"),
            "{paths:?}"
        );
        let type_error = errors
            .iter()
            .find(|e| e["path"] == "steps[0].fields[0].type")
            .unwrap();
        assert_eq!(type_error["line"], 8);
        // Nothing was published.
        let processes: Value = server
            .admin(reqwest::Method::GET, "/api/v1/admin/orgs/acme/processes")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(processes, json!([]));
        server.stop().await;
    }
);

on_both_backends!(
    the_admin_api_needs_the_token_and_gives_nothing_away,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        for (token, path) in [
            (None, "/api/v1/admin/orgs"),
            (Some("wrong"), "/api/v1/admin/orgs"),
            (Some("wrong"), "/api/v1/admin/orgs/acme/processes"),
            (Some("wrong"), "/api/v1/admin/orgs/no-such-org/processes"),
            (
                Some(""),
                "/api/v1/admin/orgs/acme/processes/motor-claim/submissions",
            ),
        ] {
            let mut request = server.http().get(format!("{}{path}", server.url));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{path}");
            assert!(response.headers().contains_key("www-authenticate"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized");
        }
        server.stop().await;
    }
);

on_both_backends!(
    a_submitted_session_takes_no_more_changes,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let token = server
            .open_session(
                "acme",
                "motor-claim",
                json!({
                    "full_name": "Ada", "email": "ada@example.org", "policy_number": "AB123456",
                    "incident_date": "2026-01-02", "vehicle": "car", "injured": false,
                    "account_holder": "Ada", "agree": true
                }),
            )
            .await;
        let response = server
            .http()
            .post(format!("{}/api/v1/sessions/{token}/submit", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let response = server
            .http()
            .patch(format!("{}/api/v1/sessions/{token}", server.url))
            .json(&json!({"client": "tab", "seq": 1, "answers": {"full_name": "Eve"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409);
        let exported = server.export_jsonl("acme", "motor-claim").await;
        assert_eq!(exported[0]["answers"]["full_name"], "Ada");
        server.stop().await;
    }
);

on_both_backends!(
    an_incomplete_session_cannot_be_submitted,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let token = server
            .open_session("acme", "motor-claim", json!({"full_name": "Ada"}))
            .await;
        let response = server
            .http()
            .post(format!("{}/api/v1/sessions/{token}/submit", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&"email") && fields.contains(&"agree"),
            "{fields:?}"
        );
        assert!(
            !fields.contains(&"injury_details"),
            "hidden fields are not required: {fields:?}"
        );
        assert!(server.export_jsonl("acme", "motor-claim").await.is_empty());
        server.stop().await;
    }
);
