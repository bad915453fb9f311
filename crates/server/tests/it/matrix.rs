//! The authorization matrix: every route the OpenAPI document lists × every kind of caller
//! (each production role, the auditor and the admin, another production's member, no
//! credential, an expired token, a revoked token) against the allowed or denied it expects.
//! A route without a row fails the test, as does a row without a route.
//!
//! Allowed means anything but 401 and 403 (the request may still be refused by a rule of
//! the ledger, or find the record already in the state asked for); denied means 401 or
//! 403, and always 401 without a working credential.

use axum::http::Method;
use serde_json::json;

use crate::support::root;
use crate::world::{Who, World, escalating};

/// Each route with who may call it, in `Who::ALL`'s order: coordinator, vendor, reviewer,
/// legal, auditor, admin, another production's member, no login, expired token, revoked
/// token (all with API tokens), and the admin signed in with a password (`Y` allowed, `-`
/// denied). Written by hand from the role table in words
/// (`greenlight_store::authz`), not computed from it.
const MATRIX: &[(&str, &str, &str)] = &[
    // No account needed.
    ("get", "/healthz", "YYYYYYYYYYY"),
    ("get", "/readyz", "YYYYYYYYYYY"),
    ("post", "/api/v1/assess", "YYYYYYYYYYY"),
    ("get", "/api/v1/policy", "YYYYYYYYYYY"),
    ("post", "/api/v1/policy/check", "YYYYYYYYYYY"),
    ("get", "/api/v1/openapi.json", "YYYYYYYYYYY"),
    ("post", "/api/v1/session", "YYYYYYYYYYY"),
    // OIDC sign-in needs no account either (here no provider is configured: 404 for all).
    ("get", "/api/v1/session/oidc", "YYYYYYYYYYY"),
    ("get", "/api/v1/session/oidc/callback", "YYYYYYYYYYY"),
    // Accounts: a token is no session, never manages tokens, and never manages users: the
    // admin does those signed in.
    ("delete", "/api/v1/session", "----------Y"),
    ("get", "/api/v1/me", "YYYYYYY---Y"),
    ("get", "/api/v1/tokens", "----------Y"),
    ("post", "/api/v1/tokens", "----------Y"),
    ("delete", "/api/v1/tokens/{id}", "----------Y"),
    ("get", "/api/v1/users", "----------Y"),
    ("post", "/api/v1/users", "----------Y"),
    ("put", "/api/v1/users/{login}/roles", "----------Y"),
    // Productions: everyone lists (and sees their own); admins create and staff them.
    ("get", "/api/v1/productions", "YYYYYYY---Y"),
    ("post", "/api/v1/productions", "-----Y----Y"),
    ("get", "/api/v1/productions/{id}", "YYYYYY----Y"),
    ("put", "/api/v1/productions/{id}/members", "-----Y----Y"),
    (
        "get",
        "/api/v1/productions/{id}/declarations",
        "YYYYY------",
    ),
    ("post", "/api/v1/productions/{id}/reassess", "---YYY----Y"),
    // A production's report holds its declarations, consents and scans: who reads all three.
    ("get", "/api/v1/productions/{id}/report", "--YYY------"),
    // Registries: read by every account, changed by admins.
    ("get", "/api/v1/tools", "YYYYYYY---Y"),
    ("post", "/api/v1/tools", "-----Y----Y"),
    ("get", "/api/v1/tools/{id}", "YYYYYYY---Y"),
    ("put", "/api/v1/tools/{id}/terms", "-----Y----Y"),
    ("get", "/api/v1/performers", "YYYYYYY---Y"),
    ("post", "/api/v1/performers", "-----Y----Y"),
    ("get", "/api/v1/performers/{id}", "YYYYYYY---Y"),
    // Consents: reviewers, legal and auditors read them; legal records them.
    ("get", "/api/v1/performers/{id}/consents", "YYYYYYY---Y"),
    ("post", "/api/v1/consents", "---Y-------"),
    ("get", "/api/v1/consents/{id}", "--YYY------"),
    ("post", "/api/v1/consents/{id}/document", "---Y-------"),
    ("post", "/api/v1/consents/{id}/revocation", "---Y-------"),
    ("post", "/api/v1/consents/sweep", "-----Y----Y"),
    // Declarations: coordinators and vendors declare; every member and auditors read; admins
    // do not read them.
    ("post", "/api/v1/declarations", "YY---------"),
    ("get", "/api/v1/declarations/{id}", "YYYYY------"),
    ("get", "/api/v1/declarations/{id}/versions", "YYYYY------"),
    ("post", "/api/v1/declarations/{id}/versions", "YY---------"),
    ("post", "/api/v1/declarations/{id}/retriage", "YYYY-------"),
    (
        "get",
        "/api/v1/declarations/{id}/notifications",
        "YYYYYY----Y",
    ),
    // The notification outbox (every production's): admins only, with a token too.
    ("get", "/api/v1/outbox", "-----Y----Y"),
    ("post", "/api/v1/outbox/{id}/retry", "-----Y----Y"),
    // Reviews: the production's reviewers and legal, never an admin as such.
    ("get", "/api/v1/declarations/{id}/approvals", "YYYYY------"),
    ("post", "/api/v1/declarations/{id}/approvals", "--YY-------"),
    (
        "get",
        "/api/v1/declarations/{id}/change-requests",
        "YYYYY------",
    ),
    (
        "post",
        "/api/v1/declarations/{id}/change-requests",
        "--YY-------",
    ),
    // The audit log: auditors read it; auditors and admins verify it.
    ("get", "/api/v1/audit", "----Y------"),
    ("get", "/api/v1/audit/verify", "----YY----Y"),
    ("get", "/api/v1/audit/key", "----YY----Y"),
    // Delivery scans: every member and auditors read them and ask the gate; a vendor records
    // with a token (a post supervisor too; an admin as such does not).
    ("get", "/api/v1/gate", "YYYYY------"),
    ("post", "/api/v1/gate", "YYYYY------"),
    ("get", "/api/v1/productions/{id}/scans", "YYYYY------"),
    ("post", "/api/v1/productions/{id}/scans", "-Y---------"),
    ("get", "/api/v1/scans/{id}", "YYYYY------"),
    ("get", "/api/v1/scans/{id}/files", "YYYYY------"),
    ("post", "/api/v1/scans/{id}/files", "-Y---------"),
    ("post", "/api/v1/scans/{id}/finish", "-Y---------"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

/// The request that exercises a route: its path with the world's ids, and a body that the
/// route takes, so that an allowed caller gets past every check but the ledger's own rules.
fn request(
    world: &World,
    method: &str,
    template: &str,
) -> (String, Option<(&'static str, String)>) {
    let p = world.production.id.to_string();
    let id = match template {
        t if t.starts_with("/api/v1/productions/") => p.clone(),
        t if t.starts_with("/api/v1/tools/") => world.tool.clone(),
        t if t.starts_with("/api/v1/performers/") => world.performer.clone(),
        t if t.starts_with("/api/v1/consents/") => world.consent.clone(),
        t if t.starts_with("/api/v1/declarations/") => world.declaration.clone(),
        t if t.starts_with("/api/v1/tokens/") => world.spare_token.clone(),
        t if t.starts_with("/api/v1/scans/") => world.scan.clone(),
        // No row: an allowed caller gets past the role check to the 404.
        t if t.starts_with("/api/v1/outbox/") => "0190c0de-0000-7000-8000-000000000000".to_owned(),
        _ => String::new(),
    };
    let path = template.replace("{id}", &id).replace("{login}", "spare");
    let json = |v: serde_json::Value| Some(("application/json", v.to_string()));
    let body = match (method, template) {
        ("post", "/api/v1/assess") => Some(("application/toml", escalating())),
        ("post", "/api/v1/policy/check") | ("post", "/api/v1/productions/{id}/reassess") => Some((
            "application/toml",
            std::fs::read_to_string(root().join("policies/netflix-2025.toml")).unwrap(),
        )),
        ("post", "/api/v1/session") => {
            json(json!({"login": "spare", "password": crate::world::PASSWORD}))
        }
        ("post", "/api/v1/tokens") => {
            json(json!({"name": "ci", "role": "coordinator", "expires_in_days": 1}))
        }
        ("post", "/api/v1/users") => {
            json(json!({"login": "newcomer", "password": crate::world::PASSWORD}))
        }
        ("put", "/api/v1/users/{login}/roles") => json(json!({"roles": []})),
        ("post", "/api/v1/productions") => json(json!({
            "title": "Another",
            "kind": "documentary",
            "studio_contact": {"email": "dana@studio.example"},
        })),
        ("put", "/api/v1/productions/{id}/members") => json(json!({
            "members": world.production.members.iter().map(|m| json!({
                "person": m.person, "name": m.name, "roles": m.roles,
            })).collect::<Vec<_>>()
        })),
        ("post", "/api/v1/tools") => json(json!({"vendor": "V", "product": "P"})),
        ("put", "/api/v1/tools/{id}/terms") => json(json!({"trains_on_inputs": "no"})),
        ("post", "/api/v1/performers") => json(json!({"name": "B. Performer"})),
        ("post", "/api/v1/consents") => json(json!({
            "performer_id": world.performer,
            "kind": "employment_replica",
            "production_id": p,
            "description": "a replica for the crowd scenes",
            "given_by": "A. Performer",
            "status": "pending",
        })),
        ("post", "/api/v1/consents/{id}/document") => {
            json(json!({"document_sha256": "a".repeat(64)}))
        }
        ("post", "/api/v1/consents/{id}/revocation") => json(json!({"reason": "withdrawn"})),
        ("post", "/api/v1/declarations") => {
            return (
                format!("{path}?production={p}"),
                Some(("application/toml", escalating())),
            );
        }
        ("post", "/api/v1/declarations/{id}/versions") => Some(("application/toml", escalating())),
        ("get", "/api/v1/gate") => return (format!("{path}?production={p}"), None),
        ("post", "/api/v1/gate") => json(json!({"production": p, "files": []})),
        ("post", "/api/v1/productions/{id}/scans") => {
            json(json!({"scanner": "greenlight test", "roots": ["deliverables"]}))
        }
        ("post", "/api/v1/scans/{id}/files") => json(json!({"files": []})),
        ("post", "/api/v1/scans/{id}/finish") => json(json!({"counts": {"files": 0}})),
        ("post", "/api/v1/declarations/{id}/change-requests") => {
            json(json!({"note": "name the tool's version"}))
        }
        ("post", "/api/v1/declarations/{id}/approvals") => json(json!({
            "verdict": "approved",
            "scope": ["props/**"],
            "note": "ok",
        })),
        _ => None,
    };
    (path, body)
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_role_table_says() {
    // Every documented operation has a row, and every row a documented operation.
    let document = greenlight_server::openapi_document();
    let mut documented = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(*method).is_some() {
                documented.push((method.to_string(), path.clone()));
            }
        }
    }
    for (method, path) in &documented {
        assert!(
            MATRIX.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} has no row in the authorization matrix"
        );
    }
    for (method, path, row) in MATRIX {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is in the matrix but not a documented route"
        );
        assert_eq!(
            row.len(),
            Who::ALL.len(),
            "{method} {path}: one column per caller"
        );
    }

    World::each(|world| async move {
        let mut wrong = Vec::new();
        for (method, template, row) in MATRIX {
            for (who, expected) in Who::ALL.iter().zip(row.chars()) {
                let (path, body) = request(&world, method, template);
                let reply = world
                    .send(
                        *who,
                        method.to_uppercase().parse::<Method>().unwrap(),
                        &path,
                        body,
                    )
                    .await;
                let status = reply.status.as_u16();
                let denied = status == 401 || status == 403;
                let credential_fails = matches!(who, Who::Nobody | Who::Expired | Who::Revoked);
                let ok = match expected {
                    'Y' => !denied && status < 500,
                    _ => {
                        denied
                            && (!credential_fails
                                || status == 401
                                || template.ends_with("/session"))
                    }
                };
                if !ok {
                    wrong.push(format!(
                        "{method} {template} as {who:?}: expected {}, got {status} {}",
                        if expected == 'Y' { "allowed" } else { "denied" },
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
                if denied {
                    assert_eq!(reply.content_type(), "application/problem+json");
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    })
    .await;
}

#[tokio::test]
async fn listings_show_only_the_productions_one_may_see() {
    World::each(|world| async move {
        let titles = |who| {
            let world = &world;
            async move {
                let reply = world
                    .send(who, Method::GET, "/api/v1/productions", None)
                    .await;
                assert_eq!(reply.status, 200);
                let mut titles: Vec<String> = reply.json()["productions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["title"].as_str().unwrap().to_owned())
                    .collect();
                titles.sort();
                titles
            }
        };
        assert_eq!(titles(Who::Coordinator).await, ["The Long Night"]);
        assert_eq!(
            titles(Who::Other).await,
            vec![world.elsewhere.title.clone()]
        );
        assert_eq!(titles(Who::Auditor).await, ["Elsewhere", "The Long Night"]);
        // A consent listing keeps those of productions the caller may read consents of.
        let path = format!("/api/v1/performers/{}/consents", world.performer);
        let count = |who| {
            let world = &world;
            let path = path.clone();
            async move {
                let reply = world.send(who, Method::GET, &path, None).await;
                assert_eq!(reply.status, 200);
                reply.json()["consents"].as_array().unwrap().len()
            }
        };
        assert_eq!(count(Who::Legal).await, 1);
        assert_eq!(count(Who::Coordinator).await, 0);
        assert_eq!(count(Who::Other).await, 0);
    })
    .await;
}

/// Routes whose production is named only in the body, so the body is read before the caller
/// can be authorized on it: a denied caller with a bad body gets the body's problem there.
const PRODUCTION_IN_BODY: &[(&str, &str)] =
    &[("post", "/api/v1/consents"), ("post", "/api/v1/gate")];

#[tokio::test]
async fn a_denied_caller_is_refused_before_its_body_is_read() {
    World::each(|world| async move {
        let mut wrong = Vec::new();
        let mut checked = 0;
        for (method, template, row) in MATRIX {
            if PRODUCTION_IN_BODY.contains(&(*method, *template)) {
                continue;
            }
            let (path, Some((content_type, _))) = request(&world, method, template) else {
                continue;
            };
            let bad_bodies = [
                // Malformed in its own type, then well formed but of a type no route takes.
                (content_type, "{\"unfinished\": [".to_owned()),
                ("text/plain", "hello".to_owned()),
            ];
            for (who, expected) in Who::ALL.iter().zip(row.chars()) {
                let credential_fails = matches!(who, Who::Nobody | Who::Expired | Who::Revoked);
                if expected == 'Y' || credential_fails {
                    continue;
                }
                for (content_type, body) in &bad_bodies {
                    let reply = world
                        .send(
                            *who,
                            method.to_uppercase().parse::<Method>().unwrap(),
                            &path,
                            Some((*content_type, body.clone())),
                        )
                        .await;
                    checked += 1;
                    if reply.status != 403 {
                        wrong.push(format!(
                            "{method} {template} as {who:?} with a {content_type} body: expected 403, got {} {}",
                            reply.status,
                            String::from_utf8_lossy(&reply.body)
                        ));
                    }
                }
            }
        }
        assert!(checked > 50, "only {checked} requests checked");
        assert!(
            wrong.is_empty(),
            "{} wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    })
    .await;
}
