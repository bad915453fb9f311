//! The OpenAPI document: valid JSON, OpenAPI 3.1, every route the server
//! serves in it and every operation in it served; unknown paths are 404
//! problem documents.

use axum::http::Method;

use crate::support::spawn_default;

/// Every route the server serves. A route added to the server and not here
/// fails `every_documented_operation_is_served`; one here and not in the
/// document fails `every_route_is_in_the_document`.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/assess"),
    ("get", "/api/v1/policy"),
    ("post", "/api/v1/policy/check"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/api/v1/session/oidc"),
    ("get", "/api/v1/session/oidc/callback"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("put", "/api/v1/users/{login}/roles"),
    ("get", "/api/v1/productions"),
    ("post", "/api/v1/productions"),
    ("get", "/api/v1/productions/{id}"),
    ("put", "/api/v1/productions/{id}/members"),
    ("get", "/api/v1/productions/{id}/declarations"),
    ("post", "/api/v1/productions/{id}/reassess"),
    ("get", "/api/v1/productions/{id}/report"),
    ("get", "/api/v1/tools"),
    ("post", "/api/v1/tools"),
    ("get", "/api/v1/tools/{id}"),
    ("put", "/api/v1/tools/{id}/terms"),
    ("get", "/api/v1/performers"),
    ("post", "/api/v1/performers"),
    ("get", "/api/v1/performers/{id}"),
    ("get", "/api/v1/performers/{id}/consents"),
    ("post", "/api/v1/consents"),
    ("get", "/api/v1/consents/{id}"),
    ("post", "/api/v1/consents/{id}/document"),
    ("post", "/api/v1/consents/{id}/revocation"),
    ("post", "/api/v1/consents/sweep"),
    ("post", "/api/v1/declarations"),
    ("get", "/api/v1/declarations/{id}"),
    ("get", "/api/v1/declarations/{id}/versions"),
    ("post", "/api/v1/declarations/{id}/versions"),
    ("post", "/api/v1/declarations/{id}/retriage"),
    ("get", "/api/v1/declarations/{id}/approvals"),
    ("post", "/api/v1/declarations/{id}/approvals"),
    ("get", "/api/v1/declarations/{id}/change-requests"),
    ("post", "/api/v1/declarations/{id}/change-requests"),
    ("get", "/api/v1/declarations/{id}/notifications"),
    ("get", "/api/v1/outbox"),
    ("post", "/api/v1/outbox/{id}/retry"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/verify"),
    ("get", "/api/v1/audit/key"),
    ("get", "/api/v1/gate"),
    ("post", "/api/v1/gate"),
    ("get", "/api/v1/productions/{id}/scans"),
    ("post", "/api/v1/productions/{id}/scans"),
    ("get", "/api/v1/scans/{id}"),
    ("get", "/api/v1/scans/{id}/files"),
    ("post", "/api/v1/scans/{id}/files"),
    ("post", "/api/v1/scans/{id}/finish"),
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn the_document_is_openapi_3_1() {
    let app = spawn_default().await;
    let reply = app.get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/json");
    let document = reply.json();
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(document["info"]["title"], "greenlight");
    // The same document the library builds.
    assert_eq!(document, greenlight_server::openapi_document());
}

#[tokio::test]
async fn every_route_is_in_the_document() {
    let document = greenlight_server::openapi_document();
    for (method, path) in ROUTES {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_listed_here() {
    let app = spawn_default().await;
    let document = greenlight_server::openapi_document();
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in METHODS {
            if item.get(*method).is_none() {
                continue;
            }
            operations += 1;
            assert!(
                ROUTES.contains(&(*method, path.as_str())),
                "{method} {path} is documented but not listed in this test's ROUTES"
            );
            let reply = app
                .send(
                    method.to_uppercase().parse::<Method>().unwrap(),
                    path,
                    None,
                    Default::default(),
                )
                .await;
            // The OIDC routes are served, and say so, on a server with no provider.
            let switched_off =
                reply.status == 404 && reply.json()["type"] == "/problems/oidc-not-configured";
            assert!(
                (reply.status != 404 || switched_off) && reply.status != 405,
                "{method} {path} is documented but answered {}",
                reply.status
            );
        }
    }
    assert_eq!(operations, ROUTES.len());
}

#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    let document = greenlight_server::openapi_document();
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(refs.iter().any(|r| r == "#/components/schemas/Decision"));
    for target in refs {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external ref {target}"));
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, value) in object {
                match (key.as_str(), value) {
                    ("$ref", serde_json::Value::String(target)) => out.push(target.clone()),
                    _ => collect_refs(value, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem() {
    let app = spawn_default().await;
    for path in [
        "/nothing",
        "/api/v1/",
        "/api/v1/nothing",
        "/../../etc/passwd",
        "/api/",
    ] {
        let problem = app.get(path).await.problem(404);
        assert!(
            problem["detail"].as_str().unwrap().contains('`'),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn a_method_a_route_does_not_take_is_a_405_problem() {
    let app = spawn_default().await;
    let reply = app
        .send(Method::DELETE, "/api/v1/assess", None, Default::default())
        .await;
    reply.problem(405);
    assert!(reply.headers.get("allow").is_some());
}
