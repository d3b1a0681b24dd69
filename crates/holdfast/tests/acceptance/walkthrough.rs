//! A person without JavaScript files the example motor claim from start to finish: fills in,
//! makes mistakes, goes back, leaves, resumes from the link in another browser, submits twice;
//! the operator's export holds every answer.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, TestServer};

on_both_backends!(
    a_person_files_the_motor_claim_without_javascript,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let person = server.person();

        // Start: a session, and its resume link.
        let page = person.start("acme", "motor-claim").await;
        assert_eq!(page.status, 200);
        assert!(
            page.path.starts_with("/s/"),
            "redirected to the resume link: {}",
            page.path
        );
        let resume_link = page.path.clone();
        assert_eq!(page.heading(), "About you");
        assert!(page.has_button("Next"));
        assert!(!page.has_button("Back"), "no Back on the first step");
        assert_eq!(page.label_for("f-full_name").as_deref(), Some("Full name"));
        assert_eq!(page.label_for("f-email").as_deref(), Some("Email address"));

        // Next with nothing filled in: an error summary and a message at each required field.
        let page = page
            .press(&person, "Next", &[("full_name", &["Ada Lovelace"])])
            .await;
        assert_eq!(page.status, 422);
        assert_eq!(page.heading(), "About you");
        let alert = page.alert().expect("an error summary with role=alert");
        assert!(alert.contains("Email address"), "{alert}");
        assert!(alert.contains("Policy number"), "{alert}");
        assert!(page.field_error("email").is_some());
        assert!(page.field_error("full_name").is_none());
        assert_eq!(
            page.value("full_name"),
            "Ada Lovelace",
            "what was typed stays"
        );

        // A wrong policy number gets the definition's own message; the typed text is kept.
        let page = page
            .press(
                &person,
                "Next",
                &[
                    ("email", &["ada@example.org"]),
                    ("policy_number", &["ab12"]),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert_eq!(
            page.field_error("policy_number").as_deref(),
            Some("Two capital letters followed by six digits, for example AB123456")
        );
        assert_eq!(page.value("policy_number"), "ab12");
        assert_eq!(page.value("email"), "ada@example.org");

        let page = page
            .press(
                &person,
                "Next",
                &[
                    ("policy_number", &["AB123456"]),
                    ("phone", &["+44 20 7946 0000"]),
                ],
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert_eq!(page.heading(), "The incident");
        assert!(page.has_button("Back"));
        assert_eq!(
            page.legend_of("injured").as_deref(),
            Some("Was anyone injured?")
        );
        assert_eq!(
            page.legend_of("damage").as_deref(),
            Some("What was damaged?")
        );
        assert!(
            !page.shows_field("injury_details"),
            "shown only if someone was injured"
        );

        // Someone was injured: the details field appears, required.
        let page = page
            .press(
                &person,
                "Next",
                &[
                    ("incident_date", &["2026-11-20"]),
                    ("vehicle", &["van"]),
                    ("injured", &["yes"]),
                    ("damage", &["bodywork", "lights"]),
                    ("estimate", &["1250.50"]),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.shows_field("injury_details"));
        assert!(page.field_error("injury_details").is_some());
        assert_eq!(page.values("damage"), vec!["bodywork", "lights"]);

        // Back to the first step: everything is still there.
        let page = page
            .press(
                &person,
                "Back",
                &[("injury_details", &["A sprained wrist"])],
            )
            .await;
        assert_eq!(page.heading(), "About you");
        assert_eq!(page.value("full_name"), "Ada Lovelace");
        assert_eq!(page.value("policy_number"), "AB123456");
        assert_eq!(page.value("phone"), "+44 20 7946 0000");

        let page = page.press(&person, "Next", &[]).await;
        assert_eq!(page.heading(), "The incident");
        assert_eq!(page.value("injury_details"), "A sprained wrist");
        assert_eq!(page.value("vehicle"), "van");
        assert_eq!(page.value("injured"), "yes");
        let page = page.press(&person, "Next", &[]).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert_eq!(page.heading(), "Confirm");
        assert!(page.has_button("Submit"));
        let page = page
            .press(
                &person,
                "Submit",
                &[("account_holder", &["Ada Lovelace & Co <Ltd>"])],
            )
            .await;
        assert_eq!(page.status, 422, "the consent is required");
        assert!(page.field_error("agree").is_some());
        assert!(!page.html.contains("<Ltd>"), "escaped, not raw HTML");
        assert_eq!(page.value("account_holder"), "Ada Lovelace & Co <Ltd>");

        // The person leaves, and comes back on another device with the link.
        let other_device = server.person();
        let page = other_device.open(&resume_link).await;
        assert_eq!(page.status, 200);
        assert_eq!(
            page.heading(),
            "Confirm",
            "resumes at the step where they were"
        );
        assert_eq!(page.value("account_holder"), "Ada Lovelace & Co <Ltd>");
        let submit_form = page.form_state();

        let done = page
            .press(&other_device, "Submit", &[("agree", &["yes"])])
            .await;
        assert_eq!(done.status, 200, "{}", done.html);
        assert_eq!(done.heading(), "Thank you");

        // The same Submit again (back button, double click): no second submission.
        let mut replay = submit_form.clone();
        replay.push(("agree".to_owned(), "yes".to_owned()));
        replay.push(("_action".to_owned(), "submit".to_owned()));
        let again = other_device.post(&resume_link, &replay).await;
        assert_eq!(again.heading(), "Thank you");
        let again = person.open(&resume_link).await;
        assert_eq!(again.heading(), "Thank you");

        let exported = server.export_jsonl("acme", "motor-claim").await;
        assert_eq!(exported.len(), 1, "exactly one submission: {exported:?}");
        assert_eq!(
            exported[0]["answers"],
            json!({
                "full_name": "Ada Lovelace",
                "email": "ada@example.org",
                "phone": "+44 20 7946 0000",
                "policy_number": "AB123456",
                "incident_date": "2026-11-20",
                "vehicle": "van",
                "injured": true,
                "injury_details": "A sprained wrist",
                "damage": ["bodywork", "lights"],
                "estimate": 1250.5,
                "account_holder": "Ada Lovelace & Co <Ltd>",
                "agree": true,
            })
        );
        assert_eq!(exported[0]["version"], 1);

        // The CSV export has one row, one column per field, in the definition's order.
        let csv = server
            .admin(
                reqwest::Method::GET,
                "/api/v1/admin/orgs/acme/processes/motor-claim/submissions?format=csv",
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "submission_id,submitted_at,version,full_name,email,phone,policy_number,incident_date,vehicle,injured,injury_details,damage,estimate,account_holder,agree"
            )
        );
        let row = lines.next().expect("one row");
        assert!(row.ends_with(",1,Ada Lovelace,ada@example.org,+44 20 7946 0000,AB123456,2026-11-20,van,true,A sprained wrist,bodywork; lights,1250.5,Ada Lovelace & Co <Ltd>,true"), "{row}");
        assert_eq!(lines.next(), None);
        server.stop().await;
    }
);

on_both_backends!(
    hidden_answers_stay_out_of_the_submission,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let token = server
        .open_session(
            "acme",
            "motor-claim",
            json!({
                "full_name": "Grace Hopper", "email": "grace@example.org", "policy_number": "CD654321",
                "incident_date": "2026-10-01", "vehicle": "car", "injured": true,
                "injury_details": "Bruises", "account_holder": "Grace Hopper", "agree": true
            }),
        )
        .await;
        // The person then says nobody was injured: the details are hidden and not submitted.
        let person = server.person();
        let page = person.open(&format!("/s/{token}")).await;
        assert_eq!(page.heading(), "About you");
        let page = page.press(&person, "Next", &[]).await;
        let page = page.press(&person, "Next", &[("injured", &["no"])]).await;
        assert_eq!(page.heading(), "Confirm", "{}", page.html);
        let done = page.press(&person, "Submit", &[]).await;
        assert_eq!(done.heading(), "Thank you");
        let exported = server.export_jsonl("acme", "motor-claim").await;
        assert_eq!(exported.len(), 1);
        assert_eq!(exported[0]["answers"]["injured"], json!(false));
        assert!(
            exported[0]["answers"].get("injury_details").is_none(),
            "{:?}",
            exported[0]
        );
        server.stop().await;
    }
);

on_both_backends!(
    submitting_twice_through_the_api_makes_one_submission,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let token = server
        .open_session(
            "acme",
            "motor-claim",
            json!({
                "full_name": "Alan Turing", "email": "alan@example.org", "policy_number": "EF111111",
                "incident_date": "2026-09-09", "vehicle": "motorbike", "injured": false,
                "account_holder": "Alan Turing", "agree": true
            }),
        )
        .await;
        let submit = |key: &'static str| {
            server
                .http()
                .post(format!("{}/api/v1/sessions/{token}/submit", server.url))
                .header("Idempotency-Key", key)
                .send()
        };
        // Eight submits at once, as an impatient double (or octuple) click.
        let answers = futures_join_all((0..8).map(|_| submit("click-1"))).await;
        let mut ids = Vec::new();
        for response in answers {
            let response = response.unwrap();
            assert_eq!(response.status(), 201);
            let body: serde_json::Value = response.json().await.unwrap();
            ids.push(body["id"].as_str().unwrap().to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every answer names the same submission");
        let retried: serde_json::Value = submit("click-1").await.unwrap().json().await.unwrap();
        assert_eq!(retried["id"], ids[0].as_str());
        assert_eq!(server.export_jsonl("acme", "motor-claim").await.len(), 1);
        let session = server.session(&token).await;
        assert_eq!(session["submitted"], true);
        assert_eq!(session["submission_id"], ids[0].as_str());
        server.stop().await;
    }
);

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
