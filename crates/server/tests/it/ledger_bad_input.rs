//! Bad input on every write route of the ledger: malformed JSON, a misspelt field, a value
//! outside its set, an oversized body and a wrong content type each get a problem document
//! naming what is wrong, and nothing is written (the audit log holds as many entries after
//! as before).

use axum::http::Method;
use serde_json::{Value, json};

use crate::world::{Who, World, escalating};

/// A write route, with a caller allowed to use it and a body it takes.
struct Case {
    who: Who,
    method: Method,
    path: String,
    body: Value,
    /// A field to misspell: (the field, the misspelling).
    typo: (&'static str, &'static str),
    /// A value outside its field's set: (JSON pointer, value, the field as the problem names it).
    outside: Option<(&'static str, Value, &'static str)>,
}

fn declaration_json() -> Value {
    let table: toml::Table = toml::from_str(&escalating()).unwrap();
    serde_json::to_value(table).unwrap()
}

fn cases(world: &World) -> Vec<Case> {
    let p = world.production.id;
    let d = &world.declaration;
    let c = &world.consent;
    vec![
        Case {
            who: Who::Admin,
            method: Method::POST,
            path: "/api/v1/productions".to_owned(),
            body: json!({"title": "T", "kind": "scripted", "studio_contact": {"email": "d@s.example"}}),
            typo: ("title", "titel"),
            outside: Some(("/kind", json!("sitcom"), "kind")),
        },
        Case {
            who: Who::Admin,
            method: Method::PUT,
            path: format!("/api/v1/productions/{p}/members"),
            body: json!({"members": [{"person": "cam", "roles": ["coordinator"]}]}),
            typo: ("members", "memebers"),
            outside: Some(("/members/0/roles/0", json!("boss"), "members[0].roles[0]")),
        },
        Case {
            who: Who::Admin,
            method: Method::POST,
            path: "/api/v1/tools".to_owned(),
            body: json!({"vendor": "V", "product": "P", "terms": {"trains_on_inputs": "no"}}),
            typo: ("product", "prodcut"),
            outside: Some((
                "/terms/trains_on_inputs",
                json!("maybe"),
                "terms.trains_on_inputs",
            )),
        },
        Case {
            who: Who::Admin,
            method: Method::PUT,
            path: format!("/api/v1/tools/{}/terms", world.tool),
            body: json!({"retains_inputs": "no"}),
            typo: ("retains_inputs", "retain_inputs"),
            outside: Some(("/retains_inputs", json!("perhaps"), "retains_inputs")),
        },
        Case {
            who: Who::Admin,
            method: Method::POST,
            path: "/api/v1/performers".to_owned(),
            body: json!({"name": "B. Performer", "union": "SAG-AFTRA"}),
            typo: ("union", "unoin"),
            outside: None,
        },
        Case {
            who: Who::Legal,
            method: Method::POST,
            path: "/api/v1/consents".to_owned(),
            body: json!({
                "performer_id": world.performer,
                "kind": "employment_replica",
                "production_id": p.to_string(),
                "description": "a replica for the crowd scenes",
                "given_by": "A. Performer",
                "status": "pending",
            }),
            typo: ("description", "desciption"),
            outside: Some(("/status", json!("granted"), "status")),
        },
        Case {
            who: Who::Legal,
            method: Method::POST,
            path: format!("/api/v1/consents/{c}/document"),
            body: json!({"document_sha256": "b".repeat(64)}),
            typo: ("document_sha256", "document_sha265"),
            outside: None,
        },
        Case {
            who: Who::Legal,
            method: Method::POST,
            path: format!("/api/v1/consents/{c}/revocation"),
            body: json!({"reason": "withdrawn"}),
            typo: ("reason", "reasn"),
            outside: None,
        },
        Case {
            who: Who::Coordinator,
            method: Method::POST,
            path: format!("/api/v1/declarations?production={p}"),
            body: declaration_json(),
            typo: ("purpose", "purpsoe"),
            outside: Some(("/purpose", json!("dance"), "purpose")),
        },
        Case {
            who: Who::Coordinator,
            method: Method::POST,
            path: format!("/api/v1/declarations/{d}/versions"),
            body: declaration_json(),
            typo: ("description", "descripton"),
            outside: Some(("/stage", json!("wrap_party"), "stage")),
        },
        Case {
            who: Who::Reviewer,
            method: Method::POST,
            path: format!("/api/v1/declarations/{d}/approvals"),
            body: json!({"verdict": "approved", "scope": ["props/**"]}),
            typo: ("verdict", "verdcit"),
            outside: Some(("/verdict", json!("maybe"), "verdict")),
        },
        Case {
            who: Who::Reviewer,
            method: Method::POST,
            path: format!("/api/v1/declarations/{d}/change-requests"),
            body: json!({"note": "name the generator's version"}),
            typo: ("note", "ntoe"),
            outside: None,
        },
    ]
}

#[tokio::test]
async fn every_write_route_names_what_is_wrong_and_writes_nothing() {
    World::each(|world| async move {
        let limit = greenlight_server::ServerConfig::default().body_limit;
        for case in cases(&world) {
            // A token's first use is recorded (once a minute at most): use it first, so that
            // the count below sees only what the bad requests would write.
            let me = world.send(case.who, Method::GET, "/api/v1/me", None).await;
            assert_eq!(me.status, 200);
            let before = world.audit_len().await;
            let what = format!("{} {}", case.method, case.path);
            let send = |content_type: &'static str, body: String| {
                let world = &world;
                let case = &case;
                async move {
                    world
                        .send(
                            case.who,
                            case.method.clone(),
                            &case.path,
                            Some((content_type, body)),
                        )
                        .await
                }
            };

            // Malformed JSON: the line and column.
            let problem = send("application/json", "{\n\n  oops\n}".to_owned())
                .await
                .problem(400);
            assert_eq!(problem["errors"][0]["line"], 3, "{what}: {problem}");

            // A misspelt field: named, with the field probably meant.
            let mut body = case.body.clone();
            let object = body.as_object_mut().unwrap();
            let value = object.remove(case.typo.0).unwrap();
            object.insert(case.typo.1.to_owned(), value);
            let reply = send("application/json", body.to_string()).await;
            let problem = reply.problem(reply.status.as_u16());
            assert!(
                [400, 422].contains(&reply.status.as_u16()),
                "{what}: {problem}"
            );
            let text = problem.to_string();
            assert!(text.contains(case.typo.1), "{what}: {text}");
            assert!(
                text.contains(&format!("did you mean `{}`?", case.typo.0)),
                "{what}: {text}"
            );

            // A value outside its set: the field named.
            if let Some((pointer, value, field)) = &case.outside {
                let mut body = case.body.clone();
                *body.pointer_mut(pointer).unwrap() = value.clone();
                let reply = send("application/json", body.to_string()).await;
                let problem = reply.problem(reply.status.as_u16());
                assert!(
                    [400, 422].contains(&reply.status.as_u16()),
                    "{what}: {problem}"
                );
                assert_eq!(problem["errors"][0]["field"], *field, "{what}: {problem}");
                assert!(problem.to_string().contains(value.as_str().unwrap()));
            }

            // An oversized body: the limit named.
            let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(limit + 1));
            let problem = send("application/json", huge).await.problem(413);
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains(&limit.to_string()),
                "{what}: {problem}"
            );

            // A wrong content type: what was sent and what is taken.
            let problem = send("text/plain", case.body.to_string()).await.problem(415);
            assert!(
                problem["detail"].as_str().unwrap().contains("`text/plain`"),
                "{what}: {problem}"
            );

            assert_eq!(
                world.audit_len().await,
                before,
                "{what} wrote to the ledger"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn bad_ids_and_pages_are_named() {
    World::each(|world| async move {
        let problem = world
            .send(
                Who::Coordinator,
                Method::GET,
                "/api/v1/declarations/nope",
                None,
            )
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], "id", "{problem}");
        let path = format!(
            "/api/v1/productions/{}/declarations?limit=0",
            world.production.id
        );
        let problem = world
            .send(Who::Coordinator, Method::GET, &path, None)
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], "limit", "{problem}");
        let problem = world
            .send(
                Who::Coordinator,
                Method::GET,
                "/api/v1/productions?afterr=x",
                None,
            )
            .await
            .problem(400);
        assert!(
            problem.to_string().contains("did you mean `after`?"),
            "{problem}"
        );
        let missing = format!(
            "/api/v1/declarations/{}",
            greenlight_store::DeclarationId::generate()
        );
        world
            .send(Who::Coordinator, Method::GET, &missing, None)
            .await
            .problem(404);
    })
    .await;
}

#[tokio::test]
async fn a_reassessment_names_what_is_wrong_with_its_pack_and_writes_nothing() {
    World::each(|world| async move {
        let path = format!("/api/v1/productions/{}/reassess", world.production.id);
        let me = world
            .send(Who::Legal, Method::GET, "/api/v1/me", None)
            .await;
        assert_eq!(me.status, 200);
        let before = world.audit_len().await;
        let send = |content_type: &'static str, body: String| {
            let world = &world;
            let path = path.clone();
            async move {
                world
                    .send(Who::Legal, Method::POST, &path, Some((content_type, body)))
                    .await
            }
        };
        let problem = send("application/toml", "[pack\nid = 1".to_owned())
            .await
            .problem(422);
        assert!(problem["errors"][0]["line"].as_u64().is_some(), "{problem}");
        let problem = send("application/json", "{}".to_owned()).await.problem(415);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("`application/toml`")
        );
        let limit = greenlight_server::ServerConfig::default().body_limit;
        send("application/toml", "#".repeat(limit + 1))
            .await
            .problem(413);
        // A pack that loads: a preview, still nothing written.
        let pack =
            std::fs::read_to_string(crate::support::root().join("policies/netflix-2025.toml"))
                .unwrap();
        let reply = send("application/toml", pack).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.json()["checked"], 1);
        assert_eq!(
            world.audit_len().await,
            before,
            "a preview wrote to the ledger"
        );
    })
    .await;
}
