//! The merge rule: what "the last answer" is when tabs, devices, retries and reorderings
//! interleave. Every change goes through it, in the change writer, under the write lock.
//!
//! A change is one client's numbered batch (`client`, `seq`) made on the session as it was at
//! revision `base`. The session remembers, for each answer, who last wrote it and at which
//! revision ([`FieldWrite`]). For each answer of a change:
//!
//! 1. **Same**: the session already holds that value. Nothing to do.
//! 2. **Superseded**: the same client wrote the answer in a later batch (a higher `seq`) that
//!    arrived first. Within one client changes apply in `seq` order, whatever order they
//!    arrive in, so the older value is not applied.
//! 3. **Apply**: the same client wrote the answer last (in an earlier batch), or the answer was
//!    last written at or before `base` — the client had seen it. The value is set.
//! 4. **Conflict**: someone else changed the answer after `base`. The change was made on a
//!    stale view of it and does not replace the newer value. The outcome names the field; the
//!    client shows the person both values and lets them choose (choosing theirs again is a new
//!    change whose base has seen the other value, so rule 3 applies).
//!
//! A change without a `base` is taken as made on revision 0: it replaces no answer that
//! anybody else has written since the session began. Rules 2 and 3's "same client" needs both
//! a client and a seq: plain HTML form posts (no seq) rely on their base alone.
//!
//! The rule is deterministic and needs only the session row, so it holds on both backends and
//! across nodes: whichever node applies a change, it sees the writes of every change before it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Change, Millis, Session};

/// Who last wrote an answer of a session, by field id. A field that is missing was not written
/// since the session began (or since before this rule existed): as if written at revision 0.
pub type FieldWrites = BTreeMap<String, FieldWrite>;

/// The last write of one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldWrite {
    /// The revision the write produced.
    #[serde(rename = "r")]
    pub revision: i64,
    /// The client that wrote it, if known.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// That client's seq, if it numbers its batches.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

/// What the rule decides for one answer of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The session holds this value already.
    Same,
    /// A later batch of the same client wrote the answer.
    Superseded,
    /// The value is set.
    Apply,
    /// Another writer changed the answer after the change's base.
    Conflict,
}

/// Decides one answer (`field` set to `value`; `null` removes it) of `change` against the
/// session as it is.
pub fn decide(session: &Session, change: &Change, field: &str, value: &Value) -> Decision {
    let wanted = (!value.is_null()).then_some(value);
    if session.answers.get(field) == wanted {
        return Decision::Same;
    }
    let Some(write) = session.writes.get(field) else {
        return Decision::Apply;
    };
    let same_client = match (&change.client, change.seq, &write.client, write.seq) {
        (Some(client), Some(_), Some(writer), Some(_)) => client == writer,
        _ => false,
    };
    if same_client {
        if write.seq > change.seq {
            return Decision::Superseded;
        }
        return Decision::Apply;
    }
    if write.revision <= change.base.unwrap_or(0) {
        Decision::Apply
    } else {
        Decision::Conflict
    }
}

/// Applies `change` to `session` by the rule: sets each answer the rule applies (recording
/// the write), moves the step if the change gives one, and counts the next revision. A change
/// is counted (and logged) even if none of its answers applied: its (client, seq) is spent.
pub fn apply(session: &mut Session, change: &Change, now: Millis) {
    let revision = session.revision + 1;
    for (field, value) in &change.answers {
        if decide(session, change, field, value) != Decision::Apply {
            continue;
        }
        if value.is_null() {
            session.answers.remove(field);
        } else {
            session.answers.insert(field.clone(), value.clone());
        }
        session.writes.insert(
            field.clone(),
            FieldWrite {
                revision,
                client: change.client.clone(),
                seq: change.seq,
            },
        );
    }
    if let Some(step) = change.current_step {
        session.current_step = step;
    }
    session.revision = revision;
    session.updated_at = now;
}

/// The answers of `change` that `session` does not hold as the change set them, other than
/// those a later batch of the same client replaced: the conflicts to show the person.
///
/// Asked after the change was applied, or of a replayed change (its first answer may have been
/// lost on the way), it tells the same: what the person still has to choose.
pub fn conflicts(session: &Session, change: &Change) -> Vec<String> {
    change
        .answers
        .iter()
        .filter(|(field, value)| {
            !matches!(
                decide(session, change, field, value),
                Decision::Same | Decision::Superseded
            )
        })
        .map(|(field, _)| field.clone())
        .collect()
}

/// How many answers of a session are not what its change log says they should be: the log
/// (oldest first) is replayed by the rule over the answers it never touched, and every answer
/// the replay ends with differently from `stored` counts once. A change whose `base` is
/// negative was logged before the rule and is replayed as it was applied, last write wins.
///
/// Zero unless something lost or overwrote an answer behind the rule's back: the figure a
/// maintenance report gives as "changes lost", with the gaps in each client's seqs.
pub fn answers_lost(stored: &crate::model::Answers, log: &[Change]) -> i64 {
    let touched: std::collections::BTreeSet<&String> = log
        .iter()
        .flat_map(|change| change.answers.keys())
        .collect();
    let mut replay = Session {
        id: crate::model::SessionId(0),
        org_id: crate::model::OrgId(0),
        version_id: crate::model::VersionId(0),
        answers: stored
            .iter()
            .filter(|(field, _)| !touched.contains(field))
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect(),
        writes: FieldWrites::new(),
        current_step: 0,
        revision: 0,
        created_at: 0,
        updated_at: 0,
        submitted_at: None,
        submission_id: None,
    };
    for change in log {
        if change.base.is_some_and(|base| base < 0) {
            let legacy = Change {
                base: Some(i64::MAX),
                client: None,
                seq: None,
                ..change.clone()
            };
            apply(&mut replay, &legacy, 0);
        } else {
            apply(&mut replay, change, 0);
        }
    }
    let lost = touched
        .into_iter()
        .filter(|field| replay.answers.get(*field) != stored.get(*field))
        .count();
    i64::try_from(lost).unwrap_or(i64::MAX)
}

/// Reads stored writes back; anything but a JSON object of writes is corrupt (`Err` names
/// what is wrong).
pub(crate) fn parse_writes(text: &str) -> Result<FieldWrites, String> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

/// The writes as stored.
pub(crate) fn writes_json(writes: &FieldWrites) -> String {
    // A map of strings to plain structs cannot fail to serialise.
    serde_json::to_string(writes).unwrap_or_else(|error| unreachable!("writes are JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Answers, OrgId, SessionId, VersionId};
    use serde_json::json;

    fn session() -> Session {
        Session {
            id: SessionId(1),
            org_id: OrgId(1),
            version_id: VersionId(1),
            answers: Answers::new(),
            writes: FieldWrites::new(),
            current_step: 0,
            revision: 0,
            created_at: 0,
            updated_at: 0,
            submitted_at: None,
            submission_id: None,
        }
    }

    fn change(client: &str, seq: i64, base: i64, answers: Value) -> Change {
        Change {
            client: Some(client.to_owned()),
            seq: Some(seq),
            base: Some(base),
            answers: answers.as_object().cloned().unwrap_or_default(),
            current_step: None,
        }
    }

    #[test]
    fn a_change_sets_replaces_and_removes_answers() {
        let mut s = session();
        s.answers = json!({"a": 1, "b": "x", "c": true})
            .as_object()
            .cloned()
            .unwrap_or_default();
        apply(
            &mut s,
            &change("t", 1, 0, json!({"a": 2, "b": null, "d": [1]})),
            5,
        );
        assert_eq!(
            Value::Object(s.answers.clone()),
            json!({"a": 2, "c": true, "d": [1]})
        );
        assert_eq!((s.revision, s.updated_at), (1, 5));
        assert_eq!(s.writes.keys().collect::<Vec<_>>(), ["a", "b", "d"]);
    }

    #[test]
    fn one_clients_batches_apply_in_seq_order_whatever_order_they_arrive_in() {
        let mut s = session();
        let later = change("a", 2, 0, json!({"name": "Mary Jackson", "city": "Leeds"}));
        let earlier = change("a", 1, 0, json!({"name": "Mary", "email": "m@x.org"}));
        apply(&mut s, &later, 1);
        apply(&mut s, &earlier, 2);
        assert_eq!(s.answers["name"], "Mary Jackson");
        assert_eq!(
            s.answers["email"], "m@x.org",
            "the older batch's other answers apply"
        );
        assert_eq!(s.revision, 2);
        assert!(
            conflicts(&s, &earlier).is_empty(),
            "superseded is not a conflict"
        );
        assert!(conflicts(&s, &later).is_empty());
    }

    #[test]
    fn a_stale_view_never_replaces_a_newer_answer_of_someone_else() {
        let mut s = session();
        apply(&mut s, &change("a", 1, 0, json!({"email": "old@x.org"})), 1);
        // Tab B saw revision 1 and changes the email.
        apply(&mut s, &change("b", 1, 1, json!({"email": "new@x.org"})), 2);
        // Tab A, still on revision 1, sends the old email and a new phone.
        let stale = change("a", 2, 1, json!({"email": "old@x.org", "phone": "123"}));
        apply(&mut s, &stale, 3);
        assert_eq!(s.answers["email"], "new@x.org");
        assert_eq!(s.answers["phone"], "123");
        assert_eq!(conflicts(&s, &stale), vec!["email".to_owned()]);
        // Having seen B's value (revision 3), A keeps its own: applied.
        let chosen = change("a", 3, 3, json!({"email": "old@x.org"}));
        apply(&mut s, &chosen, 4);
        assert_eq!(s.answers["email"], "old@x.org");
        assert!(conflicts(&s, &chosen).is_empty());
    }

    #[test]
    fn a_form_post_without_seq_relies_on_its_base() {
        let mut s = session();
        apply(
            &mut s,
            &change("tab", 1, 0, json!({"email": "new@x.org"})),
            1,
        );
        let post = Change {
            client: Some("form".to_owned()),
            seq: None,
            base: Some(0),
            answers: json!({"email": "old@x.org"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            current_step: Some(1),
        };
        apply(&mut s, &post, 2);
        assert_eq!(s.answers["email"], "new@x.org");
        assert_eq!(s.current_step, 1);
        assert_eq!(conflicts(&s, &post), vec!["email".to_owned()]);
    }

    #[test]
    fn removing_an_answer_is_a_write_like_any_other() {
        let mut s = session();
        apply(&mut s, &change("a", 1, 0, json!({"x": 1})), 1);
        apply(&mut s, &change("a", 2, 1, json!({"x": null})), 2);
        assert!(!s.answers.contains_key("x"));
        let stale = change("b", 1, 1, json!({"x": 5}));
        apply(&mut s, &stale, 3);
        assert!(!s.answers.contains_key("x"), "B had not seen the removal");
        assert_eq!(conflicts(&s, &stale), vec!["x".to_owned()]);
    }

    #[test]
    fn a_replay_of_the_log_finds_answers_lost_behind_the_rules_back() {
        let mut s = session();
        s.answers = json!({"policy": "P-1"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let log = vec![
            change("a", 2, 0, json!({"name": "Mary Jackson"})),
            change("a", 1, 0, json!({"name": "Mary", "city": "Leeds"})),
            change("b", 1, 0, json!({"city": "York"})),
        ];
        for (at, c) in log.iter().enumerate() {
            apply(&mut s, c, at as i64);
        }
        assert_eq!(answers_lost(&s.answers, &log), 0, "as the rule left them");
        // An older value put back behind the rule's back (as arrival order once did).
        s.answers.insert("name".to_owned(), json!("Mary"));
        assert_eq!(answers_lost(&s.answers, &log), 1);
        // Changes logged before the rule replay last-write-wins.
        let legacy: Vec<Change> = log
            .iter()
            .map(|c| Change {
                base: Some(-1),
                ..c.clone()
            })
            .collect();
        let arrival = json!({"policy": "P-1", "name": "Mary", "city": "York"});
        assert_eq!(
            answers_lost(arrival.as_object().unwrap_or(&Answers::new()), &legacy),
            0
        );
    }

    #[test]
    fn writes_round_trip_compactly() {
        let mut writes = FieldWrites::new();
        writes.insert(
            "email".to_owned(),
            FieldWrite {
                revision: 7,
                client: Some("tab".to_owned()),
                seq: Some(3),
            },
        );
        writes.insert(
            "phone".to_owned(),
            FieldWrite {
                revision: 2,
                client: None,
                seq: None,
            },
        );
        let text = writes_json(&writes);
        assert_eq!(text, r#"{"email":{"r":7,"c":"tab","s":3},"phone":{"r":2}}"#);
        assert_eq!(parse_writes(&text), Ok(writes));
        assert!(parse_writes("[1]").is_err());
    }
}
