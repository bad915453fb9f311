//! Requests for changes over the API: `POST /api/v1/declarations/{id}/change-requests` asks
//! for changes to the latest version (the production's reviewers and legal only, with a
//! note), `GET` lists them with whether each still stands; a new version answers one, and a
//! version already reviewed takes no request.

use axum::http::Method;
use serde_json::json;

use crate::world::{Who, World, escalating};

fn path(world: &World) -> String {
    format!("/api/v1/declarations/{}/change-requests", world.declaration)
}

#[tokio::test]
async fn only_the_productions_reviewers_and_legal_ask_for_changes() {
    World::each(|world| async move {
        let path = path(&world);
        let note = json!({"note": "name the generator's version"});
        for who in [
            Who::Coordinator,
            Who::Vendor,
            Who::Auditor,
            Who::Admin,
            Who::Other,
        ] {
            let reply = world.json(who, Method::POST, &path, note.clone()).await;
            reply.problem(403);
        }
        world
            .json(Who::Nobody, Method::POST, &path, note.clone())
            .await
            .problem(401);
        // A token's first use is recorded: use the reviewer's first, so the counts below see
        // only what the requests write.
        world
            .send(Who::Reviewer, Method::GET, "/api/v1/me", None)
            .await;
        let before = world.audit_len().await;
        let reply = world.json(Who::Reviewer, Method::POST, &path, note).await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let asked = reply.json();
        assert_eq!(asked["reviewer"], "rae");
        assert_eq!(asked["declaration_version"], 1);
        assert_eq!(asked["note"], "name the generator's version");
        assert_eq!(asked["open"], true);
        // One audited record.
        assert_eq!(world.audit_len().await, before + 1);

        // Every member and the auditor read them; another production's coordinator does not.
        for who in [Who::Coordinator, Who::Reviewer, Who::Auditor] {
            let reply = world.send(who, Method::GET, &path, None).await;
            assert_eq!(reply.status, 200, "{who:?}");
            let list = reply.json();
            assert_eq!(list["change_requests"][0]["id"], asked["id"], "{list}");
            assert_eq!(list["change_requests"][0]["open"], true);
        }
        world
            .send(Who::Other, Method::GET, &path, None)
            .await
            .problem(403);

        // Legal asks again; the declaration is still undecided (escalated, unreviewed).
        let again = world
            .json(
                Who::Legal,
                Method::POST,
                &path,
                json!({"note": "and the prompt"}),
            )
            .await;
        assert_eq!(again.status, 201);
        let approvals = world
            .send(
                Who::Coordinator,
                Method::GET,
                &format!("/api/v1/declarations/{}/approvals", world.declaration),
                None,
            )
            .await
            .json();
        assert_eq!(approvals["approvals"], json!([]));

        // A new version answers them: none stands any more.
        let revised = world
            .send(
                Who::Coordinator,
                Method::POST,
                &format!("/api/v1/declarations/{}/versions", world.declaration),
                Some(("application/toml", escalating())),
            )
            .await;
        assert_eq!(
            revised.status,
            201,
            "{}",
            String::from_utf8_lossy(&revised.body)
        );
        let list = world
            .send(Who::Reviewer, Method::GET, &path, None)
            .await
            .json();
        let requests = list["change_requests"].as_array().unwrap();
        assert_eq!(requests.len(), 2);
        assert!(requests.iter().all(|r| r["open"] == false), "{list}");
    })
    .await;
}

#[tokio::test]
async fn a_request_for_changes_needs_a_note_and_an_unreviewed_escalation() {
    World::each(|world| async move {
        let path = path(&world);
        // A token's first use is recorded: use the reviewer's first, so the counts below see
        // only what the requests write.
        world
            .send(Who::Reviewer, Method::GET, "/api/v1/me", None)
            .await;
        let before = world.audit_len().await;
        for note in ["", "   "] {
            let problem = world
                .json(Who::Reviewer, Method::POST, &path, json!({"note": note}))
                .await
                .problem(422);
            assert_eq!(problem["type"], "/problems/bad-input", "{problem}");
            assert!(
                problem["detail"].as_str().unwrap().contains("note"),
                "{problem}"
            );
        }
        let long = "x".repeat(greenlight_store::MAX_CHANGE_NOTE + 1);
        world
            .json(Who::Reviewer, Method::POST, &path, json!({"note": long}))
            .await
            .problem(422);
        // No note at all, a field of another route, the wrong type.
        world
            .json(Who::Reviewer, Method::POST, &path, json!({}))
            .await
            .problem(400);
        world
            .json(
                Who::Reviewer,
                Method::POST,
                &path,
                json!({"note": "x", "verdict": "approved"}),
            )
            .await
            .problem(400);
        world
            .json(Who::Reviewer, Method::POST, &path, json!({"note": 7}))
            .await
            .problem(400);
        // No such declaration, a malformed id.
        let missing = "/api/v1/declarations/0190f0e0-0000-7000-8000-000000000000/change-requests";
        world
            .json(Who::Reviewer, Method::POST, missing, json!({"note": "x"}))
            .await
            .problem(404);
        world
            .json(
                Who::Reviewer,
                Method::POST,
                "/api/v1/declarations/nope/change-requests",
                json!({"note": "x"}),
            )
            .await
            .problem(422);
        assert_eq!(world.audit_len().await, before, "a refused request wrote");

        // Once the version is approved, it takes no request for changes.
        let approved = world
            .json(
                Who::Reviewer,
                Method::POST,
                &format!("/api/v1/declarations/{}/approvals", world.declaration),
                json!({"verdict": "approved", "scope": ["props/**"]}),
            )
            .await;
        assert_eq!(approved.status, 201);
        let problem = world
            .json(Who::Legal, Method::POST, &path, json!({"note": "too late"}))
            .await
            .problem(409);
        assert_eq!(problem["type"], "/problems/already-done", "{problem}");

        // A notify-level declaration waits for no review.
        let notify = world
            .send(
                Who::Coordinator,
                Method::POST,
                &format!("/api/v1/declarations?production={}", world.production.id),
                Some((
                    "application/toml",
                    crate::world::for_the_long_night("body-mockup-exploration.toml"),
                )),
            )
            .await;
        assert_eq!(
            notify.status,
            201,
            "{}",
            String::from_utf8_lossy(&notify.body)
        );
        let body = notify.json();
        assert_eq!(body["decision"]["level"], "notify", "{body}");
        let id = body["declaration"]["id"].as_str().unwrap();
        let problem = world
            .json(
                Who::Reviewer,
                Method::POST,
                &format!("/api/v1/declarations/{id}/change-requests"),
                json!({"note": "why"}),
            )
            .await
            .problem(409);
        assert_eq!(problem["type"], "/problems/not-escalated", "{problem}");
    })
    .await;
}
