//! The web pages over real HTTP, as a browser without JavaScript uses them: a cookie jar,
//! forms posted urlencoded with their hidden form token, redirects looked at one by one.

use reqwest::redirect::Policy;

use crate::world::{PASSWORD, World};

/// A browser: a cookie jar that follows no redirect by itself.
pub struct Browser {
    client: reqwest::Client,
    base: String,
}

/// A page as the browser got it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub csp: Option<String>,
    pub body: String,
}

impl Page {
    /// The page's form token (the first hidden `csrf` field).
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no form token on the page: {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// The id of the declaration a `Location` points at.
    pub fn declaration_id(&self) -> String {
        let location = self.location.as_deref().expect("a redirect");
        location
            .trim_start_matches("/declarations/")
            .split('?')
            .next()
            .unwrap()
            .to_owned()
    }
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    async fn read(response: reqwest::Response) -> Page {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (location, csp) = (header("location"), header("content-security-policy"));
        Page {
            status: response.status().as_u16(),
            location,
            csp,
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Browser::read(response).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap();
        Browser::read(response).await
    }

    /// Signs in through the sign-in form; to the dashboard.
    pub async fn signed_in(base: &str, login: &str) -> Browser {
        let browser = Browser::new(base);
        let page = browser
            .post("/sign-in", &[("login", login), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some("/"));
        browser
    }
}

/// Every answer of the form, as a coordinator would give them for a story-relevant prop in a
/// final deliverable (which escalates), with `tool` ticked.
pub fn declaration_form<'a>(
    csrf: &'a str,
    production: &'a str,
    tool: &'a str,
    title: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf", csrf),
        ("title", title),
        ("production", production),
        ("stage", "production"),
        ("purpose", "prop"),
        ("media", "image"),
        (
            "description",
            "The captain's letter, read aloud in close-up.",
        ),
        ("replaces_union_work", "no"),
        ("tools", tool),
        ("tool_other", ""),
        ("output.prominence", "story_relevant"),
        ("references.copyrighted_works", ""),
        ("performer", ""),
        ("performer.use", ""),
    ];
    for (name, answer) in [
        ("inputs.proprietary_material", "no"),
        ("inputs.contracts", "no"),
        ("inputs.unreleased_footage", "no"),
        ("inputs.personal_data", "no"),
        ("inputs.talent_likeness", "no"),
        ("inputs.third_party_material", "no"),
        ("inputs.rights_cleared", "yes"),
        ("inputs.trains_model", "no"),
        ("output.final_deliverable", "yes"),
        ("output.depicts_real_people", "no"),
        ("output.depicts_real_events", "no"),
        ("output.could_mislead", "no"),
        ("output.disclosed", "no"),
        ("output.handed_to_writers", "no"),
        ("output.advertisement", "no"),
        ("references.permission", "yes"),
        ("performer.recognizable", "unsure"),
        ("performer.same_production", "unsure"),
        ("director_consulted", "yes"),
        ("copyright_registration", "no"),
        ("script.writer_told", "unsure"),
        ("script.writer_chose_ai", "unsure"),
        ("script.company_consented", "unsure"),
        ("script.writer_required", "no"),
        ("principles.p1_no_ip_replication", "yes"),
        ("principles.p2_no_training_or_retention", "yes"),
        ("principles.p3_enterprise_secured", "yes"),
        ("principles.p4_temporary", "no"),
        ("principles.p5_no_talent_replacement", "yes"),
    ] {
        fields.push((name, answer));
    }
    fields
}

/// Every page route, as a `GET` (with `{declaration}` for the world's declaration).
const PAGES: &[&str] = &[
    "/",
    "/tokens",
    "/accounts",
    "/declare",
    "/declarations/{declaration}",
    "/declarations/{declaration}/revise",
    "/declarations/{declaration}/approval",
    "/drafts",
    "/queue",
    "/audit",
    "/productions",
    "/productions/{production}",
    "/tools",
    "/tools/{tool}",
    "/performers",
    "/performers/{performer}",
    "/scans",
    "/scans/{scan}",
    "/policy",
    "/outbox",
];

/// Every form route (`{declaration}`, `{token}` filled in).
const FORMS: &[&str] = &[
    "/sign-out",
    "/tokens",
    "/tokens/{token}/revoke",
    "/accounts",
    "/accounts/spare/state",
    "/productions",
    "/productions/{production}/members",
    "/productions/{production}/members/remove",
    "/declare",
    "/declarations/{declaration}/review",
    "/declarations/{declaration}/revise",
    "/drafts/0190f0e0-0000-7000-8000-000000000000/delete",
    "/audit/verify",
    "/tools",
    "/tools/{tool}/terms",
    "/performers",
    "/performers/{performer}/consents",
    "/consents/{consent}/document",
    "/consents/{consent}/revoke",
    "/outbox/0190c0de-0000-7000-8000-000000000000/retry",
];

/// A route with the world's ids in place of `{declaration}`, `{token}`, `{production}`,
/// `{tool}`, `{performer}`, `{consent}` and `{scan}`.
fn fill(world: &World, route: &str) -> String {
    route
        .replace("{declaration}", &world.declaration)
        .replace("{token}", &world.spare_token)
        .replace("{production}", &world.production.id.to_string())
        .replace("{tool}", &world.tool)
        .replace("{performer}", &world.performer)
        .replace("{consent}", &world.consent)
        .replace("{scan}", &world.scan)
}

#[tokio::test]
async fn signed_out_every_page_goes_to_sign_in_and_shows_no_data() {
    World::each(|world| async move {
        // The whole world, so its server lives to the end (a field alone would be captured).
        let world = world;
        let browser = Browser::new(&world.app.base);
        for route in PAGES {
            let path = fill(&world, route);
            let page = browser.get(&path).await;
            assert_eq!(page.status, 303, "{path}: {}", page.body);
            assert_eq!(page.location.as_deref(), Some("/sign-in"), "{path}");
            assert!(!page.body.contains("The Long Night"), "{path}");
        }
        for route in FORMS {
            let path = fill(&world, route);
            let page = browser.post(&path, &[("csrf", "x")]).await;
            assert_eq!(page.status, 303, "{path}: {}", page.body);
            assert_eq!(page.location.as_deref(), Some("/sign-in"), "{path}");
        }
        // A bearer token is not a browser's credential: the pages do not take it.
        let page = Browser::new(&world.app.base);
        let response = page
            .client
            .get(format!("{}/", world.app.base))
            .header(
                "authorization",
                format!("Bearer {}", world.secret(crate::world::Who::Admin).unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
    })
    .await;
}

#[tokio::test]
async fn sign_in_keeps_the_login_on_an_error_and_signs_out() {
    World::each(|world| async move {
        // The whole world, so its server lives to the end (a field alone would be captured).
        let world = world;
        let browser = Browser::new(&world.app.base);
        let page = browser.get("/sign-in").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("<form method=\"post\" action=\"/sign-in\">")
        );
        assert!(page.csp.as_deref().unwrap().contains("form-action 'self'"));
        assert!(
            !page.body.contains("api/v1/session/oidc"),
            "no OIDC button unconfigured"
        );

        let page = browser
            .post(
                "/sign-in",
                &[("login", "cam"), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(page.status, 401, "{}", page.body);
        assert!(page.body.contains("value=\"cam\""), "the login is kept");
        assert!(
            !page.body.contains("wrong password!"),
            "the password is not"
        );
        assert!(page.body.contains("role=\"alert\""));

        let page = browser
            .post("/sign-in", &[("login", ""), ("password", "")])
            .await;
        assert_eq!(page.status, 422);

        // A sign-in posted from another site is refused.
        let response = browser
            .client
            .post(format!("{}/sign-in", world.app.base))
            .header("origin", "https://evil.example")
            .form(&[("login", "cam"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);

        let browser = Browser::signed_in(&world.app.base, "cam").await;
        let page = browser.get("/").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Signed in as <strong>cam</strong>"));
        assert!(page.body.contains("The Long Night"));
        assert!(!page.body.contains("Elsewhere"), "not cam's production");
        let csrf = page.csrf();

        // Without the form token, or with another, nothing is done.
        let page = browser.post("/sign-out", &[]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        let page = browser.post("/sign-out", &[("csrf", "0123")]).await;
        assert_eq!(page.status, 403);
        assert_eq!(browser.get("/").await.status, 200, "still signed in");

        let page = browser.post("/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location.as_deref(), Some("/sign-in"));
        assert_eq!(browser.get("/").await.status, 303, "signed out");
    })
    .await;
}

#[tokio::test]
async fn a_token_is_shown_once_and_revoked() {
    World::each(|world| async move {
        // The whole world, so its server lives to the end (a field alone would be captured).
        let world = world;
        let browser = Browser::signed_in(&world.app.base, "cam").await;
        let page = browser.get("/tokens").await;
        assert_eq!(page.status, 200);
        let csrf = page.csrf();

        let page = browser
            .post(
                "/tokens",
                &[
                    ("csrf", &csrf),
                    ("name", ""),
                    ("role", "coordinator"),
                    ("days", "900"),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("id=\"name-error\""), "{}", page.body);

        let page = browser
            .post(
                "/tokens",
                &[
                    ("csrf", &csrf),
                    ("name", "<pipeline>"),
                    ("role", "vendor"),
                    ("days", "30"),
                ],
            )
            .await;
        assert_eq!(page.status, 201, "{}", page.body);
        assert!(page.body.contains("&#60;pipeline&#62;"), "escaped");
        assert!(!page.body.contains("<pipeline>"));
        let at = page.body.find("id=\"secret\">").unwrap() + "id=\"secret\">".len();
        let secret = page.body[at..].split('<').next().unwrap().to_owned();
        assert!(secret.starts_with("glt_"), "{secret}");

        // The secret works for the API, and the list never shows it again.
        let me = reqwest::Client::new()
            .get(format!("{}/api/v1/me", world.app.base))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let page = browser.get("/tokens").await;
        assert!(!page.body.contains(&secret));
        let id = {
            // The revoke button of this token (cam has the world's token too).
            let button = page
                .body
                .find("aria-label=\"Revoke &#60;pipeline&#62;\"")
                .unwrap();
            let at =
                page.body[..button].rfind("action=\"/tokens/").unwrap() + "action=\"/tokens/".len();
            page.body[at..].split('/').next().unwrap().to_owned()
        };

        // Someone else's token cannot be revoked from here.
        let page = browser
            .post(
                &format!("/tokens/{}/revoke", world.spare_token),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(page.status, 403, "{}", page.body);

        let page = browser
            .post(&format!("/tokens/{id}/revoke"), &[("csrf", &csrf)])
            .await;
        assert_eq!(page.status, 303);
        let me = reqwest::Client::new()
            .get(format!("{}/api/v1/me", world.app.base))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 401, "revoked");
        assert!(browser.get("/tokens").await.body.contains("revoked"));
    })
    .await;
}

#[tokio::test]
async fn the_form_shows_each_error_beside_its_field_and_keeps_what_was_typed() {
    World::each(|world| async move {
        // The whole world, so its server lives to the end (a field alone would be captured).
        let world = world;
        let browser = Browser::signed_in(&world.app.base, "cam").await;
        let page = browser.get("/declare").await;
        assert_eq!(page.status, 200);
        let csrf = page.csrf();
        let production = world.production.id.to_string();
        assert!(page.body.contains(&production), "cam's production is offered");
        assert!(!page.body.contains(&world.elsewhere.id.to_string()), "not another's");
        assert!(page.body.contains(&world.tool), "the registered tool is offered");
        // The principles come last.
        assert!(page.body.find("The five principles").unwrap() > page.body.find("What comes out").unwrap());

        let before = world.audit_len().await;
        // A missing answer and an unknown tool.
        let mut fields: Vec<(&str, &str)> =
            declaration_form(&csrf, &production, &world.tool, "Letter <b>prop")
                .into_iter()
                .filter(|(name, _)| *name != "inputs.personal_data")
                .collect();
        fields.retain(|(name, _)| *name != "tool_other");
        fields.push(("tool_other", "Imaginary Generator 9"));
        let page = browser.post("/declare", &fields).await;
        assert_eq!(page.status, 422, "{}", page.body);
        let error_of = |id: &str| {
            let at = page.body.find(&format!("id=\"{id}-error\"")).unwrap_or_else(|| panic!("no error at {id}: {}", page.body));
            page.body[at..].split('<').next().unwrap().to_owned()
        };
        assert!(error_of("f-inputs-personal-data").contains("answer yes, no or unsure"));
        assert!(error_of("f-tool-other").contains("unknown tool"));
        assert!(
            page.body.contains("Personal data of anyone? answer yes, no or unsure"),
            "the summary names the question"
        );
        assert!(error_of("f-tool-other").contains("Imaginary Generator 9"));
        // Beside the field: the error sits inside the field's own fieldset.
        let fieldset = page.body.find("id=\"f-inputs-personal-data\"").unwrap();
        let error = page.body.find("id=\"f-inputs-personal-data-error\"").unwrap();
        assert!(error > fieldset && error - fieldset < 600);
        // What was typed is kept, escaped.
        assert!(page.body.contains("value=\"Letter &#60;b&#62;prop\""), "{}", page.body);
        assert!(page.body.contains("value=\"Imaginary Generator 9\""));
        assert!(page.body.contains("id=\"f-inputs-contracts-no\" type=\"radio\" name=\"inputs.contracts\" value=\"no\" checked"));
        assert!(page.body.contains(&format!("value=\"{}\" checked", world.tool)));
        // Nothing was recorded.
        assert_eq!(before, world.audit_len().await);
    })
    .await;
}

#[tokio::test]
async fn declare_review_approve_and_audit_in_the_browser() {
    World::each(|world| async move {
        // The whole world, so its server lives to the end (a field alone would be captured).
        let world = world;
        let production = world.production.id.to_string();
        // The coordinator declares the use through the form; it escalates.
        let cam = Browser::signed_in(&world.app.base, "cam").await;
        let csrf = cam.get("/declare").await.csrf();
        let fields = declaration_form(&csrf, &production, &world.tool, "The captain's letter <i>");
        let page = cam.post("/declare", &fields).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let id = page.declaration_id();
        let page = cam.get(page.location.as_deref().unwrap()).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Your declaration is recorded"));
        assert!(
            page.body.contains("The captain&#39;s letter &#60;i&#62;")
                || page.body.contains("The captain&#x27;s letter &#60;i&#62;"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("level-escalate\">escalate"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Wait for written approval"));
        assert!(page.body.contains("<dt>Remedy</dt>"));
        assert!(page.body.contains("<dt>Cites</dt>"));
        assert!(
            !page.body.contains("Record the review"),
            "no panel for the submitter"
        );

        // The reviewer finds it in the queue, oldest first, and approves it with a scope.
        let rae = Browser::signed_in(&world.app.base, "rae").await;
        let page = rae.get("/queue").await;
        assert_eq!(page.status, 200);
        let older = page.body.find(&world.declaration).unwrap();
        let newer = page.body.find(&id).unwrap();
        assert!(older < newer, "oldest first");
        let page = rae.get("/queue?purpose=storyboard").await;
        assert!(!page.body.contains(&id), "filtered out by purpose");
        let page = rae
            .get(&format!("/queue?production={production}&purpose=prop"))
            .await;
        assert!(page.body.contains(&id));
        let page = rae.get(&format!("/declarations/{id}")).await;
        assert!(page.body.contains("Record the review"));
        let csrf = page.csrf();
        let path = format!("/declarations/{id}/review");
        let page = rae
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("verdict", "approved"),
                    ("scope", ""),
                    ("note", "kept"),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("id=\"scope-error\""));
        assert!(
            page.body.contains(">kept</textarea>"),
            "the note typed is kept"
        );
        let page = rae
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("verdict", "approved"),
                    ("scope", "GFX/ep105/letter_*.exr\n"),
                    ("conditions", "not in the trailer"),
                    ("expires", "2027-06-30"),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert!(
            !rae.get("/queue").await.body.contains(&id),
            "reviewed: out of the queue"
        );

        // The coordinator sees the approval.
        let page = cam.get(&format!("/declarations/{id}")).await;
        assert!(page.body.contains("Approved by rae"), "{}", page.body);
        assert!(page.body.contains("GFX/ep105/letter_*.exr"));
        assert!(page.body.contains("not in the trailer"));
        assert!(page.body.contains("Expires 2027-06-30"));
        assert!(page.body.contains("Approved: go ahead"));

        // The auditor sees both in the log and runs the verification.
        let aud = Browser::signed_in(&world.app.base, "aud").await;
        let page = aud.get(&format!("/audit?record={id}")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("cam"), "{}", page.body);
        let page = aud.get("/audit?person=rae").await;
        assert!(
            page.body.contains("approval") || page.body.contains("review"),
            "{}",
            page.body
        );
        assert!(!page.body.contains(">cam<"), "filtered to rae");
        let csrf = page.csrf();
        let page = aud.post("/audit/verify", &[("csrf", &csrf)]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains("Verified: the log is intact"),
            "{}",
            page.body
        );

        // A coordinator of another production cannot open it, by link either.
        let oto = Browser::signed_in(&world.app.base, "oto").await;
        let page = oto.get(&format!("/declarations/{id}")).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(!page.body.contains("captain"));
        assert!(!oto.get("/queue").await.body.contains(&id));
        assert!(!oto.get("/").await.body.contains("The Long Night"));
        let csrf = oto.get("/").await.csrf();
        let page = oto
            .post(
                &path,
                &[("csrf", &csrf), ("verdict", "rejected"), ("note", "no")],
            )
            .await;
        assert_eq!(page.status, 403);
    })
    .await;
}

#[tokio::test]
async fn every_page_refuses_a_caller_without_the_role() {
    World::each(|world| async move {
        // The whole world, so its server lives to the end (a field alone would be captured).
        let world = world;
        let declaration = format!("/declarations/{}", world.declaration);
        // Who may not, and where: (login, page) answered 403 without the data.
        for (login, path) in [
            ("cam", "/audit"),
            ("rae", "/audit"),
            ("oto", declaration.as_str()),
        ] {
            let browser = Browser::signed_in(&world.app.base, login).await;
            let page = browser.get(path).await;
            assert_eq!(page.status, 403, "{login} {path}: {}", page.body);
            assert!(
                !page.body.contains("body-prop") && !page.body.contains("letter"),
                "{login} {path}"
            );
        }
        // A vendor may read the declaration but not review it.
        let vic = Browser::signed_in(&world.app.base, "vic").await;
        let page = vic.get(&declaration).await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("Record the review"));
        let csrf = page.csrf();
        let page = vic
            .post(
                &format!("{declaration}/review"),
                &[("csrf", &csrf), ("verdict", "approved"), ("scope", "*")],
            )
            .await;
        assert_eq!(page.status, 403);
        // Nor audit: verifying is the auditor's and the admin's.
        let page = vic.post("/audit/verify", &[("csrf", &csrf)]).await;
        assert_eq!(page.status, 403);
        // The auditor's global role does not make them a member who declares.
        let aud = Browser::signed_in(&world.app.base, "aud").await;
        let page = aud.get("/declare").await;
        assert_eq!(page.status, 403, "{}", page.body);
    })
    .await;
}

#[tokio::test]
async fn the_stylesheet_is_served_and_pages_allow_no_script() {
    World::each(|world| async move {
        // The whole world, so its server lives to the end (a field alone would be captured).
        let world = world;
        let browser = Browser::new(&world.app.base);
        let response = reqwest::get(format!("{}/static/greenlight.css", world.app.base))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        assert!(response.text().await.unwrap().contains(":focus-visible"));
        let page = browser.get("/sign-in").await;
        let csp = page.csp.unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{csp}"
        );
        let response = reqwest::get(format!("{}/sign-in", world.app.base))
            .await
            .unwrap();
        assert_eq!(response.headers()["referrer-policy"], "same-origin");
        // The API keeps its own, stricter policy.
        let response = reqwest::get(format!("{}/healthz", world.app.base))
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
    })
    .await;
}

impl Browser {
    /// A download as the browser gets it: status, content type and body.
    async fn csv(&self, path: &str) -> (u16, String, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, content_type, response.text().await.unwrap())
    }
}

#[tokio::test]
async fn the_registry_pages_show_what_each_role_may_see_and_export_it_as_csv() {
    World::each(|world| async move {
        let world = world;
        let p = world.production.id.to_string();
        let cam = Browser::signed_in(&world.app.base, "cam").await;

        // Productions: cam sees his own, with his roles and its counts, not Elsewhere.
        let page = cam.get("/productions").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(&format!("href=\"/productions/{p}\"")));
        assert!(page.body.contains("coordinator"));
        assert!(!page.body.contains("Elsewhere"));
        assert!(page.body.contains("href=\"/productions\" aria-current=\"page\""));
        let (status, content_type, body) = cam.csv("/productions?format=csv").await;
        assert_eq!(status, 200);
        assert_eq!(content_type, "text/csv; charset=utf-8");
        let mut lines = body.lines();
        assert_eq!(
            lines.next(),
            Some("Production,Kind,Overlays,Members,Your roles,Notify,Escalate,of which approved,Blocked")
        );
        let row = lines.next().unwrap();
        assert!(row.starts_with("The Long Night,scripted,"), "{row}");
        assert!(row.ends_with(",0,1,0,0"), "one escalated use: {row}");
        assert_eq!(lines.next(), None);

        // A production's page: members with roles, counts, its declarations, its scans; the
        // report only for who may read its consents too.
        let page = cam.get(&format!("/productions/{p}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for wanted in [
            "Members and their roles",
            "rae",
            "reviewer",
            "Declarations by the decision in force",
            &format!("href=\"/declarations/{}\"", world.declaration),
            &format!("href=\"/scans?production={p}\""),
        ] {
            assert!(page.body.contains(wanted), "{wanted} missing");
        }
        assert!(!page.body.contains("Download report"), "cam reads no consents");
        let rae = Browser::signed_in(&world.app.base, "rae").await;
        let page = rae.get(&format!("/productions/{p}")).await;
        assert!(page.body.contains(&format!("href=\"/api/v1/productions/{p}/report?format=pdf\"")));
        // The link works with the browser's session, and the report is recorded.
        let (status, content_type, _) =
            rae.csv(&format!("/api/v1/productions/{p}/report?format=html")).await;
        assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"));
        let (status, _, body) = cam
            .csv(&format!("/productions/{p}?format=csv&table=members"))
            .await;
        assert_eq!(status, 200);
        assert!(body.starts_with("Person,Name,Roles\n"), "{body}");
        assert!(body.contains("rae,"), "{body}");
        let (status, _, _) = cam
            .csv(&format!("/productions/{p}?format=csv&table=nothing"))
            .await;
        assert_eq!(status, 422);
        assert_eq!(cam.get(&format!("/productions/{p}?format=xlsx")).await.status, 422);

        // Tools: their terms, who reviewed them.
        let page = cam.get("/tools").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Example Gen"), "{}", page.body);
        assert!(page.body.contains("not reviewed"));
        let (status, _, body) = cam.csv("/tools?format=csv").await;
        assert_eq!(status, 200);
        assert!(body.starts_with("Tool,Version,"), "{body}");

        // Performers and consents: legal sees the consent with a revoke form and the record
        // form; the coordinator sees neither the consent nor a form.
        let page = cam.get("/performers").await;
        assert!(page.body.contains("A. Performer"));
        let performer = format!("/performers/{}", world.performer);
        let page = cam.get(&performer).await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("de-ageing"), "cam reads no consents");
        assert!(!page.body.contains("Record a consent"));
        let lee = Browser::signed_in(&world.app.base, "lee").await;
        let page = lee.get(&performer).await;
        assert!(page.body.contains("de-ageing in the flashback scenes"));
        assert!(page.body.contains(&format!("action=\"/consents/{}/revoke\"", world.consent)));
        assert!(page.body.contains("Record a consent"));
        let csrf = page.csrf();

        // A consent recorded through the form; a wrong one comes back with what was typed.
        let page = lee
            .post(
                &format!("{performer}/consents"),
                &[
                    ("csrf", &csrf),
                    ("production", &p),
                    ("kind", "nonsense"),
                    ("description", "crowd <b>scenes</b>"),
                    ("given_by", "A. Performer"),
                    ("status", "pending"),
                    ("document_sha256", ""),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{}", page.body);
        assert!(page.body.contains("choose the kind of consent"));
        assert!(page.body.contains("crowd &#60;b&#62;scenes&#60;/b&#62;"), "kept, escaped");
        let page = lee
            .post(
                &format!("{performer}/consents"),
                &[
                    ("csrf", &csrf),
                    ("production", &p),
                    ("kind", "background_replica"),
                    ("description", "=HYPERLINK(\"http://evil.example\")"),
                    ("given_by", "A. Performer"),
                    ("status", "pending"),
                    ("document_sha256", ""),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let (status, _, body) = lee.csv(&format!("{performer}?format=csv")).await;
        assert_eq!(status, 200);
        assert!(
            body.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
            "a formula is defused and quoted: {body}"
        );
        // The coordinator may not record one.
        let cam_csrf = cam.get("/").await.csrf();
        let page = cam
            .post(
                &format!("{performer}/consents"),
                &[
                    ("csrf", &cam_csrf),
                    ("production", &p),
                    ("kind", "background_replica"),
                    ("description", "x"),
                    ("given_by", "x"),
                    ("status", "pending"),
                ],
            )
            .await;
        assert_eq!(page.status, 403, "{}", page.body);

        // Revoking: the page says which decisions it turned to blocked.
        let page = lee
            .post(
                &format!("/consents/{}/revoke", world.consent),
                &[("csrf", &csrf), ("reason", "withdrawn by the performer")],
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Consent revoked"));
        assert!(page.body.contains("withdrawn by the performer"));
        assert!(page.body.contains("Decisions it turned to blocked"));

        // Scans: the gate's result; a scan's page with its flagged files.
        let page = cam.get("/scans").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&format!("href=\"/scans/{}\"", world.scan)));
        assert!(page.body.contains("in progress"));
        let page = cam.get(&format!("/scans/{}", world.scan)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("No file is flagged."));
        assert!(page.body.contains("greenlight test"));
        let (status, _, body) = cam.csv(&format!("/scans/{}?format=csv&table=counts", world.scan)).await;
        assert_eq!(status, 200);
        assert!(body.starts_with("Verdict,Files\nfiles,0\n"), "{body}");

        // Policy: the rules with cites and basis.
        let page = cam.get("/policy").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("netflix-2025"));
        assert!(page.body.contains("interpretation") || page.body.contains("guidance"));
        let (status, _, body) = cam.csv("/policy?format=csv").await;
        assert_eq!(status, 200);
        assert!(body.starts_with("Rule,Title,Level,Cites,Basis,Severity,Pack,Reason\n"));
        assert!(body.lines().count() > 10, "{body}");

        // The overlay preview is legal's: cam is offered none and refused one he asks for.
        assert!(page.body.contains("You may preview overlays on no production."));
        let asked = format!("/policy?production={p}&overlay=us-ny");
        assert_eq!(cam.get(&asked).await.status, 403);
        let lee = Browser::signed_in(&world.app.base, "lee").await;
        let page = lee.get("/policy").await;
        assert!(page.body.contains(&format!("<option value=\"{p}\">The Long Night")), "{}", page.body);
        assert!(page.body.contains("<option value=\"sag-aftra-2023\">"));
        // Each built-in overlay on the production's stack: the escalated use changes under
        // some (their questions unanswered are unsure), and every preview says what it laid.
        let mut changed = Vec::new();
        for overlay in greenlight_policy::BUILTIN_OVERLAYS.iter().map(|(id, _)| *id) {
            let page = lee.get(&format!("/policy?production={p}&overlay={overlay}")).await;
            assert_eq!(page.status, 200, "{overlay}: {}", page.body);
            assert!(page.body.contains(&format!("netflix-2025 2025.11.2 + {overlay} ")), "{overlay}: {}", page.body);
            assert!(page.body.contains("nothing is recorded"));
            assert!(page.body.contains(&format!("<option value=\"{overlay}\" selected>")));
            if page.body.contains(&format!("href=\"/declarations/{}\"", world.declaration)) {
                changed.push(overlay);
            }
        }
        assert!(!changed.is_empty(), "no overlay changes the escalated use");
        let (status, _, body) = lee
            .csv(&format!("/policy?production={p}&overlay={}&format=csv&table=changes", changed[0]))
            .await;
        assert_eq!(status, 200);
        assert!(body.starts_with("Declaration,From,To,Rules added,Rules removed,Approvals it would replace\n"), "{body}");
        assert_eq!(body.lines().count(), 2, "{body}");
        let page = lee.get(&format!("/policy?production={p}&overlay=us-nj")).await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("no built-in overlay `us-nj`"), "{}", page.body);
        let page = lee.get("/policy?production=not-an-id&overlay=us-ny").await;
        assert_eq!(page.status, 422, "{}", page.body);

        // The navigation links each page.
        let page = cam.get("/").await;
        for href in ["/productions", "/tools", "/performers", "/scans", "/policy"] {
            assert!(page.body.contains(&format!("href=\"{href}\"")), "{href} not in the navigation");
        }
    })
    .await;
}

#[tokio::test]
async fn admins_register_tools_and_performers_and_legal_documents_a_consent() {
    World::each(|world| async move {
        let world = world;
        let ada = Browser::signed_in(&world.app.base, "ada").await;
        let page = ada.get("/tools").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Register a tool"));
        assert!(page.body.contains(&format!("href=\"/tools/{}\"", world.tool)));
        let csrf = page.csrf();
        let terms = [
            ("trains_on_inputs", "no"),
            ("retains_inputs", "no"),
            ("resells_inputs", "no"),
            ("enterprise_agreement", "yes"),
            ("terms_negotiated", "unsure"),
        ];
        let tool_form = |product: &'static str, reviewed_on: &'static str| {
            let mut fields = vec![
                ("csrf", csrf.as_str()),
                ("vendor", "Lumen <Labs>"),
                ("product", product),
                ("version", "4.2"),
                ("licence_tier", "enterprise"),
                ("reviewed_by", "lee@studio.example"),
                ("reviewed_on", reviewed_on),
            ];
            fields.extend(terms);
            fields
        };

        // A mistake comes back beside its field, with what was typed, escaped.
        let page = ada.post("/tools", &tool_form("", "2026-11-30")).await;
        assert_eq!(page.status, 422, "{}", page.body);
        assert!(page.body.contains("name the product"));
        assert!(page.body.contains("value=\"Lumen &#60;Labs&#62;\""), "{}", page.body);
        assert!(page.body.contains("id=\"t-enterprise_agreement-yes\" type=\"radio\" name=\"enterprise_agreement\" value=\"yes\" checked"));
        let page = ada.post("/tools", &tool_form("Frames", "30/11/2026")).await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("`30/11/2026` is not a date (YYYY-MM-DD)"), "{}", page.body);
        let mut unanswered = tool_form("Frames", "");
        unanswered.retain(|(name, _)| *name != "retains_inputs");
        let page = ada.post("/tools", &unanswered).await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("answer “Keeps what is sent”: yes, no or unsure"));

        // Registered: its page shows the terms as typed and the review in the history.
        let page = ada.post("/tools", &tool_form("Frames", "2026-11-30")).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let at = page.location.clone().unwrap();
        assert!(at.starts_with("/tools/"), "{at}");
        let page = ada.get(&at).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("<h1>Lumen &#60;Labs&#62; Frames</h1>"), "{}", page.body);
        assert!(page.body.contains("<dt>Enterprise agreement</dt><dd>yes</dd>"));
        assert!(page.body.contains("2026-11-30 by lee@studio.example"));
        let id: greenlight_store::ToolId = at.trim_start_matches("/tools/").parse().unwrap();
        let stored = world.ledger.tool(id).await.unwrap();
        assert_eq!(stored.terms.enterprise_agreement, greenlight_core::Answer::Yes);
        assert_eq!(stored.terms.terms_negotiated, greenlight_core::Answer::Unsure);
        assert_eq!(stored.registered_by, "ada");

        // A new review: the form starts from the terms as they stand; the history keeps both.
        assert!(page.body.contains("id=\"r-terms_negotiated-unsure\" type=\"radio\" name=\"terms_negotiated\" value=\"unsure\" checked"));
        let mut review = vec![
            ("csrf", csrf.as_str()),
            ("reviewed_by", "lee@studio.example"),
            ("reviewed_on", "2026-12-01"),
        ];
        review.extend(terms.map(|(n, a)| (n, if n == "terms_negotiated" { "yes" } else { a })));
        let page = ada.post(&format!("{at}/terms"), &review).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(world.ledger.tool(id).await.unwrap().terms.terms_negotiated, greenlight_core::Answer::Yes);
        let (status, _, body) = ada.csv(&format!("{at}?format=csv")).await;
        assert_eq!(status, 200);
        let rows: Vec<&str> = body.lines().collect();
        assert_eq!(rows.len(), 3, "header and two reviews: {body}");
        assert!(rows[1].ends_with(",no,no,no,yes,unsure,lee@studio.example,2026-11-30"), "{body}");
        assert!(rows[2].ends_with(",no,no,no,yes,yes,lee@studio.example,2026-12-01"), "{body}");
        let mut wrong = review.clone();
        wrong.retain(|(n, _)| *n != "reviewed_by");
        let page = ada.post(&format!("{at}/terms"), &wrong).await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("say who reviewed the terms on that day"));

        // Performers: a deceased performer needs the estate that consents.
        let page = ada.get("/performers").await;
        assert!(page.body.contains("Register a performer"));
        let page = ada
            .post(
                "/performers",
                &[("csrf", &csrf), ("name", "Ida Lorne"), ("union", "SAG-AFTRA"), ("deceased", "yes"), ("estate", "")],
            )
            .await;
        assert_eq!(page.status, 422, "{}", page.body);
        assert!(page.body.contains("name the estate or representative"));
        assert!(page.body.contains("value=\"Ida Lorne\""));
        assert!(page.body.contains("name=\"deceased\" type=\"checkbox\" value=\"yes\" checked"));
        let page = ada
            .post(
                "/performers",
                &[("csrf", &csrf), ("name", "Ida Lorne"), ("union", "SAG-AFTRA"), ("deceased", "yes"), ("estate", "The Lorne Estate")],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let at = page.location.clone().unwrap();
        let page = ada.get(&at).await;
        assert!(page.body.contains("<h1>Ida Lorne</h1>"));
        assert!(page.body.contains("The Lorne Estate"));
        let page = ada.get("/performers").await;
        assert!(page.body.contains("Ida Lorne"));
        assert!(page.body.contains("by ada"));

        // Nobody else registers: the coordinator sees no form and is refused.
        let cam = Browser::signed_in(&world.app.base, "cam").await;
        let page = cam.get("/tools").await;
        assert!(!page.body.contains("Register a tool"));
        let page = cam.get(&format!("/tools/{}", world.tool)).await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("Record a new review"));
        assert!(!cam.get("/performers").await.body.contains("Register a performer"));
        let cam_csrf = cam.get("/").await.csrf();
        let page = cam.post("/tools", &[("csrf", &cam_csrf), ("vendor", "x"), ("product", "y")]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        let page = cam.post(&format!("/tools/{}/terms", world.tool), &[("csrf", &cam_csrf)]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        let page = cam.post("/performers", &[("csrf", &cam_csrf), ("name", "x")]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert_eq!(cam.get("/tools/not-an-id").await.status, 422);

        // Legal records the pending consent's signed document; a wrong hash comes back beside
        // it, and the coordinator may not.
        let performer = format!("/performers/{}", world.performer);
        let lee = Browser::signed_in(&world.app.base, "lee").await;
        let page = lee.get(&performer).await;
        let document = format!("action=\"/consents/{}/document\"", world.consent);
        assert!(page.body.contains(&document), "{}", page.body);
        assert!(!cam.get(&performer).await.body.contains(&document));
        let lee_csrf = page.csrf();
        let path = format!("/consents/{}/document", world.consent);
        let page = lee.post(&path, &[("csrf", &lee_csrf), ("document_sha256", "abc123")]).await;
        assert_eq!(page.status, 422, "{}", page.body);
        assert!(page.body.contains("`abc123` is not a sha256"), "{}", page.body);
        assert!(page.body.contains("value=\"abc123\""));
        let page = cam.post(&path, &[("csrf", &cam_csrf), ("document_sha256", &"a".repeat(64))]).await;
        assert_eq!(page.status, 403);
        let hash = "AB".repeat(32);
        let page = lee.post(&path, &[("csrf", &lee_csrf), ("document_sha256", &hash)]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let consent = world.ledger.consent(world.consent.parse().unwrap()).await.unwrap();
        assert_eq!(consent.status, greenlight_store::ConsentStatus::Documented);
        assert_eq!(consent.document_sha256.as_deref(), Some("ab".repeat(32).as_str()));
        let page = lee.get(&performer).await;
        assert!(!page.body.contains(&document), "a documented consent has no document form");
        let page = lee.post(&path, &[("csrf", &lee_csrf), ("document_sha256", &hash)]).await;
        assert_eq!(page.status, 422, "documented twice: {}", page.body);
        assert!(page.body.contains("is not pending"));

        // A consent recorded with its last day.
        let page = lee
            .post(
                &format!("{performer}/consents"),
                &[
                    ("csrf", &lee_csrf),
                    ("production", &world.production.id.to_string()),
                    ("kind", "digital_alteration"),
                    ("description", "the reshoot's dialogue fix"),
                    ("given_by", "A. Performer"),
                    ("status", "pending"),
                    ("document_sha256", ""),
                    ("expires", "2027-06-30"),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let page = lee.get(&performer).await;
        assert!(page.body.contains("2027-06-30 23:59 UTC"), "{}", page.body);
    })
    .await;
}

#[tokio::test]
async fn an_admin_makes_accounts_and_a_production_with_its_members_through_the_forms() {
    World::each(|world| async move {
        let world = world;
        let ada = Browser::signed_in(&world.app.base, "ada").await;
        let page = ada.get("/accounts").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body
                .contains("href=\"/accounts\" aria-current=\"page\"")
        );
        assert!(page.body.contains("<th scope=\"row\">cam</th>"));
        assert!(
            !page.body.contains("aria-label=\"Disable ada\""),
            "not one's own"
        );
        let csrf = page.csrf();

        // An account with a generated password, shown once; it signs in with it.
        let page = ada
            .post(
                "/accounts",
                &[
                    ("csrf", &csrf),
                    ("login", "nia@studio.example"),
                    ("name", "Nia <Okafor>"),
                    ("password", ""),
                ],
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let needle = "<code class=\"secret\" id=\"password\">";
        let start = page.body.find(needle).unwrap();
        let rest = &page.body[start + needle.len()..];
        let password = &rest[..rest.find("</code>").unwrap()];
        assert!(password.len() >= 12, "{password}");
        assert!(page.body.contains("Nia &#60;Okafor&#62;"));
        assert!(
            !ada.get("/accounts").await.body.contains(password),
            "shown once"
        );
        let nia = Browser::new(&world.app.base);
        let signed = nia
            .post(
                "/sign-in",
                &[("login", "nia@studio.example"), ("password", password)],
            )
            .await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        // Mistakes come back with what was typed: a taken login, a short password, a role.
        let page = ada
            .post(
                "/accounts",
                &[
                    ("csrf", &csrf),
                    ("login", "cam"),
                    ("name", "Another Cam"),
                    ("password", ""),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("already exists"), "{}", page.body);
        assert!(page.body.contains("value=\"Another Cam\""));
        let page = ada
            .post(
                "/accounts",
                &[("csrf", &csrf), ("login", "zed"), ("password", "short")],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("12"), "{}", page.body);
        let page = ada
            .post(
                "/accounts",
                &[("csrf", &csrf), ("login", "zed"), ("roles", "root")],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("`root` is not a global role"));
        // An auditor made with its global role.
        let page = ada
            .post(
                "/accounts",
                &[
                    ("csrf", &csrf),
                    ("login", "uma"),
                    ("roles", "auditor"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("id=\"password\">"),
            "a typed password is not shown"
        );
        let uma = Browser::signed_in(&world.app.base, "uma").await;
        assert_eq!(uma.get("/accounts").await.status, 403);

        // Disabling ends the account's session at once; enabling gives sign-in back.
        let page = ada
            .post(
                "/accounts/nia@studio.example/state",
                &[("csrf", &csrf), ("state", "disabled")],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let page = nia.get("/").await;
        assert_eq!(page.location.as_deref(), Some("/sign-in"), "{}", page.body);
        assert!(
            ada.get("/accounts")
                .await
                .body
                .contains("aria-label=\"Enable nia@studio.example\"")
        );
        let page = ada
            .post(
                "/accounts/ada/state",
                &[("csrf", &csrf), ("state", "disabled")],
            )
            .await;
        assert_eq!(page.status, 422, "not one's own: {}", page.body);
        let page = ada
            .post(
                "/accounts/nia@studio.example/state",
                &[("csrf", &csrf), ("state", "active")],
            )
            .await;
        assert_eq!(page.status, 303);
        let (status, _, body) = ada.csv("/accounts?format=csv").await;
        assert_eq!(status, 200);
        assert!(
            body.starts_with("Login,Name,Global roles,State,Created\n"),
            "{body}"
        );
        assert!(body.contains("uma,uma,auditor,active,"), "{body}");

        // A production: its title, kind, contact and overlays; errors kept beside the field.
        let page = ada.get("/productions").await;
        assert!(page.body.contains("Create a production"));
        let production = |title: &'static str, email: &'static str| {
            vec![
                ("csrf", csrf.as_str()),
                ("title", title),
                ("kind", "documentary"),
                ("contact_name", "Dana"),
                ("contact_email", email),
                ("overlays", "sag-aftra-2023"),
                ("overlays", "us-ny"),
            ]
        };
        let page = ada
            .post("/productions", &production("The Salt Road", "dana"))
            .await;
        assert_eq!(page.status, 422);
        assert!(
            page.body
                .contains("give the studio contact&#39;s e-mail address")
                || page.body.contains("studio contact"),
            "{}",
            page.body
        );
        assert!(page.body.contains("value=\"The Salt Road\""));
        assert!(page.body.contains("value=\"us-ny\" checked"));
        assert!(
            page.body
                .contains("<option value=\"documentary\" selected>")
        );
        let mut bad = production("The Salt Road", "dana@studio.example");
        bad.push(("overlays", "us-nj"));
        let page = ada.post("/productions", &bad).await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("`us-nj` is not a built-in overlay"));
        let page = ada
            .post(
                "/productions",
                &production("The Salt Road", "dana@studio.example"),
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let at = page.location.clone().unwrap();
        let page = ada.get(&at).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<h1>The Salt Road</h1>"));
        assert!(
            page.body.contains("<dd>sag-aftra-2023, us-ny</dd>"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Nobody works on it yet."));
        assert!(
            page.body.contains("<option value=\"nia@studio.example\">"),
            "the accounts offered: {}",
            page.body
        );

        // Members: added with roles, changed in place, taken off.
        let members = format!("{at}/members");
        let page = ada
            .post(
                &members,
                &[
                    ("csrf", &csrf),
                    ("person", "nia@studio.example"),
                    ("name", "Nia"),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("tick at least one role"));
        assert!(page.body.contains("value=\"nia@studio.example\""));
        let page = ada
            .post(
                &members,
                &[
                    ("csrf", &csrf),
                    ("person", "nia@studio.example"),
                    ("name", "Nia"),
                    ("roles", "coordinator"),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let page = ada
            .post(
                &members,
                &[
                    ("csrf", &csrf),
                    ("person", "rae"),
                    ("name", "Rae"),
                    ("roles", "reviewer"),
                    ("roles", "legal"),
                ],
            )
            .await;
        assert_eq!(page.status, 303);
        let page = ada
            .post(
                &members,
                &[
                    ("csrf", &csrf),
                    ("person", "nia@studio.example"),
                    ("name", "Nia O."),
                    ("roles", "coordinator"),
                    ("roles", "vendor"),
                ],
            )
            .await;
        assert_eq!(page.status, 303);
        let id: greenlight_store::ProductionId =
            at.trim_start_matches("/productions/").parse().unwrap();
        let stored = world.ledger.production(id).await.unwrap();
        assert_eq!(stored.members.len(), 2, "{:?}", stored.members);
        assert_eq!(stored.members[0].name, "Nia O.");
        assert_eq!(
            stored.members[0].roles,
            [
                greenlight_store::Role::Coordinator,
                greenlight_store::Role::Vendor
            ]
        );
        // The new coordinator now sees it and may declare for it.
        let page = nia.get("/productions").await;
        assert_eq!(page.status, 303, "nia's session ended when disabled");
        nia.post(
            "/sign-in",
            &[("login", "nia@studio.example"), ("password", password)],
        )
        .await;
        let page = nia.get("/productions").await;
        assert!(page.body.contains("The Salt Road"), "{}", page.body);
        assert!(page.body.contains("coordinator, vendor"));
        assert!(!page.body.contains("Create a production"));
        let page = nia.get("/declare").await;
        assert!(page.body.contains("The Salt Road"));
        let remove = format!("{at}/members/remove");
        let page = ada
            .post(&remove, &[("csrf", &csrf), ("person", "rae")])
            .await;
        assert_eq!(page.status, 303);
        let page = ada
            .post(&remove, &[("csrf", &csrf), ("person", "nobody")])
            .await;
        assert_eq!(page.status, 422);
        assert!(
            page.body
                .contains("`nobody` is not a member of The Salt Road")
        );
        assert_eq!(world.ledger.production(id).await.unwrap().members.len(), 1);

        // Nobody but an admin: the coordinator is refused every form.
        let nia_csrf = nia.get("/").await.csrf();
        for (path, fields) in [
            ("/accounts".to_owned(), vec![("login", "x")]),
            (
                "/accounts/cam/state".to_owned(),
                vec![("state", "disabled")],
            ),
            (
                "/productions".to_owned(),
                production("X", "x@y").split_off(1),
            ),
            (
                members.clone(),
                vec![("person", "nia@studio.example"), ("roles", "reviewer")],
            ),
            (remove.clone(), vec![("person", "nia@studio.example")]),
        ] {
            let mut fields = fields;
            fields.push(("csrf", &nia_csrf));
            let page = nia.post(&path, &fields).await;
            assert_eq!(page.status, 403, "{path}: {}", page.body);
        }
        assert_eq!(nia.get("/accounts").await.status, 403);
        assert!(!nia.get(&at).await.body.contains("Add a member"));
        assert_eq!(
            world.ledger.production(id).await.unwrap().members[0]
                .roles
                .len(),
            2
        );
    })
    .await;
}

#[tokio::test]
async fn another_productions_coordinator_gets_403_on_its_pages_and_their_csv() {
    World::each(|world| async move {
        let world = world;
        let p = world.production.id.to_string();
        let oto = Browser::signed_in(&world.app.base, "oto").await;
        for path in [
            format!("/productions/{p}"),
            format!("/productions/{p}?format=csv"),
            format!("/productions/{p}?format=csv&table=members"),
            format!("/scans?production={p}"),
            format!("/scans?production={p}&format=csv"),
            format!("/scans/{}", world.scan),
            format!("/scans/{}?format=csv", world.scan),
            format!("/api/v1/productions/{p}/report?format=pdf"),
        ] {
            let (status, _, body) = oto.csv(&path).await;
            assert_eq!(status, 403, "{path}: {body}");
            for secret in [
                "Members and their roles",
                "rae",
                "greenlight test",
                "escalate",
            ] {
                assert!(!body.contains(secret), "{path}: {secret} shown");
            }
        }
        // Lists show only what oto may see.
        let page = oto.get("/productions").await;
        assert!(!page.body.contains("The Long Night"));
        assert!(page.body.contains("Elsewhere"));
        let (_, _, body) = oto.csv("/scans?format=csv").await;
        assert!(!body.contains("The Long Night"), "{body}");
        let (_, _, body) = oto
            .csv(&format!("/performers/{}?format=csv", world.performer))
            .await;
        assert!(!body.contains("de-ageing"), "{body}");
        // Nor may oto revoke its consents.
        let csrf = oto.get("/").await.csrf();
        let page = oto
            .post(
                &format!("/consents/{}/revoke", world.consent),
                &[("csrf", &csrf), ("reason", "x")],
            )
            .await;
        assert_eq!(page.status, 403, "{}", page.body);
        // An admin reads no declarations: its production page has no declaration list.
        let ada = Browser::signed_in(&world.app.base, "ada").await;
        let page = ada.get(&format!("/productions/{p}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(!page.body.contains(&world.declaration));
    })
    .await;
}

#[tokio::test]
async fn the_outbox_is_the_admins_with_its_filter_csv_and_retry() {
    World::each(|world| async move {
        let world = world;
        // One expiring consent told by e-mail and webhook; the webhook's delivery failed.
        let ledger = world
            .ledger
            .clone()
            .with_outbox(greenlight_store::OutboxChannels {
                email: true,
                webhook: true,
            });
        let now = ledger.now();
        ledger
            .record_consent(
                "setup",
                greenlight_store::NewConsent {
                    performer_id: world.performer.parse().unwrap(),
                    kind: greenlight_store::ConsentKind::DigitalAlteration,
                    scope: greenlight_store::ConsentScope {
                        production_id: world.production.id,
                        media: Vec::new(),
                        description: "the crowd scenes".to_owned(),
                    },
                    given_by: "A. Performer".to_owned(),
                    status: greenlight_store::ConsentStatus::Documented,
                    expires_at: Some(now.plus(chrono::TimeDelta::days(3))),
                    document_sha256: Some("ab".repeat(32)),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            ledger
                .sweep_expiring("greenlight", chrono::TimeDelta::days(14))
                .await
                .unwrap(),
            1
        );
        let claim = ledger
            .claim_outbox(10, chrono::TimeDelta::seconds(600))
            .await
            .unwrap();
        let hook = claim
            .rows
            .iter()
            .find(|r| r.recipient == "webhook")
            .unwrap();
        ledger
            .settle_outbox(
                hook,
                &claim.lease,
                greenlight_store::Settle::Failed {
                    error: "=cmd|' /C calc'!A0 answered HTTP 503".to_owned(),
                },
            )
            .await
            .unwrap();

        // Not an admin: no link, a 403 page, no CSV, no retry.
        let lee = Browser::signed_in(&world.app.base, "lee").await;
        let home = lee.get("/").await;
        assert!(!home.body.contains("href=\"/outbox\""));
        for path in ["/outbox", "/outbox?status=failed", "/outbox?format=csv"] {
            let page = lee.get(path).await;
            assert_eq!(page.status, 403, "{path}: {}", page.body);
            assert!(!page.body.contains("HTTP 503"), "{path}");
        }
        let retry = format!("/outbox/{}/retry", hook.id);
        let page = lee.post(&retry, &[("csrf", &home.csrf())]).await;
        assert_eq!(page.status, 403, "{}", page.body);

        // The admin: every row, filtered, exported, and the failed one retried.
        let ada = Browser::signed_in(&world.app.base, "ada").await;
        let page = ada.get("/outbox").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("href=\"/outbox\" aria-current=\"page\""));
        assert!(page.body.contains("status-failed"));
        assert!(page.body.contains("answered HTTP 503"));
        assert!(
            page.body.contains(&format!("action=\"{retry}\"")),
            "a retry button"
        );
        assert!(
            page.body
                .contains(&format!("/productions/{}", world.production.id))
        );
        let page = ada.get("/outbox?status=sent").await;
        assert!(!page.body.contains("HTTP 503") && !page.body.contains("/retry"));
        let page = ada.get("/outbox?status=bogus").await;
        assert_eq!(page.status, 422, "{}", page.body);
        let (status, headers, body) = ada.csv("/outbox?status=failed&format=csv").await;
        assert_eq!(status, 200, "{body}");
        assert!(headers.starts_with("text/csv"), "{headers}");
        assert!(
            body.starts_with("Enqueued,Event,Channel,Recipient,Status,Attempts"),
            "{body}"
        );
        assert!(body.contains("'=cmd"), "a formula is defused: {body}");
        assert_eq!(body.lines().count(), 2, "{body}");

        // A retry without the form token is refused; with it, the row is due again.
        let page = ada.post(&retry, &[("csrf", "nope")]).await;
        assert_eq!(page.status, 403);
        let csrf = ada.get("/outbox").await.csrf();
        let page = ada.post(&retry, &[("csrf", &csrf)]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some("/outbox?status=failed"));
        let row = world.ledger.outbox_row(&hook.id).await.unwrap();
        assert_eq!(row.status, greenlight_store::OutboxStatus::Pending);
        assert_eq!(row.attempts, 0);
        // Again: it is no longer failed (409); an unknown one is 404.
        let page = ada.post(&retry, &[("csrf", &csrf)]).await;
        assert_eq!(page.status, 409, "{}", page.body);
        let page = ada
            .post(
                "/outbox/0190c0de-0000-7000-8000-000000000000/retry",
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(page.status, 404, "{}", page.body);
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_shows_waits_expiring_consents_failed_gates_and_charts() {
    World::each(|world| async move {
        let world = world;
        let now = world.ledger.now();
        world
            .ledger
            .record_consent(
                "setup",
                greenlight_store::NewConsent {
                    performer_id: world.performer.parse().unwrap(),
                    kind: greenlight_store::ConsentKind::DigitalAlteration,
                    scope: greenlight_store::ConsentScope {
                        production_id: world.production.id,
                        media: Vec::new(),
                        description: "the <crowd> scenes".to_owned(),
                    },
                    given_by: "A. Performer".to_owned(),
                    status: greenlight_store::ConsentStatus::Documented,
                    expires_at: Some(now.plus(chrono::TimeDelta::days(12))),
                    document_sha256: Some("ab".repeat(32)),
                },
            )
            .await
            .unwrap();
        // Legal reads consents, scans and declarations: everything, with the escalation's
        // wait (the world's declaration escalated two hours ago or so).
        let lee = Browser::signed_in(&world.app.base, "lee").await;
        let page = lee.get("/").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let body = &page.body;
        assert!(
            body.contains("Consents expiring within 30 days (1)"),
            "{body}"
        );
        assert!(body.contains("(in 12 days)"), "{body}");
        assert!(body.contains(&format!("href=\"/performers/{}\"", world.performer)));
        assert!(body.contains("Median wait") && body.contains("Oldest wait"));
        assert!(body.contains("Gate failures of recent scans"));
        assert!(
            body.contains("0 of 1 scan(s) recorded in the last 30 days failed"),
            "{body}"
        );
        assert_eq!(body.matches("<svg").count(), 2, "two charts");
        assert_eq!(body.matches("role=\"img\"").count(), 2);
        assert!(body.contains("<title id=\"chart-weeks-title\">Uses by outcome per week</title>"));
        assert!(body.contains("<title id=\"chart-purposes-title\">Uses by purpose</title>"));
        assert!(
            body.contains(
                "1 use(s) declared in the last 8 weeks: 0 notify, 1 escalate, 0 blocked."
            ),
            "{body}"
        );
        assert!(
            body.contains("<th scope=\"row\">prop</th><td>1</td>"),
            "{body}"
        );
        assert!(!body.contains("style="), "no style attribute under the CSP");
        // A coordinator reads no consents: no such list; the other production's member sees
        // none of this production's numbers.
        let cam = Browser::signed_in(&world.app.base, "cam").await;
        let page = cam.get("/").await;
        assert!(!page.body.contains("Consents expiring"), "{}", page.body);
        assert!(page.body.contains("Uses by purpose"));
        let oto = Browser::signed_in(&world.app.base, "oto").await;
        let page = oto.get("/").await;
        assert!(!page.body.contains("Consents expiring"));
        assert!(!page.body.contains("The Long Night"));
        assert!(!page.body.contains("1 use(s) declared"), "{}", page.body);
        // An admin is a member of nothing: no chart, no count, no breakage.
        let ada = Browser::signed_in(&world.app.base, "ada").await;
        let page = ada.get("/").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body
                .contains("You are not a member of any production yet.")
        );
    })
    .await;
}
