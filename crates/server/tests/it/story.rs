//! A story through the API as a client program would tell it, with tokens made by signing
//! in: a coordinator declares (escalate); the same person, also a reviewer, may not approve
//! it; a reviewer approves with a scope; the decision, the approval and the audit log say
//! so, and the log verifies.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::Reply;
use crate::world::{PASSWORD, Who, World, escalating, example};

/// Signs `login` in and makes an API token of `role` through the API; its secret.
async fn token(world: &World, login: &str, role: &str) -> String {
    let reply = world
        .app
        .call(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"login": login, "password": PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", text(&reply));
    let cookie = reply.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = reply.json()["csrf_token"].as_str().unwrap().to_owned();
    let reply = world
        .app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            Some(json!({"name": role, "role": role, "expires_in_days": 30})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", text(&reply));
    reply.json()["secret"].as_str().unwrap().to_owned()
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

async fn call(
    world: &World,
    secret: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let auth = format!("Bearer {secret}");
    world
        .app
        .call(method, path, &[("authorization", &auth)], body)
        .await
}

#[tokio::test]
async fn declare_refuse_self_review_approve_and_verify() {
    World::each(|world| async move {
        let p = world.production.id;
        // The admin adds `spare` to the production as coordinator and reviewer.
        let mut members: Vec<Value> = world
            .production
            .members
            .iter()
            .map(|m| json!({"person": m.person, "name": m.name, "roles": m.roles}))
            .collect();
        members
            .push(json!({"person": "spare", "name": "Sam", "roles": ["coordinator", "reviewer"]}));
        let reply = world
            .json(
                Who::Admin,
                Method::PUT,
                &format!("/api/v1/productions/{p}/members"),
                json!({ "members": members }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", text(&reply));

        let declares = token(&world, "spare", "coordinator").await;
        let reviews = token(&world, "spare", "reviewer").await;

        // Sam declares, in JSON; the decision comes back: escalate.
        let table: toml::Table = toml::from_str(&escalating()).unwrap();
        let reply = call(
            &world,
            &declares,
            Method::POST,
            &format!("/api/v1/declarations?production={p}"),
            Some(serde_json::to_value(table).unwrap()),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", text(&reply));
        let submitted = reply.json();
        assert_eq!(submitted["decision"]["level"], "escalate");
        assert_eq!(submitted["declaration"]["submitted_by"], "spare");
        let id = submitted["declaration"]["id"].as_str().unwrap().to_owned();
        let approvals = format!("/api/v1/declarations/{id}/approvals");
        let approve = json!({
            "verdict": "approved",
            "scope": ["props/letter_*.exr", format!("sha256:{}", "c".repeat(64))],
            "conditions": ["the letter's text is the studio's own"],
            "expires_at": "2027-06-30T00:00:00Z",
            "note": "fine for the insert shots",
        });

        // Sam, as reviewer, may not approve their own submission.
        let reply = call(
            &world,
            &reviews,
            Method::POST,
            &approvals,
            Some(approve.clone()),
        )
        .await;
        let problem = reply.problem(403);
        assert_eq!(problem["type"], "/problems/self-review", "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("spare submitted")
        );

        // The coordinator's token reviews nothing at all.
        let reply = world
            .json(Who::Coordinator, Method::POST, &approvals, approve.clone())
            .await;
        reply.problem(403);

        // Rae, a reviewer of the production, approves with a scope.
        let reply = world
            .json(Who::Reviewer, Method::POST, &approvals, approve.clone())
            .await;
        assert_eq!(reply.status, 201, "{}", text(&reply));
        let approval = reply.json();
        assert_eq!(approval["reviewer"], "rae");
        assert_eq!(approval["verdict"], "approved");
        assert_eq!(approval["scope"][0], "props/letter_*.exr");
        assert_eq!(approval["scope"][1], format!("sha256:{}", "c".repeat(64)));
        assert!(
            approval["expires_at"]
                .as_str()
                .unwrap()
                .starts_with("2027-06-30T00:00:00")
        );

        // The declaration shows its decision and the approval.
        let reply = call(
            &world,
            &declares,
            Method::GET,
            &format!("/api/v1/declarations/{id}"),
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{}", text(&reply));
        let shown = reply.json();
        assert_eq!(shown["decision"]["level"], "escalate");
        assert_eq!(shown["approvals"].as_array().unwrap().len(), 1);

        // The production's declarations, a page of one at a time.
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/productions/{p}/declarations?limit=1");
            if let Some(after) = &after {
                path.push_str(&format!("&after={after}"));
            }
            let reply = world.send(Who::Vendor, Method::GET, &path, None).await;
            assert_eq!(reply.status, 200, "{}", text(&reply));
            let page = reply.json();
            for d in page["declarations"].as_array().unwrap() {
                seen.push(d["id"].as_str().unwrap().to_owned());
            }
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, [world.declaration.clone(), id.clone()]);

        // The audit log: each change under its caller's login, no secret in it; it verifies.
        let reply = world
            .send(Who::Auditor, Method::GET, "/api/v1/audit?limit=1000", None)
            .await;
        assert_eq!(reply.status, 200, "{}", text(&reply));
        let log = reply.json();
        let entries = log["entries"].as_array().unwrap();
        let by = |actor: &str, kind: &str| {
            entries
                .iter()
                .any(|e| e["actor"] == actor && e["kind"] == kind && e["action"] == "create")
        };
        assert!(by("spare", "declaration"), "{log}");
        assert!(by("rae", "approval"), "{log}");
        assert!(by("ada", "production") || entries.iter().any(|e| e["actor"] == "ada"));
        let text_of_log = log.to_string();
        assert!(
            !text_of_log.contains("$argon2"),
            "a password hash was served"
        );
        assert!(!text_of_log.contains(&declares) && !text_of_log.contains(&reviews));
        let reply = world
            .send(Who::Auditor, Method::GET, "/api/v1/audit/verify", None)
            .await;
        assert_eq!(reply.status, 200, "{}", text(&reply));
        let report = reply.json();
        assert_eq!(report["ok"], true, "{report}");
        assert!(report["entries"].as_u64().unwrap() >= entries.len() as u64);
    })
    .await;
}

/// A production's overlays decide what the server triages with, as `greenlight declare` does:
/// with SAG-AFTRA's overlay, consent buried in standard terms is blocked (SAG-CONSENT) and the
/// decision names the overlay as a layer; without overlays, the same declaration is not.
#[tokio::test]
async fn a_production_is_triaged_with_its_overlays() {
    World::each(|world| async move {
        let p = world.production.id;
        let declaration = example("overlays/sag-consent-in-standard-terms.toml");
        let table: toml::Table = toml::from_str(&declaration).unwrap();
        let body = serde_json::to_value(table).unwrap();
        let path = format!("/api/v1/declarations?production={p}");
        let submit = || world.json(Who::Coordinator, Method::POST, &path, body.clone());
        let cites = |decision: &Value| -> Vec<String> {
            decision["findings"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|f| f["cites"].as_array().unwrap().clone())
                .map(|c| c.as_str().unwrap().to_owned())
                .collect()
        };
        // The pack on top and the packs it stands on.
        let layers = |decision: &Value| -> Vec<String> {
            let policy = &decision["policy"];
            let mut ids = vec![policy["id"].as_str().unwrap().to_owned()];
            for layer in policy["layers"].as_array().into_iter().flatten() {
                ids.push(layer["id"].as_str().unwrap().to_owned());
            }
            ids
        };

        world
            .ledger
            .set_overlays("admin", p, vec!["sag-aftra-2023".to_owned()])
            .await
            .unwrap();
        let reply = submit().await;
        assert_eq!(reply.status, 201, "{}", text(&reply));
        let decision = reply.json()["decision"]["decision"].clone();
        assert_eq!(decision["level"], "blocked", "{decision:#}");
        assert!(
            cites(&decision).contains(&"SAG-CONSENT".to_owned()),
            "{decision:#}"
        );
        assert!(
            layers(&decision).contains(&"sag-aftra-2023".to_owned()),
            "{decision:#}"
        );

        world
            .ledger
            .set_overlays("admin", p, Vec::new())
            .await
            .unwrap();
        let reply = submit().await;
        assert_eq!(reply.status, 201, "{}", text(&reply));
        let decision = reply.json()["decision"]["decision"].clone();
        assert!(
            !cites(&decision).contains(&"SAG-CONSENT".to_owned()),
            "{decision:#}"
        );
        assert!(
            !layers(&decision).contains(&"sag-aftra-2023".to_owned()),
            "{decision:#}"
        );
    })
    .await;
}
