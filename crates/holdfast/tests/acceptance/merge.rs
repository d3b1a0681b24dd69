//! The merge rule against the real server: a window showing an old answer never replaces a
//! newer one that was made elsewhere; the person sees both and chooses. Also one tab's batches
//! applied in seq order whatever order they arrive in.

use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, TestServer};

async fn patch(server: &TestServer, token: &str, body: Value) -> Value {
    let response = server
        .http()
        .patch(format!("{}/api/v1/sessions/{token}", server.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

on_both_backends!(
    a_stale_windows_next_does_not_wipe_a_newer_answer,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let person = server.person();
        let first = person.start("acme", "motor-claim").await;
        let link = first.path.clone();
        let token = link.trim_start_matches("/s/").to_owned();
        // Next with the step incomplete: the answers are saved, the step stays (422).
        let page = first
            .press(
                &person,
                "Next",
                &[
                    ("full_name", &["Ada Lovelace"]),
                    ("email", &["old@example.org"]),
                ],
            )
            .await;
        assert_eq!(page.status, 422);

        // Two windows on step 1, both showing the old email.
        let window_a = person.open(&link).await;
        let window_b = person.open(&link).await;
        assert_eq!(window_a.value("email"), "old@example.org");

        // B changes the email (and stays on the step, which is still incomplete).
        let after_b = window_b
            .press(&person, "Next", &[("email", &["new@example.org"])])
            .await;
        assert_eq!(after_b.status, 422);
        assert_eq!(
            server.session(&token).await["answers"]["email"],
            "new@example.org"
        );

        // A, still showing the old email, fills in the rest and presses Next.
        let after_a = window_a
            .press(
                &person,
                "Next",
                &[
                    ("policy_number", &["AB123456"]),
                    ("phone", &["+44 20 7946 0000"]),
                ],
            )
            .await;
        assert_eq!(after_a.status, 409, "{}", after_a.html);
        assert_eq!(after_a.heading(), "About you", "A stays on the step");
        let error = after_a
            .field_error("email")
            .expect("a message at the email");
        assert!(
            error.contains("new@example.org"),
            "names the other value: {error}"
        );
        assert!(after_a.alert().is_some(), "an error summary");
        assert_eq!(
            after_a.value("email"),
            "old@example.org",
            "A's own answer is shown"
        );
        let held = server.session(&token).await;
        assert_eq!(held["answers"]["email"], "new@example.org", "not wiped");
        assert_eq!(
            held["answers"]["policy_number"], "AB123456",
            "the rest is saved"
        );
        assert_eq!(held["current_step"], 0);

        // A has seen both and presses Next again: their own answer is kept, on purpose.
        let chosen = after_a.press(&person, "Next", &[]).await;
        assert_eq!(chosen.status, 200, "{}", chosen.html);
        assert_eq!(chosen.heading(), "The incident");
        assert_eq!(
            server.session(&token).await["answers"]["email"],
            "old@example.org"
        );
    }
);

on_both_backends!(
    autosaves_merge_by_seq_and_base_and_name_their_conflicts,
    |backend: Backend| async move {
        let server = TestServer::with_motor_claim(backend).await;
        let token = server.open_session("acme", "motor-claim", json!({})).await;

        // Tab A's batch 2 overtakes its batch 1.
        let two = patch(
            &server,
            &token,
            json!({"client": "a", "seq": 2, "base": 0, "answers": {"full_name": "Mary Jackson"}}),
        )
        .await;
        assert_eq!(two["conflicts"], json!([]));
        let one = patch(
            &server,
            &token,
            json!({"client": "a", "seq": 1, "base": 0,
                   "answers": {"full_name": "Mary", "email": "mary@example.org"}}),
        )
        .await;
        assert_eq!(one["answers"]["full_name"], "Mary Jackson");
        assert_eq!(one["answers"]["email"], "mary@example.org");
        assert_eq!(one["conflicts"], json!([]));

        // Tab B (seen revision 2) changes the email; tab A's next batch still has revision 2.
        let b = patch(
            &server,
            &token,
            json!({"client": "b", "seq": 1, "base": 2, "answers": {"email": "jack@example.org"}}),
        )
        .await;
        assert_eq!(b["revision"], 3);
        let stale = patch(
            &server,
            &token,
            json!({"client": "a", "seq": 3, "base": 2, "answers": {"email": "m.j@example.org"}}),
        )
        .await;
        assert_eq!(
            stale["conflicts"],
            json!([{"field": "email", "yours": "m.j@example.org", "theirs": "jack@example.org"}])
        );
        assert_eq!(stale["answers"]["email"], "jack@example.org");
        // Its replay (the answer lost on the way) says the same.
        let replay = patch(
            &server,
            &token,
            json!({"client": "a", "seq": 3, "base": 2, "answers": {"email": "m.j@example.org"}}),
        )
        .await;
        assert_eq!(replay["duplicate"], true);
        assert_eq!(replay["conflicts"], stale["conflicts"]);
        let session = server.session(&token).await;
        assert_eq!(session["answers"]["email"], "jack@example.org");
        assert_eq!(session["answers"]["full_name"], "Mary Jackson");
    }
);
