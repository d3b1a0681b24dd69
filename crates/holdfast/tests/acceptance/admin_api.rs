//! The admin API: organisations, regions, listings.

use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, TestServer};

on_both_backends!(
    organisations_are_created_once_in_a_known_region,
    |backend: Backend| async move {
        let server = TestServer::start_with(backend, |config| {
            config.region = "eu".to_owned();
            config.regions = vec!["eu".to_owned(), "apac".to_owned()];
        })
        .await;
        let create = |body: Value| {
            server
                .admin(reqwest::Method::POST, "/api/v1/admin/orgs")
                .json(&body)
                .send()
        };

        let response = create(json!({"slug": "acme", "region": "apac", "name": "Acme Insurance"}))
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let org: Value = response.json().await.unwrap();
        assert_eq!(org["region"], "apac");

        let response = create(json!({"slug": "acme"})).await.unwrap();
        assert_eq!(response.status(), 409);

        let response = create(json!({"slug": "globex", "region": "mars"}))
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "region");

        let response = create(json!({"slug": "Not A Slug"})).await.unwrap();
        assert_eq!(response.status(), 422);

        let response = create(json!({"slug": "initech", "colour": "red"}))
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "unknown keys are refused");

        let response = create(json!({"slug": "initech"})).await.unwrap();
        assert_eq!(response.status(), 201);
        let org: Value = response.json().await.unwrap();
        assert_eq!(org["region"], "eu", "the deployment's region by default");

        let orgs: Value = server
            .admin(reqwest::Method::GET, "/api/v1/admin/orgs")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let slugs: Vec<&str> = orgs
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, vec!["acme", "initech"]);
        server.stop().await;
    }
);

on_both_backends!(
    the_operational_endpoints_answer,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        for (path, status) in [
            ("/healthz", 200),
            ("/readyz", 200),
            ("/metrics", 200),
            ("/api/v1/openapi.yaml", 200),
            ("/schema/process-definition.json", 200),
            ("/assets/holdfast.css", 200),
            ("/assets/nope.js", 404),
        ] {
            let response = server
                .http()
                .get(format!("{}{path}", server.url))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{path}");
        }
        // Traffic shows up in the metrics.
        let _ = server.person().start("acme", "motor-claim").await;
        let metrics = server
            .http()
            .get(format!("{}/metrics", server.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("holdfast_sessions_started_total"),
            "{metrics}"
        );
        assert!(
            metrics.contains("holdfast_http_responses_total"),
            "{metrics}"
        );
        let schema: Value = server
            .http()
            .get(format!("{}/schema/process-definition.json", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(schema.get("$schema").is_some(), "a JSON Schema document");
        server.stop().await;
    }
);
