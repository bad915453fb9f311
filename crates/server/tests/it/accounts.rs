//! Accounts over real HTTP, on SQLite and (when configured) PostgreSQL: signing in and out,
//! session cookies, CSRF, API tokens and their scope, users and roles, rate limits, and an
//! audit log that records each and holds no secret.

use std::sync::Arc;

use axum::http::Method;
use chrono::TimeDelta;
use greenlight_server::ServerConfig;
use greenlight_store::{
    Action, Contact, GlobalRole, Ledger, MAX_FAILURES_PER_ACCOUNT, Member, NewProduction, NewToken,
    NewUser, Production, Role, Store, TokenRole, authorize,
};
use serde_json::json;

use crate::support::{App, BACKENDS, Backend, Fixture, Reply, spawn_fixture};

const PASSWORD: &str = "correct horse battery staple";

async fn user(ledger: &Ledger<dyn Store>, login: &str, roles: Vec<GlobalRole>) {
    ledger
        .create_user(
            "setup",
            NewUser {
                login: login.to_owned(),
                name: String::new(),
                roles,
                password: PASSWORD.to_owned(),
            },
        )
        .await
        .unwrap();
}

async fn production(
    ledger: &Ledger<dyn Store>,
    title: &str,
    members: &[(&str, Role)],
) -> Production {
    ledger
        .create_production(
            "setup",
            NewProduction {
                title: title.to_owned(),
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

/// Signs in; the cookie pair (`greenlight_session=…`) and the CSRF token.
async fn sign_in(app: &App, login: &str) -> (String, String) {
    let reply = app
        .call(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"login": login, "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let cookie = set_cookie(&reply);
    let pair = cookie.split(';').next().unwrap().to_owned();
    (
        pair,
        reply.json()["csrf_token"].as_str().unwrap().to_owned(),
    )
}

fn set_cookie(reply: &Reply) -> String {
    reply
        .headers
        .get("set-cookie")
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn audit_text(ledger: &Ledger<dyn Store>) -> String {
    let mut text = String::new();
    let mut after = None;
    loop {
        let page = ledger.audit_entries(after, 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        for entry in &page {
            text.push_str(&format!(
                "{} {} {} {} {:?} {:?}\n",
                entry.actor, entry.action, entry.kind, entry.record_id, entry.before, entry.after
            ));
        }
    }
    text
}

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(App, Arc<Fixture>) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in BACKENDS {
        let Some((app, fixture)) = spawn_fixture(ServerConfig::default(), backend).await else {
            continue;
        };
        eprintln!("on {backend:?}");
        test(app, Arc::clone(&fixture)).await;
        if let Ok(fixture) = Arc::try_unwrap(fixture) {
            fixture.cleanup().await;
        }
    }
}

#[tokio::test]
async fn a_token_is_shown_once_works_and_stops_when_expired_or_revoked() {
    each_backend(|app, fixture| async move {
        let ledger = fixture.ledger();
        user(&ledger, "vic", Vec::new()).await;
        let (cookie, csrf) = sign_in(&app, "vic").await;
        let created = app
            .call(
                Method::POST,
                "/api/v1/tokens",
                &[("cookie", &cookie), ("x-csrf-token", &csrf)],
                Some(json!({"name": "scanner at the post house", "role": "vendor", "expires_in_days": 2})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
        let body = created.json();
        let secret = body["secret"].as_str().unwrap().to_owned();
        let id = body["token"]["id"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("glt_") && secret.len() == 4 + 43, "{secret}");
        // Listed without its secret.
        let listed = app
            .call(Method::GET, "/api/v1/tokens", &[("cookie", &cookie)], None)
            .await;
        assert_eq!(listed.status, 200);
        assert!(!String::from_utf8_lossy(&listed.body).contains(&secret));
        assert_eq!(listed.json()["tokens"][0]["id"], id.as_str());

        let bearer = format!("Bearer {secret}");
        let me = app
            .call(Method::GET, "/api/v1/me", &[("authorization", &bearer)], None)
            .await;
        assert_eq!(me.status, 200, "{}", String::from_utf8_lossy(&me.body));
        assert_eq!(me.json()["user"]["login"], "vic");
        assert_eq!(me.json()["via"], "token");
        assert_eq!(me.json()["token"]["role"], "vendor");
        assert!(me.json()["token"]["last_used_at"].is_string(), "last use recorded");
        // A second use within the minute writes nothing.
        let entries = ledger.audit_entries(None, 1_000).await.unwrap().len();
        app.call(Method::GET, "/api/v1/me", &[("authorization", &bearer)], None)
            .await;
        assert_eq!(ledger.audit_entries(None, 1_000).await.unwrap().len(), entries);
        // A token cannot mint tokens.
        let minted = app
            .call(
                Method::POST,
                "/api/v1/tokens",
                &[("authorization", &bearer)],
                Some(json!({"name": "n", "role": "vendor", "expires_in_days": 1})),
            )
            .await
            .problem(403);
        assert!(minted["detail"].as_str().unwrap().contains("API token"), "{minted}");
        // No credential, a wrong one, a malformed header.
        let none = app.call(Method::GET, "/api/v1/me", &[], None).await;
        none.problem(401);
        assert!(none.headers.contains_key("www-authenticate"));
        app.call(Method::GET, "/api/v1/me", &[("authorization", "Bearer glt_nope")], None)
            .await
            .problem(401);
        app.call(Method::GET, "/api/v1/me", &[("authorization", "Basic dmljOng=")], None)
            .await
            .problem(401);
        // Expired: two days on.
        fixture.clock.advance(TimeDelta::days(2));
        app.call(Method::GET, "/api/v1/me", &[("authorization", &bearer)], None)
            .await
            .problem(401);

        // Revoked: a fresh token, then DELETE.
        let (cookie, csrf) = sign_in(&app, "vic").await;
        let fresh = app
            .call(
                Method::POST,
                "/api/v1/tokens",
                &[("cookie", &cookie), ("x-csrf-token", &csrf)],
                Some(json!({"name": "second", "role": "vendor", "expires_in_days": 30})),
            )
            .await
            .json();
        let bearer = format!("Bearer {}", fresh["secret"].as_str().unwrap());
        let fresh_id = fresh["token"]["id"].as_str().unwrap();
        assert_eq!(
            app.call(Method::GET, "/api/v1/me", &[("authorization", &bearer)], None)
                .await
                .status,
            200
        );
        let revoked = app
            .call(
                Method::DELETE,
                &format!("/api/v1/tokens/{fresh_id}"),
                &[("cookie", &cookie), ("x-csrf-token", &csrf)],
                None,
            )
            .await;
        assert_eq!(revoked.status, 200, "{}", String::from_utf8_lossy(&revoked.body));
        assert!(revoked.json()["revoked_at"].is_string());
        app.call(Method::GET, "/api/v1/me", &[("authorization", &bearer)], None)
            .await
            .problem(401);

        let audit = audit_text(&ledger).await;
        assert!(!audit.contains(&secret) && !audit.contains(fresh["secret"].as_str().unwrap()));
        assert!(audit.contains("vic create api_token"), "{audit}");
        assert!(audit.contains("vic update api_token"), "{audit}");
        assert!(ledger.verify().await.unwrap().is_ok());
    })
    .await;
}

#[tokio::test]
async fn a_token_for_one_production_is_refused_on_another() {
    each_backend(|_app, fixture| async move {
        let ledger = fixture.ledger();
        user(&ledger, "vic", Vec::new()).await;
        let a = production(&ledger, "Show A", &[("vic", Role::Vendor)]).await;
        let b = production(&ledger, "Show B", &[("vic", Role::Vendor)]).await;
        let issued = ledger
            .create_token(
                "vic",
                NewToken {
                    user_login: "vic".to_owned(),
                    name: "scanner".to_owned(),
                    productions: vec![a.id],
                    role: TokenRole::Production(Role::Vendor),
                    expires_at: ledger.now().plus(TimeDelta::days(1)),
                },
            )
            .await
            .unwrap();
        let principal = ledger.authenticate_token(&issued.secret).await.unwrap();
        assert!(authorize(&principal, Action::RecordScan, Some(&a)).is_ok());
        let denied = authorize(&principal, Action::RecordScan, Some(&b)).unwrap_err();
        assert!(denied.message.contains("Show B"), "{denied}");
        assert!(
            denied.message.contains("not for that production"),
            "{denied}"
        );
    })
    .await;
}

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_and_signing_out_ends_it() {
    each_backend(|app, fixture| async move {
        let ledger = fixture.ledger();
        user(&ledger, "rae", vec![GlobalRole::Auditor]).await;
        let reply = app
            .call(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(json!({"login": "rae", "password": PASSWORD})),
            )
            .await;
        assert_eq!(reply.status, 201);
        let cookie = set_cookie(&reply);
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        assert!(
            !cookie.contains("Secure"),
            "not over plain HTTP by default: {cookie}"
        );
        let body = reply.json();
        assert_eq!(body["user"]["login"], "rae");
        assert_eq!(body["user"]["roles"], json!(["auditor"]));
        assert!(body["user"].get("password_hash").is_none());
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        let pair = cookie.split(';').next().unwrap().to_owned();
        let me = app
            .call(Method::GET, "/api/v1/me", &[("cookie", &pair)], None)
            .await;
        assert_eq!(me.status, 200);
        assert_eq!(me.json()["via"], "session");

        let out = app
            .call(
                Method::DELETE,
                "/api/v1/session",
                &[("cookie", &pair), ("x-csrf-token", &csrf)],
                None,
            )
            .await;
        assert_eq!(out.status, 204, "{}", String::from_utf8_lossy(&out.body));
        assert!(set_cookie(&out).contains("Max-Age=0"));
        app.call(Method::GET, "/api/v1/me", &[("cookie", &pair)], None)
            .await
            .problem(401);

        // A session ends after an hour unused, and after 12 hours whatever its use.
        let (pair, _) = sign_in(&app, "rae").await;
        fixture.clock.advance(TimeDelta::minutes(61));
        app.call(Method::GET, "/api/v1/me", &[("cookie", &pair)], None)
            .await
            .problem(401);
        let (pair, _) = sign_in(&app, "rae").await;
        for _ in 0..12 {
            fixture.clock.advance(TimeDelta::minutes(59));
            assert_eq!(
                app.call(Method::GET, "/api/v1/me", &[("cookie", &pair)], None)
                    .await
                    .status,
                200
            );
        }
        fixture.clock.advance(TimeDelta::minutes(59));
        app.call(Method::GET, "/api/v1/me", &[("cookie", &pair)], None)
            .await
            .problem(401);

        let audit = audit_text(&ledger).await;
        assert!(audit.contains("rae create login_attempt"), "{audit}");
        assert!(audit.contains("rae create session"), "{audit}");
        assert!(
            audit.contains("rae update session"),
            "sign-out is audited: {audit}"
        );
        let cookie_value = pair.split_once('=').unwrap().1;
        assert!(!audit.contains(cookie_value) && !audit.contains(&csrf));
        assert!(!audit.contains(PASSWORD));
    })
    .await;
}

#[tokio::test]
async fn a_secure_cookie_when_configured() {
    let config = ServerConfig {
        secure_cookies: true,
        ..ServerConfig::default()
    };
    let Some((app, fixture)) = spawn_fixture(config, Backend::Sqlite).await else {
        return;
    };
    user(&fixture.ledger(), "rae", Vec::new()).await;
    let reply = app
        .call(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"login": "rae", "password": PASSWORD})),
        )
        .await;
    assert!(set_cookie(&reply).contains("; Secure"));
}

#[tokio::test]
async fn bad_sign_ins_are_refused_alike_and_recorded() {
    each_backend(|app, fixture| async move {
        let ledger = fixture.ledger();
        user(&ledger, "rae", Vec::new()).await;
        user(&ledger, "old", Vec::new()).await;
        ledger
            .set_user_disabled("setup", "old", true)
            .await
            .unwrap();
        let attempt = |login: &'static str, password: &'static str| {
            app.call(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(json!({"login": login, "password": password})),
            )
        };
        let wrong = attempt("rae", "not the password at all").await.problem(401);
        let unknown = attempt("nobody", "not the password at all")
            .await
            .problem(401);
        assert_eq!(wrong["detail"], unknown["detail"], "no user enumeration");
        assert_eq!(wrong["detail"], "wrong login or password");
        let disabled = attempt("old", PASSWORD).await.problem(401);
        assert!(disabled["detail"].as_str().unwrap().contains("disabled"));
        // A disabled account's sessions stop too.
        let (pair, _) = sign_in(&app, "rae").await;
        ledger
            .set_user_disabled("setup", "rae", true)
            .await
            .unwrap();
        app.call(Method::GET, "/api/v1/me", &[("cookie", &pair)], None)
            .await
            .problem(401);
        // A body that is not a sign-in names its field.
        let typo = app
            .call(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(json!({"login": "rae", "pasword": "x"})),
            )
            .await
            .problem(400);
        assert_eq!(typo["errors"][0]["field"], "pasword", "{typo}");

        let audit = audit_text(&ledger).await;
        assert_eq!(audit.matches("create login_attempt").count(), 4, "{audit}");
        assert!(audit.contains("nobody create login_attempt"));
        assert!(audit.contains(r#"\"outcome\":\"failed\""#), "{audit}");
        assert!(!audit.contains("not the password at all") && !audit.contains(PASSWORD));
    })
    .await;
}

#[tokio::test]
async fn sign_ins_are_rate_limited_per_account_and_name_the_wait() {
    each_backend(|app, fixture| async move {
        let ledger = fixture.ledger();
        user(&ledger, "rae", Vec::new()).await;
        let attempt = |password: &'static str| {
            app.call(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(json!({"login": "rae", "password": password})),
            )
        };
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            attempt("guess guess guess").await.problem(401);
        }
        // Now even the right password waits.
        let limited = attempt(PASSWORD).await;
        let problem = limited.problem(429);
        let retry: u64 = limited.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((899..=900).contains(&retry), "{retry}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("try again in 15 minutes"),
            "{problem}"
        );
        // Another server on the same database agrees: the state is in the ledger.
        let again = fixture
            .ledger()
            .login("rae", PASSWORD, "127.0.0.1")
            .await
            .unwrap();
        assert!(matches!(again, greenlight_store::Login::Throttled { .. }));
        // Once the failures leave the window, the right password works.
        fixture.clock.advance(TimeDelta::minutes(15));
        assert_eq!(attempt(PASSWORD).await.status, 201);
        assert!(
            audit_text(&ledger)
                .await
                .contains(r#"\"outcome\":\"throttled\""#)
        );
    })
    .await;
}

#[tokio::test]
async fn signed_in_writes_need_the_csrf_token_and_write_nothing_without() {
    each_backend(|app, fixture| async move {
        let ledger = fixture.ledger();
        user(&ledger, "ada", vec![GlobalRole::Admin]).await;
        let (cookie, csrf) = sign_in(&app, "ada").await;
        let before = ledger.audit_entries(None, 1_000).await.unwrap().len();
        let new_user = json!({"login": "cam", "password": PASSWORD});
        let missing = app
            .call(
                Method::POST,
                "/api/v1/users",
                &[("cookie", &cookie)],
                Some(new_user.clone()),
            )
            .await
            .problem(403);
        assert!(
            missing["detail"].as_str().unwrap().contains("X-CSRF-Token"),
            "{missing}"
        );
        app.call(
            Method::POST,
            "/api/v1/users",
            &[("cookie", &cookie), ("x-csrf-token", "forged")],
            Some(new_user.clone()),
        )
        .await
        .problem(403);
        app.call(
            Method::DELETE,
            "/api/v1/session",
            &[("cookie", &cookie), ("x-csrf-token", "forged")],
            None,
        )
        .await
        .problem(403);
        assert_eq!(
            ledger.audit_entries(None, 1_000).await.unwrap().len(),
            before
        );
        assert!(ledger.user("cam").await.is_err(), "nothing written");
        // Reads need none.
        assert_eq!(
            app.call(Method::GET, "/api/v1/users", &[("cookie", &cookie)], None)
                .await
                .status,
            200
        );
        let created = app
            .call(
                Method::POST,
                "/api/v1/users",
                &[("cookie", &cookie), ("x-csrf-token", &csrf)],
                Some(new_user),
            )
            .await;
        assert_eq!(
            created.status,
            201,
            "{}",
            String::from_utf8_lossy(&created.body)
        );
        assert_eq!(ledger.user("cam").await.unwrap().login, "cam");
    })
    .await;
}

#[tokio::test]
async fn admins_create_users_and_change_roles_and_nobody_else_does() {
    each_backend(|app, fixture| async move {
        let ledger = fixture.ledger();
        user(&ledger, "ada", vec![GlobalRole::Admin]).await;
        user(&ledger, "cam", Vec::new()).await;
        let (admin, admin_csrf) = sign_in(&app, "ada").await;
        let (cam, cam_csrf) = sign_in(&app, "cam").await;
        let write = [
            ("cookie", admin.as_str()),
            ("x-csrf-token", admin_csrf.as_str()),
        ];
        let created = app
            .call(
                Method::POST,
                "/api/v1/users",
                &write,
                Some(json!({"login": "aud", "name": "Audrey"})),
            )
            .await;
        assert_eq!(created.status, 201);
        let generated = created.json()["password"].as_str().unwrap().to_owned();
        assert_eq!(generated.len(), 24);
        let roles = app
            .call(
                Method::PUT,
                "/api/v1/users/aud/roles",
                &write,
                Some(json!({"roles": ["auditor"]})),
            )
            .await;
        assert_eq!(roles.status, 200);
        assert_eq!(roles.json()["roles"], json!(["auditor"]));
        let bad = app
            .call(
                Method::PUT,
                "/api/v1/users/aud/roles",
                &write,
                Some(json!({"roles": ["boss"]})),
            )
            .await
            .problem(422);
        assert_eq!(bad["errors"][0]["field"], "roles");
        app.call(
            Method::PUT,
            "/api/v1/users/nobody/roles",
            &write,
            Some(json!({"roles": []})),
        )
        .await
        .problem(404);
        let listed = app
            .call(Method::GET, "/api/v1/users", &[("cookie", &admin)], None)
            .await;
        let text = String::from_utf8_lossy(&listed.body).into_owned();
        assert!(
            text.contains("\"aud\"") && !text.contains("argon2"),
            "{text}"
        );
        // Cam is no admin.
        let refused = app
            .call(
                Method::PUT,
                "/api/v1/users/cam/roles",
                &[("cookie", &cam), ("x-csrf-token", &cam_csrf)],
                Some(json!({"roles": ["admin"]})),
            )
            .await
            .problem(403);
        assert!(
            refused["detail"].as_str().unwrap().contains("`cam`"),
            "{refused}"
        );
        app.call(Method::GET, "/api/v1/users", &[("cookie", &cam)], None)
            .await
            .problem(403);
        // Paging by key, and a query string that does not fit is a problem naming it.
        let first = app
            .call(
                Method::GET,
                "/api/v1/users?limit=1",
                &[("cookie", &admin)],
                None,
            )
            .await
            .json();
        assert_eq!(first["users"].as_array().unwrap().len(), 1);
        let next = first["next"].as_str().unwrap();
        let second = app
            .call(
                Method::GET,
                &format!("/api/v1/users?limit=1&after={next}"),
                &[("cookie", &admin)],
                None,
            )
            .await
            .json();
        assert_ne!(second["users"][0]["login"], first["users"][0]["login"]);
        let bad = app
            .call(
                Method::GET,
                "/api/v1/users?limt=1",
                &[("cookie", &admin)],
                None,
            )
            .await
            .problem(400);
        assert_eq!(bad["errors"][0]["field"], "limt", "{bad}");
        // The generated password signs in.
        let signed = app
            .call(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(json!({"login": "aud", "password": generated})),
            )
            .await;
        assert_eq!(signed.status, 201);
        let audit = audit_text(&ledger).await;
        assert!(audit.contains("ada create user aud"), "{audit}");
        assert!(audit.contains("ada update user aud"), "{audit}");
        assert!(!audit.contains(&generated));
    })
    .await;
}
