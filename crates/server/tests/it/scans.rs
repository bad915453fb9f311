//! The scan routes over real HTTP, on SQLite and (when configured) PostgreSQL: who may begin,
//! post and read a scan; batches bounded in files and bytes; every field of posted evidence
//! checked and named; the gate's result counted from the recorded rows; the chain verifies.

use std::sync::Arc;

use axum::http::Method;
use chrono::TimeDelta;
use greenlight_server::ServerConfig;
use greenlight_store::{
    Contact, Ledger, Member, NewProduction, NewToken, NewUser, Production, Role, Store, TokenRole,
};
use serde_json::{Value, json};

use crate::support::{App, BACKENDS, Fixture, spawn_fixture};

const TITLE: &str = "Deepwater Gate (animated series)";

async fn production(ledger: &Ledger<dyn Store>, members: &[(&str, Role)]) -> Production {
    ledger
        .create_production(
            "setup",
            NewProduction {
                title: TITLE.to_owned(),
                kind: greenlight_core::ProductionKind::Scripted,
                studio_contact: Contact {
                    name: "Dana".to_owned(),
                    email: "dana@studio.example".to_owned(),
                },
                members: members
                    .iter()
                    .map(|(person, role)| Member {
                        person: (*person).to_owned(),
                        name: (*person).to_owned(),
                        roles: vec![*role],
                    })
                    .collect(),
            },
        )
        .await
        .unwrap()
}

/// An account holding `role` on `production`, and a token acting as that role there.
async fn token(
    ledger: &Ledger<dyn Store>,
    login: &str,
    role: Role,
    production: &Production,
) -> String {
    ledger
        .create_user(
            "setup",
            NewUser {
                login: login.to_owned(),
                name: String::new(),
                roles: Vec::new(),
                password: "correct horse battery staple".to_owned(),
            },
        )
        .await
        .unwrap();
    ledger
        .create_token(
            "setup",
            NewToken {
                user_login: login.to_owned(),
                name: "scanner".to_owned(),
                productions: vec![production.id],
                role: TokenRole::Production(role),
                expires_at: ledger.now().plus(TimeDelta::days(30)),
            },
        )
        .await
        .unwrap()
        .secret
}

fn file(path: &str, verdict: &str) -> Value {
    json!({
        "path": path,
        "verdict": verdict,
        "evidence": [{"kind": "png_parameters", "detail": "Steps: 20", "source": "tEXt"}],
    })
}

async fn call(
    app: &App,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> crate::support::Reply {
    let bearer = format!("Bearer {token}");
    app.call(method, path, &[("authorization", bearer.as_str())], body)
        .await
}

async fn story(app: App, fixture: Arc<Fixture>) {
    let ledger = fixture.ledger();
    let p = production(
        &ledger,
        &[("vic", Role::Vendor), ("cam", Role::Coordinator)],
    )
    .await;
    let vendor = token(&ledger, "vic", Role::Vendor, &p).await;
    let coordinator = token(&ledger, "cam", Role::Coordinator, &p).await;

    // The gate, by title: the limits a scanner sizes its batches by.
    let info = call(
        &app,
        Method::GET,
        "/api/v1/gate?production=Deepwater%20Gate%20(animated%20series)",
        &vendor,
        None,
    )
    .await;
    assert_eq!(info.status, 200, "{}", String::from_utf8_lossy(&info.body));
    let info = info.json();
    assert_eq!(info["production"]["id"], p.id.to_string());
    assert_eq!(info["max_files"], 1000);
    assert_eq!(info["max_bytes"], 1024 * 1024);

    // A coordinator may read scans but not record one.
    let begin = json!({"scanner": "greenlight test", "roots": ["/deliveries/ep103"]});
    let path = format!("/api/v1/productions/{}/scans", p.id);
    let refused = call(&app, Method::POST, &path, &coordinator, Some(begin.clone())).await;
    let problem = refused.problem(403);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("record a delivery scan"),
        "{problem}"
    );
    let begun = call(&app, Method::POST, &path, &vendor, Some(begin)).await;
    assert_eq!(
        begun.status,
        201,
        "{}",
        String::from_utf8_lossy(&begun.body)
    );
    let scan = begun.json()["id"].as_str().unwrap().to_owned();
    let files = format!("/api/v1/scans/{scan}/files");

    // Someone who may not record is refused before the batch is read.
    let reply = call(
        &app,
        Method::POST,
        &files,
        &coordinator,
        Some(json!({"files": [file("a.png", "ai_made")]})),
    )
    .await;
    reply.problem(403);

    // Bad batches: too many files, a verdict outside its set, a hash that is none, a body
    // over the limit. Each a problem naming what is wrong; nothing recorded.
    let many: Vec<Value> = (0..1001)
        .map(|n| file(&format!("p/{n}.png"), "ai_generated"))
        .collect();
    let reply = call(
        &app,
        Method::POST,
        &files,
        &vendor,
        Some(json!({"files": many})),
    )
    .await;
    assert!(
        reply.problem(422)["detail"]
            .as_str()
            .unwrap()
            .contains("at most 1000 files")
    );
    let reply = call(
        &app,
        Method::POST,
        &files,
        &vendor,
        Some(json!({"files": [file("a.png", "ai_made")]})),
    )
    .await;
    let problem = reply.problem(422);
    assert_eq!(
        problem["errors"][0]["field"], "files[0].verdict",
        "{problem}"
    );
    assert_eq!(
        problem["errors"][0]["pointer"], "/files/0/verdict",
        "{problem}"
    );
    let mut hashed = file("a.png", "ai_generated");
    hashed["sha256"] = json!("not-a-hash");
    let reply = call(
        &app,
        Method::POST,
        &files,
        &vendor,
        Some(json!({"files": [hashed]})),
    )
    .await;
    assert!(
        reply.problem(422)["detail"]
            .as_str()
            .unwrap()
            .contains("is not a sha256")
    );
    let mut typo = file("a.png", "ai_generated");
    typo["sha265"] = json!("x");
    let reply = call(
        &app,
        Method::POST,
        &files,
        &vendor,
        Some(json!({"files": [typo]})),
    )
    .await;
    assert!(
        reply.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("sha265")
    );
    let mut huge = file("a.png", "ai_generated");
    huge["evidence"][0]["detail"] = json!("x".repeat(1100 * 1024));
    let reply = call(
        &app,
        Method::POST,
        &files,
        &vendor,
        Some(json!({"files": [huge]})),
    )
    .await;
    reply.problem(413);
    assert!(
        ledger
            .scan_files(scan.parse().unwrap(), None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // A good batch: the AI file judged (no approval covers it), the plain one not.
    let reply = call(
        &app,
        Method::POST,
        &files,
        &vendor,
        Some(json!({"files": [
            file("posters/key_art.png", "ai_generated"),
            file("plate.jpg", "no_ai_evidence"),
        ]})),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let judged = reply.json();
    assert_eq!(judged["files"][0]["status"], "unapproved");
    assert_eq!(judged["files"][0]["fails_gate"], true);
    assert!(judged["files"][1].is_null(), "{judged}");
    assert_eq!(judged["batch"]["first"], 1);
    assert_eq!(judged["batch"]["last"], 1);

    // Finishing: counts that disagree with what was posted are refused; the gate's result
    // is the server's, counted from the rows.
    let finish = format!("/api/v1/scans/{scan}/finish");
    let reply = call(
        &app,
        Method::POST,
        &finish,
        &vendor,
        Some(json!({"counts": {"files": 2, "no_ai_evidence": 1}})),
    )
    .await;
    assert!(
        reply.problem(422)["detail"]
            .as_str()
            .unwrap()
            .contains("counts.ai_generated")
    );
    let reply = call(
        &app,
        Method::POST,
        &finish,
        &vendor,
        Some(json!({"counts": {
            "files": 2, "ai_generated": 1, "no_ai_evidence": 1, "approved": 1,
        }})),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let done = reply.json();
    assert_eq!(done["state"], "complete");
    assert_eq!(done["passed"], false);
    assert_eq!(
        done["counts"]["approved"], 0,
        "the scanner's standings are not taken"
    );
    assert_eq!(done["counts"]["unapproved"], 1);
    assert_eq!(done["recorded_by"], "vic");
    let late = call(
        &app,
        Method::POST,
        &files,
        &vendor,
        Some(json!({"files": [file("b.png", "ai_edited")]})),
    )
    .await;
    assert!(
        late.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("already finished")
    );

    // Reading: the coordinator sees the scan and its files.
    let shown = call(
        &app,
        Method::GET,
        &format!("/api/v1/scans/{scan}"),
        &coordinator,
        None,
    )
    .await;
    assert_eq!(shown.status, 200);
    let page = call(
        &app,
        Method::GET,
        &format!("{files}?limit=1"),
        &coordinator,
        None,
    )
    .await
    .json();
    assert_eq!(page["files"][0]["path"], "posters/key_art.png");
    assert_eq!(
        page["files"][0]["evidence"][0],
        "png_parameters: Steps: 20 [tEXt]"
    );
    let listed = call(&app, Method::GET, &path, &coordinator, None)
        .await
        .json();
    assert_eq!(listed["scans"].as_array().unwrap().len(), 1);

    // Judging without recording writes nothing.
    let reply = call(
        &app,
        Method::POST,
        "/api/v1/gate",
        &vendor,
        Some(json!({
            "production": p.id.to_string(),
            "strict": true,
            "files": [file("x.png", "ai_possible"), file("y.png", "unsupported")],
        })),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let judged = reply.json();
    assert_eq!(judged["files"][0]["fails_gate"], true);
    assert!(judged["files"][1].is_null());
    assert!(judged.get("batch").is_none());
    assert_eq!(ledger.scans(p.id, None, 10).await.unwrap().items.len(), 1);

    let report = ledger.verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn scans_are_posted_bounded_checked_and_judged_by_the_server() {
    for backend in BACKENDS {
        let Some((app, fixture)) = spawn_fixture(ServerConfig::default(), backend).await else {
            continue;
        };
        eprintln!("on {backend:?}");
        story(app, Arc::clone(&fixture)).await;
        if let Ok(fixture) = Arc::try_unwrap(fixture) {
            fixture.cleanup().await;
        }
    }
}

/// A signer certificate as the server's trust list holds it: the server reads only its DER's
/// fingerprint (it never sees the file nor the chain), so any DER stands in for one here.
fn signer_pem(der: &[u8]) -> (String, String) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    let hex: String = sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (pem, hex)
}

fn stamped(path: &str, detail: &str) -> Value {
    json!({
        "path": path,
        "verdict": "no_ai_evidence",
        "evidence": [{"kind": "greenlight_stamp", "detail": detail, "source": "active manifest"}],
    })
}

async fn stamps_story(app: App, fixture: Arc<Fixture>, trusted_hex: &str) {
    let ledger = fixture.ledger();
    let p = production(
        &ledger,
        &[
            ("vic", Role::Vendor),
            ("cam", Role::Coordinator),
            ("rae", Role::Reviewer),
        ],
    )
    .await;
    let vendor = token(&ledger, "vic", Role::Vendor, &p).await;
    let mut d = greenlight_store_tests::declaration(TITLE, "key art");
    d.output.final_deliverable = greenlight_core::Answer::Yes;
    let s = ledger
        .submit_declaration("cam", p.id, d, greenlight_store_tests::triage)
        .await
        .unwrap();
    let a = ledger
        .review(
            "rae",
            greenlight_store::NewReview {
                declaration_id: s.declaration.id,
                verdict: greenlight_store::Verdict::Approved,
                conditions: Vec::new(),
                scope: vec![greenlight_store::AssetScope::Glob("nowhere/**".to_owned())],
                expires_at: None,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let other_hex = "ab".repeat(32);
    let detail = |signature: &str, hex: &str| {
        format!(
            "approval {}, signature {signature}, signer trusted, signed by CN=Vendor Signer (sha256 {hex})",
            a.id
        )
    };
    // The scanner says every signer is trusted; the server believes only its own list.
    let files = json!([
        stamped("delivery/a.png", &detail("valid", trusted_hex)),
        stamped("delivery/b.png", &detail("valid", &other_hex)),
        stamped("delivery/c.png", &detail("tampered", trusted_hex)),
    ]);
    let reply = call(
        &app,
        Method::POST,
        "/api/v1/gate",
        &vendor,
        Some(json!({"production": p.id.to_string(), "files": files})),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let judged = reply.json();
    let [ok, untrusted, tampered] = [0, 1, 2].map(|i| judged["files"][i].clone());
    assert_eq!(ok["status"], "approved", "{ok}");
    assert_eq!(ok["fails_gate"], false);
    assert_eq!(untrusted["fails_gate"], true, "{untrusted}");
    let reason = untrusted["reason"].as_str().unwrap();
    assert!(
        reason.contains("untrusted signer") && reason.contains(&other_hex),
        "{reason}"
    );
    assert_eq!(tampered["fails_gate"], true);
    assert!(
        tampered["reason"].as_str().unwrap().starts_with("tampered"),
        "{tampered}"
    );

    // Recorded: the row keeps the server's judgement of the signer, not the scanner's.
    let path = format!("/api/v1/productions/{}/scans", p.id);
    let begun = call(
        &app,
        Method::POST,
        &path,
        &vendor,
        Some(json!({"scanner": "greenlight test", "roots": ["/deliveries/ep103"]})),
    )
    .await;
    assert_eq!(
        begun.status,
        201,
        "{}",
        String::from_utf8_lossy(&begun.body)
    );
    let scan = begun.json()["id"].as_str().unwrap().to_owned();
    let posted = call(
        &app,
        Method::POST,
        &format!("/api/v1/scans/{scan}/files"),
        &vendor,
        Some(json!({"files": [stamped("delivery/b.png", &detail("valid", &other_hex))]})),
    )
    .await;
    assert_eq!(
        posted.status,
        200,
        "{}",
        String::from_utf8_lossy(&posted.body)
    );
    assert_eq!(posted.json()["files"][0]["fails_gate"], true);
    let rows = ledger
        .scan_files(scan.parse().unwrap(), None, 10)
        .await
        .unwrap();
    let line = &rows.items[0].file.evidence[0];
    assert!(line.contains("signer untrusted"), "{line}");
}

#[tokio::test]
async fn the_server_judges_a_stamp_s_signer_by_its_own_trust_list() {
    let dir = tempfile::tempdir().unwrap();
    let (pem, hex) = signer_pem(b"the vendor's signing certificate");
    let trust = dir.path().join("trust.pem");
    std::fs::write(&trust, pem).unwrap();
    let config = ServerConfig {
        stamp_trust: Some(
            greenlight_server::config::parse_stamp_trust(trust.to_str().unwrap()).unwrap(),
        ),
        ..ServerConfig::default()
    };
    for backend in BACKENDS {
        let Some((app, fixture)) = spawn_fixture(config.clone(), backend).await else {
            continue;
        };
        eprintln!("on {backend:?}");
        stamps_story(app, Arc::clone(&fixture), &hex).await;
        if let Ok(fixture) = Arc::try_unwrap(fixture) {
            fixture.cleanup().await;
        }
    }
}
