//! Revising, drafts, requests for changes and the printable approval over HTTP, as a
//! browser without JavaScript uses them: who may open each page and post each form, and
//! that a draft is its author's alone.

use crate::web::{Browser, declaration_form};
use crate::world::World;

#[tokio::test]
async fn drafts_are_their_authors_alone_and_submitting_one_deletes_it() {
    World::each(|world| async move {
        let world = world;
        let production = world.production.id.to_string();
        let cam = Browser::signed_in(&world.app.base, "cam").await;
        let csrf = cam.get("/declare").await.csrf();
        let mut form = declaration_form(&csrf, &production, &world.tool, "A <draft> letter");
        // An answer left out and one that is no answer: a draft keeps them as typed.
        form.retain(|(name, _)| *name != "inputs.personal_data");
        form.push(("inputs.unreleased_footage", "perhaps"));
        let mut saving = form.clone();
        saving.push(("intent", "draft"));
        let saved = cam.post("/declare", &saving).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let location = saved.location.clone().unwrap();
        assert!(location.starts_with("/drafts?saved="), "{location}");
        let draft = location.trim_start_matches("/drafts?saved=").to_owned();
        // Nothing recorded: no new declaration.
        let page = cam.get("/drafts").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("A &#60;draft&#62; letter"), "{}", page.body);
        assert!(!page.body.contains("<draft>"), "escaped");
        assert!(cam.get("/").await.body.contains("My drafts (1)"));

        // Resumed: everything as typed, the draft named in a hidden field.
        let page = cam.get(&format!("/declare?draft={draft}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("value=\"A &#60;draft&#62; letter\""));
        assert!(page.body.contains(&format!("name=\"draft\" value=\"{draft}\"")));
        assert!(page.body.contains("id=\"f-inputs-contracts-no\" type=\"radio\" name=\"inputs.contracts\" value=\"no\" checked"));

        // Nobody else opens, overwrites or deletes it.
        let oto = Browser::signed_in(&world.app.base, "oto").await;
        let page = oto.get(&format!("/declare?draft={draft}")).await;
        assert_eq!(page.status, 404, "{}", page.body);
        assert!(!page.body.contains("draft&#62; letter"));
        let oto_csrf = oto.get("/declare").await.csrf();
        let page = oto
            .post(&format!("/drafts/{draft}/delete"), &[("csrf", &oto_csrf)])
            .await;
        assert_eq!(page.status, 404);
        let page = oto
            .post(
                "/declare",
                &[
                    ("csrf", &oto_csrf),
                    ("intent", "draft"),
                    ("draft", &draft),
                    ("title", "taken over"),
                ],
            )
            .await;
        assert_eq!(page.status, 404);
        assert!(!oto.get("/drafts").await.body.contains("letter"));
        // Without the form token nothing is deleted.
        let page = cam.post(&format!("/drafts/{draft}/delete"), &[]).await;
        assert_eq!(page.status, 403);

        // Submitted, fixed: recorded, and the draft is gone.
        let mut submitting = form.clone();
        submitting.retain(|(name, _)| *name != "inputs.unreleased_footage");
        submitting.push(("inputs.unreleased_footage", "no"));
        submitting.push(("inputs.personal_data", "no"));
        submitting.push(("draft", &draft));
        submitting.push(("intent", "submit"));
        let page = cam.post("/declare", &submitting).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert!(page.location.unwrap().starts_with("/declarations/"));
        let page = cam.get("/drafts").await;
        assert!(page.body.contains("You have no draft"), "{}", page.body);
        assert_eq!(cam.get(&format!("/declare?draft={draft}")).await.status, 404);

        // A second draft, deleted.
        let saved = cam.post("/declare", &saving).await;
        let draft = saved
            .location
            .unwrap()
            .trim_start_matches("/drafts?saved=")
            .to_owned();
        let page = cam
            .post(&format!("/drafts/{draft}/delete"), &[("csrf", &csrf)])
            .await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location.as_deref(), Some("/drafts?deleted=1"));
        assert!(cam.get("/drafts").await.body.contains("You have no draft"));
    })
    .await;
}

#[tokio::test]
async fn revising_requesting_changes_and_printing_follow_the_role_table() {
    World::each(|world| async move {
        let world = world;
        let d = world.declaration.clone();
        let revise = format!("/declarations/{d}/revise");

        // The reviewer, the auditor and another production's coordinator may not revise.
        for login in ["rae", "aud", "oto"] {
            let browser = Browser::signed_in(&world.app.base, login).await;
            let page = browser.get(&revise).await;
            assert_eq!(page.status, 403, "{login}: {}", page.body);
            assert!(!page.body.contains("The captain"), "{login}");
            let page = browser.get(&format!("/declarations/{d}")).await;
            assert!(
                !page.body.contains(&format!("href=\"{revise}\"")),
                "{login}"
            );
        }

        // The reviewer asks for changes: a note is needed.
        let rae = Browser::signed_in(&world.app.base, "rae").await;
        let page = rae.get(&format!("/declarations/{d}")).await;
        let csrf = page.csrf();
        let review = format!("/declarations/{d}/review");
        let page = rae
            .post(
                &review,
                &[("csrf", &csrf), ("verdict", "changes"), ("note", " ")],
            )
            .await;
        assert_eq!(page.status, 422, "{}", page.body);
        assert!(page.body.contains("id=\"note-error\""));
        let page = rae
            .post(
                &review,
                &[
                    ("csrf", &csrf),
                    ("verdict", "changes"),
                    ("note", "Name the <generator>."),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let page = rae.get("/queue").await;
        assert!(
            page.body.contains("changes requested by rae"),
            "{}",
            page.body
        );
        // A coordinator may not.
        let cam = Browser::signed_in(&world.app.base, "cam").await;
        let cam_csrf = cam.get("/").await.csrf();
        let page = cam
            .post(
                &review,
                &[("csrf", &cam_csrf), ("verdict", "changes"), ("note", "x")],
            )
            .await;
        assert_eq!(page.status, 403);

        // The coordinator sees it (escaped) and revises from the latest answers.
        let page = cam.get("/").await;
        assert!(
            page.body.contains("Name the &#60;generator&#62;."),
            "{}",
            page.body
        );
        let page = cam.get(&format!("/declarations/{d}")).await;
        assert!(page.body.contains("Changes requested by rae"));
        assert!(page.body.contains(&format!("href=\"{revise}\"")));
        assert!(!page.body.contains("/approval\""), "nothing to print yet");
        let page = cam.get(&revise).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(&format!("action=\"{revise}\"")));
        assert!(page.body.contains("You are writing version 2"));
        // The approval page: nothing approved yet.
        assert_eq!(
            cam.get(&format!("/declarations/{d}/approval")).await.status,
            404
        );
        let oto = Browser::signed_in(&world.app.base, "oto").await;
        assert_eq!(
            oto.get(&format!("/declarations/{d}/approval")).await.status,
            403
        );
    })
    .await;
}
