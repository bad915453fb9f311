//! A ledger with one account per role, each with an API token, made through the store: the
//! setting of the authorization matrix, the bad-input tests and the story.

use std::sync::Arc;

use axum::http::Method;
use chrono::TimeDelta;
use greenlight_store::{
    ConsentKind, ConsentScope, ConsentStatus, Contact, GlobalRole, Ledger, Member, NewConsent,
    NewPerformer, NewProduction, NewScan, NewToken, NewTool, NewUser, Production, Role, Store,
    TokenRole,
};
use serde_json::Value;

use crate::support::{App, BACKENDS, Fixture, Reply, root, spawn_fixture};

pub const PASSWORD: &str = "correct horse battery staple";

/// Who calls, in the matrix's column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Coordinator,
    Vendor,
    Reviewer,
    Legal,
    Auditor,
    Admin,
    /// A coordinator of another production.
    Other,
    /// No credential at all.
    Nobody,
    /// A coordinator of the production whose token has expired.
    Expired,
    /// A coordinator of the production whose token was revoked.
    Revoked,
    /// The admin signed in with a password (a session cookie and its CSRF token), not a token.
    AdminSession,
}

impl Who {
    pub const ALL: [Who; 11] = [
        Who::Coordinator,
        Who::Vendor,
        Who::Reviewer,
        Who::Legal,
        Who::Auditor,
        Who::Admin,
        Who::Other,
        Who::Nobody,
        Who::Expired,
        Who::Revoked,
        Who::AdminSession,
    ];

    /// The account's login (`Nobody` has none).
    pub fn login(self) -> &'static str {
        match self {
            Who::Coordinator => "cam",
            Who::Vendor => "vic",
            Who::Reviewer => "rae",
            Who::Legal => "lee",
            Who::Auditor => "aud",
            Who::Admin => "ada",
            Who::Other => "oto",
            Who::Nobody => "",
            Who::Expired => "exp",
            Who::Revoked => "rev",
            Who::AdminSession => "ada",
        }
    }
}

/// The ledger the tests act on, and a token per caller.
pub struct World {
    pub app: App,
    pub ledger: Ledger<dyn Store>,
    /// The production everyone but `Other` works on.
    pub production: Production,
    /// The production `Other` works on.
    pub elsewhere: Production,
    pub tool: String,
    pub performer: String,
    /// A pending consent of the performer for `production`.
    pub consent: String,
    /// An escalated declaration of `production`, submitted by the coordinator.
    pub declaration: String,
    /// A token of `spare`'s, for a route that revokes one.
    pub spare_token: String,
    /// A recorded scan of `production`, in progress.
    pub scan: String,
    tokens: Vec<(Who, String, String)>,
}

/// An example declaration's TOML.
pub fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).unwrap()
}

/// An example declaration's TOML, for the production `The Long Night`.
pub fn for_the_long_night(name: &str) -> String {
    example(name)
        .lines()
        .map(|line| {
            if line.starts_with("production = ") {
                "production = \"The Long Night\"".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A declaration that triages to escalate.
pub fn escalating() -> String {
    for_the_long_night("body-prop-read-aloud.toml")
}

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

fn member(person: &str, role: Role) -> Member {
    Member {
        person: person.to_owned(),
        name: person.to_owned(),
        roles: vec![role],
    }
}

async fn new_production(
    ledger: &Ledger<dyn Store>,
    title: &str,
    members: Vec<Member>,
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
                members,
            },
        )
        .await
        .unwrap()
}

impl World {
    /// The world on a fresh database of each backend in turn (PostgreSQL when configured).
    pub async fn each<F, Fut>(test: F)
    where
        F: Fn(World) -> Fut,
        Fut: Future<Output = ()>,
    {
        for backend in BACKENDS {
            let Some((app, fixture)) =
                spawn_fixture(greenlight_server::ServerConfig::default(), backend).await
            else {
                continue;
            };
            eprintln!("on {backend:?}");
            let world = World::build(app, &fixture).await;
            test(world).await;
            if let Ok(fixture) = Arc::try_unwrap(fixture) {
                fixture.cleanup().await;
            }
        }
    }

    async fn build(app: App, fixture: &Fixture) -> World {
        let ledger = fixture.ledger();
        user(&ledger, "ada", vec![GlobalRole::Admin]).await;
        user(&ledger, "aud", vec![GlobalRole::Auditor]).await;
        for login in ["cam", "vic", "rae", "lee", "oto", "exp", "rev", "spare"] {
            user(&ledger, login, Vec::new()).await;
        }
        let production = new_production(
            &ledger,
            "The Long Night",
            vec![
                member("cam", Role::Coordinator),
                member("vic", Role::Vendor),
                member("rae", Role::Reviewer),
                member("lee", Role::Legal),
                member("exp", Role::Coordinator),
                member("rev", Role::Coordinator),
            ],
        )
        .await;
        let elsewhere =
            new_production(&ledger, "Elsewhere", vec![member("oto", Role::Coordinator)]).await;
        let tool = ledger
            .register_tool(
                "setup",
                NewTool {
                    vendor: "Example".to_owned(),
                    product: "Gen".to_owned(),
                    ..NewTool::default()
                },
            )
            .await
            .unwrap();
        let performer = ledger
            .register_performer(
                "setup",
                NewPerformer {
                    name: "A. Performer".to_owned(),
                    ..NewPerformer::default()
                },
            )
            .await
            .unwrap();
        let consent = ledger
            .record_consent(
                "setup",
                NewConsent {
                    performer_id: performer.id,
                    kind: ConsentKind::DigitalAlteration,
                    scope: ConsentScope {
                        production_id: production.id,
                        media: Vec::new(),
                        description: "de-ageing in the flashback scenes".to_owned(),
                    },
                    given_by: "A. Performer".to_owned(),
                    status: ConsentStatus::Pending,
                    expires_at: None,
                    document_sha256: None,
                },
            )
            .await
            .unwrap();
        let scan = ledger
            .begin_scan(
                "setup",
                NewScan {
                    production_id: production.id,
                    scanner: "greenlight test".to_owned(),
                    roots: vec!["deliverables".to_owned()],
                    verified: false,
                    strict: false,
                    started_at: ledger.now(),
                },
            )
            .await
            .unwrap();
        let now = ledger.now();
        let mut tokens = Vec::new();
        for who in Who::ALL {
            let role = match who {
                Who::Nobody | Who::AdminSession => continue,
                Who::Auditor => TokenRole::Global(GlobalRole::Auditor),
                Who::Admin => TokenRole::Global(GlobalRole::Admin),
                Who::Vendor => TokenRole::Production(Role::Vendor),
                Who::Reviewer => TokenRole::Production(Role::Reviewer),
                Who::Legal => TokenRole::Production(Role::Legal),
                Who::Coordinator | Who::Other | Who::Expired | Who::Revoked => {
                    TokenRole::Production(Role::Coordinator)
                }
            };
            let lasts = if who == Who::Expired {
                TimeDelta::hours(1)
            } else {
                TimeDelta::days(30)
            };
            let issued = ledger
                .create_token(
                    "setup",
                    NewToken {
                        user_login: who.login().to_owned(),
                        name: format!("{who:?}"),
                        productions: Vec::new(),
                        role,
                        expires_at: now.plus(lasts),
                    },
                )
                .await
                .unwrap();
            if who == Who::Revoked {
                ledger
                    .revoke_token("setup", &issued.token.id)
                    .await
                    .unwrap();
            }
            tokens.push((who, issued.token.id, issued.secret));
        }
        let spare = ledger
            .create_token(
                "setup",
                NewToken {
                    user_login: "spare".to_owned(),
                    name: "spare".to_owned(),
                    productions: Vec::new(),
                    role: TokenRole::Production(Role::Coordinator),
                    expires_at: now.plus(TimeDelta::days(30)),
                },
            )
            .await
            .unwrap();
        fixture.clock.advance(TimeDelta::hours(2));
        let mut world = World {
            app,
            ledger,
            production,
            elsewhere,
            tool: tool.id.to_string(),
            performer: performer.id.to_string(),
            consent: consent.id.to_string(),
            declaration: String::new(),
            spare_token: spare.token.id,
            scan: scan.id.to_string(),
            tokens,
        };
        let reply = world
            .send(
                Who::Coordinator,
                Method::POST,
                &format!("/api/v1/declarations?production={}", world.production.id),
                Some(("application/toml", escalating())),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let body = reply.json();
        assert_eq!(body["decision"]["level"], "escalate", "{body}");
        world.declaration = body["declaration"]["id"].as_str().unwrap().to_owned();
        world
    }

    /// The secret of a caller's token (`None` for `Nobody`).
    pub fn secret(&self, who: Who) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _, _)| *w == who)
            .map(|(_, _, secret)| secret.as_str())
    }

    /// A request as `who`, with a body of a content type.
    pub async fn send(
        &self,
        who: Who,
        method: Method,
        path: &str,
        body: Option<(&str, String)>,
    ) -> Reply {
        let auth = self.secret(who).map(|s| format!("Bearer {s}"));
        let session = if who == Who::AdminSession {
            Some(self.sign_in(who.login()).await)
        } else {
            None
        };
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        if let Some((cookie, csrf)) = &session {
            headers.push(("cookie", cookie));
            headers.push(("x-csrf-token", csrf));
        }
        if let Some((content_type, _)) = &body {
            headers.push(("content-type", content_type));
        }
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.app.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let bytes = body.map(|(_, b)| b).unwrap_or_default();
        use http_body_util::BodyExt as _;
        let request = request
            .body(http_body_util::Full::new(axum::body::Bytes::from(bytes)).boxed())
            .unwrap();
        self.app.send_request(request).await
    }

    /// Signs in with the password: the cookie pair (`greenlight_session=…`) and the CSRF token.
    pub async fn sign_in(&self, login: &str) -> (String, String) {
        let reply = self
            .app
            .call(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(serde_json::json!({"login": login, "password": PASSWORD})),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let cookie = reply.headers["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = reply.json()["csrf_token"].as_str().unwrap().to_owned();
        (cookie, csrf)
    }

    /// A JSON request as `who`.
    pub async fn json(&self, who: Who, method: Method, path: &str, body: Value) -> Reply {
        self.send(
            who,
            method,
            path,
            Some(("application/json", body.to_string())),
        )
        .await
    }

    /// How many entries the audit log holds.
    pub async fn audit_len(&self) -> usize {
        let mut n = 0;
        let mut after = None;
        loop {
            let page = self.ledger.audit_entries(after, 1_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            n += page.len();
        }
        n
    }
}
