//! Publishing makes a new immutable version; a session stays on the version it started on.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, MOTOR_CLAIM, TestServer};

on_both_backends!(
    sessions_keep_the_version_they_started_on,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let person = server.person();
        let first = person.start("acme", "motor-claim").await;
        assert_eq!(first.label_for("f-full_name").as_deref(), Some("Full name"));

        let v2 = MOTOR_CLAIM.replace("label: Full name", "label: Your full name");
        let published = server.publish("acme", &v2).await;
        assert_eq!(published["version"], 2);
        assert_eq!(published["process"], "motor-claim");

        // The session started on version 1 still shows version 1.
        let again = person.open(&first.path).await;
        assert_eq!(again.label_for("f-full_name").as_deref(), Some("Full name"));
        // A new session gets version 2.
        let second = server.person().start("acme", "motor-claim").await;
        assert_eq!(
            second.label_for("f-full_name").as_deref(),
            Some("Your full name")
        );

        let versions: serde_json::Value = server
            .admin(
                reqwest::Method::GET,
                "/api/v1/admin/orgs/acme/processes/motor-claim/versions",
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let numbers: Vec<_> = versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].clone())
            .collect();
        assert_eq!(numbers, vec![json!(1), json!(2)]);

        let processes: serde_json::Value = server
            .admin(reqwest::Method::GET, "/api/v1/admin/orgs/acme/processes")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(processes[0]["slug"], "motor-claim");
        assert_eq!(processes[0]["latest_version"], 2);
        server.stop().await;
    }
);

on_both_backends!(
    a_json_definition_publishes_like_yaml,
    |backend: Backend| async move {
        let server = TestServer::start(backend).await;
        server.create_org("acme").await;
        let definition = json!({
            "slug": "callback",
            "title": "Request a call back",
            "steps": [{"id": "contact", "title": "Contact", "fields": [
                {"id": "phone", "type": "tel", "label": "Phone number", "required": true},
                {"id": "slot", "type": "choice", "label": "When?", "display": "select", "options": ["morning", "afternoon"]}
            ]}]
        });
        let published = server.publish("acme", &definition.to_string()).await;
        assert_eq!(published["version"], 1);
        let person = server.person();
        let page = person.start("acme", "callback").await;
        assert_eq!(page.label_for("f-slot").as_deref(), Some("When?"));
        let done = page
            .press(
                &person,
                "Submit",
                &[("phone", &["+31 20 123 4567"]), ("slot", &["afternoon"])],
            )
            .await;
        assert_eq!(done.heading(), "Thank you", "{}", done.html);
        let exported = server.export_jsonl("acme", "callback").await;
        assert_eq!(
            exported[0]["answers"],
            json!({"phone": "+31 20 123 4567", "slot": "afternoon"})
        );
        server.stop().await;
    }
);
