//! Bad input on every POST route: each answer is a problem document naming
//! what is wrong, with the same field, line and column `greenlight assess`
//! and `greenlight policy check` give.

use greenlight_server::ServerConfig;

use crate::support::{root, spawn, spawn_default};

const MINIMAL_TOML: &str = r#"title = "t"
production = "p"
production_kind = "scripted"
stage = "development"
purpose = "ideation"
"#;

/// Every POST route with a body it accepts.
fn routes() -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "/api/v1/assess",
            "application/toml",
            MINIMAL_TOML.to_owned(),
        ),
        (
            "/api/v1/policy/check",
            "application/toml",
            std::fs::read_to_string(root().join("policies/netflix-2025.toml")).unwrap(),
        ),
    ]
}

#[tokio::test]
async fn every_post_route_accepts_its_body() {
    let app = spawn_default().await;
    for (path, content_type, body) in routes() {
        let reply = app.post(path, content_type, body).await;
        assert_eq!(
            reply.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_with_line_and_column() {
    let app = spawn_default().await;
    let reply = app
        .post(
            "/api/v1/assess",
            "application/json",
            "{\n  \"title\": \"t\",\n  oops\n}",
        )
        .await;
    let problem = reply.problem(400);
    let error = &problem["errors"][0];
    assert_eq!(error["line"], 3, "{problem}");
    assert!(error["column"].as_u64().unwrap() > 0);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("key must be a string"),
        "{problem}"
    );
}

#[tokio::test]
async fn malformed_toml_is_a_400_with_line_and_column() {
    let app = spawn_default().await;
    let reply = app
        .post(
            "/api/v1/assess",
            "application/toml",
            "title = \"t\"\nproduction = \n",
        )
        .await;
    let problem = reply.problem(400);
    assert_eq!(problem["errors"][0]["line"], 2, "{problem}");
}

#[tokio::test]
async fn a_typo_in_a_field_is_named_with_the_field_meant() {
    let app = spawn_default().await;
    let toml = format!("{MINIMAL_TOML}\n[inputs]\ntalent_likness = \"no\"\n");
    let problem = app
        .post("/api/v1/assess", "application/toml", toml)
        .await
        .problem(422);
    let error = &problem["errors"][0];
    assert_eq!(error["field"], "inputs.talent_likness");
    assert_eq!(error["pointer"], "/inputs/talent_likness");
    assert_eq!(error["line"], 8);
    assert_eq!(error["help"], "did you mean `talent_likeness`?");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("talent_likness")
    );

    let json = r#"{"title": "t", "production": "p", "production_kind": "scripted",
"stage": "development", "purpose": "ideation", "principles": {"p1_no_ip_replicaton": "yes"}}"#;
    let problem = app
        .post("/api/v1/assess", "application/json", json)
        .await
        .problem(422);
    let error = &problem["errors"][0];
    assert_eq!(error["field"], "principles.p1_no_ip_replicaton");
    assert_eq!(error["line"], 2);
    assert_eq!(error["help"], "did you mean `p1_no_ip_replication`?");
}

#[tokio::test]
async fn a_value_outside_its_set_is_named_with_the_values_allowed() {
    let app = spawn_default().await;
    let toml = format!("{MINIMAL_TOML}\n[output]\nfinal_deliverable = \"maybe\"\n");
    let problem = app
        .post("/api/v1/assess", "application/toml", toml)
        .await
        .problem(422);
    let error = &problem["errors"][0];
    assert_eq!(error["field"], "output.final_deliverable");
    assert_eq!(error["line"], 8);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("`maybe`") && message.contains("`yes`, `no`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_field_is_named() {
    let app = spawn_default().await;
    let problem = app
        .post("/api/v1/assess", "application/json", r#"{"title": "t"}"#)
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "production", "{problem}");
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem_on_every_post_route() {
    let config = ServerConfig {
        body_limit: 4096,
        ..ServerConfig::default()
    };
    let app = spawn(config).await;
    for (path, content_type, _) in routes() {
        let body = format!("title = \"{}\"\n", "x".repeat(5000));
        let problem = app.post(path, content_type, body).await.problem(413);
        assert!(
            problem["detail"].as_str().unwrap().contains("4096 bytes"),
            "{problem}"
        );
    }
    // Just under the limit is read (and judged on its content).
    let body = format!("{MINIMAL_TOML}# {}\n", "x".repeat(3000));
    assert_eq!(
        app.post("/api/v1/assess", "application/toml", body)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415_naming_what_is_accepted() {
    let app = spawn_default().await;
    for (path, _, body) in routes() {
        let problem = app.post(path, "text/html", body.clone()).await.problem(415);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("`text/html`") && detail.contains("`application/toml`"),
            "{detail}"
        );
        let reply = app
            .send(axum::http::Method::POST, path, None, body.into())
            .await;
        let problem = reply.problem(415);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("without a content type")
        );
    }
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_a_400() {
    let app = spawn_default().await;
    let problem = app
        .post(
            "/api/v1/assess",
            "application/toml",
            vec![0xff_u8, 0xfe, b'a'],
        )
        .await
        .problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("not UTF-8"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_pack_with_problems_gives_every_diagnostic_with_line_and_column() {
    let app = spawn_default().await;
    let pack = r#"[pack]
id = "studio"
version = "1"
title = "t"
source = "s"

[[principles]]
id = "P1"
text = "x"

[[rules]]
id = "r1"
title = "t"
when = 'output.final_deliverabel == "yes"'
level = "escalat"
cites = ["P1"]
reason = "r"
remedy = "m"
basis = "guidance"
"#;
    let problem = app
        .post("/api/v1/policy/check", "application/toml", pack)
        .await
        .problem(422);
    let errors = problem["errors"].as_array().unwrap();
    assert!(errors.len() >= 2, "{problem}");
    for error in errors {
        assert!(error["line"].as_u64().unwrap() >= 1, "{problem}");
        assert!(error["column"].as_u64().unwrap() >= 1, "{problem}");
    }
    let text = problem.to_string();
    assert!(
        text.contains("final_deliverabel") && text.contains("escalat"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_pack_that_extends_another_file_is_refused_saying_why() {
    let app = spawn_default().await;
    let pack = std::fs::read_to_string(root().join("policies/netflix-2025.toml")).unwrap();
    let overlay = "[pack]\nid = \"studio\"\nversion = \"1\"\ntitle = \"t\"\nsource = \"s\"\nextends = [\"netflix-2025.toml\"]\n";
    assert!(!pack.is_empty());
    let problem = app
        .post("/api/v1/policy/check", "application/toml", overlay)
        .await
        .problem(422);
    let text = problem.to_string();
    assert!(
        text.contains("cannot be resolved from a request body"),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["line"], 6, "{problem}");
}
