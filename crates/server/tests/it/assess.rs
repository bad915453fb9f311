//! `POST /api/v1/assess` on every example: the level the guidance demands
//! (`examples/EXPECTED.toml`), the decision the library gives byte for byte,
//! and the same decision whether the declaration is sent as JSON or TOML.

use std::collections::BTreeMap;

use greenlight_core::{Declaration, SourceFormat};
use greenlight_policy::Policy;

use crate::support::{root, spawn_default};

fn expected() -> BTreeMap<String, toml::Value> {
    toml::from_str(&std::fs::read_to_string(root().join("examples/EXPECTED.toml")).unwrap())
        .unwrap()
}

#[tokio::test]
async fn every_example_gets_the_decision_the_cli_gives_in_json_and_in_toml() {
    let app = spawn_default().await;
    let policy = Policy::builtin();
    let expected = expected();
    assert!(
        expected.len() > 40,
        "examples/EXPECTED.toml lists the examples"
    );
    for (name, want) in &expected {
        let text = std::fs::read_to_string(root().join("examples").join(name)).unwrap();
        let format = SourceFormat::from_path(name);
        let (content_type, other, other_text) = match format {
            SourceFormat::Json => {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                (
                    "application/json",
                    "application/toml",
                    toml::to_string(&value).unwrap(),
                )
            }
            SourceFormat::Toml => {
                let value: toml::Value = toml::from_str(&text).unwrap();
                (
                    "application/toml",
                    "application/json",
                    serde_json::to_string(&value).unwrap(),
                )
            }
        };
        let reply = app.post("/api/v1/assess", content_type, text.clone()).await;
        assert_eq!(
            reply.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.content_type(), "application/json", "{name}");
        let decision = reply.json();
        assert_eq!(decision["level"], want["level"].as_str().unwrap(), "{name}");
        // What `greenlight assess --format json` prints for the file, less its newline.
        let cli = serde_json::to_vec(
            &policy
                .assess(&Declaration::parse(&text, format).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            reply.body.as_ref(),
            cli.as_slice(),
            "{name}: not the CLI's bytes"
        );
        let translated = app.post("/api/v1/assess", other, other_text).await;
        assert_eq!(translated.status, 200, "{name} as {other}");
        assert_eq!(
            translated.body, reply.body,
            "{name}: {other} gives another decision than {content_type}"
        );
    }
}

#[tokio::test]
async fn a_content_type_with_parameters_is_accepted() {
    let app = spawn_default().await;
    let text = std::fs::read_to_string(root().join("examples/m1-mood-board.toml")).unwrap();
    let reply = app
        .post("/api/v1/assess", "Application/TOML; charset=utf-8", text)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["level"], "notify");
}
