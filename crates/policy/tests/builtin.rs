//! The built-in pack loads, and cites only ids it defines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test, benchmark or tool: a failure panics with its message"
)]
use greenlight_policy::Policy;

#[test]
fn builtin_pack_compiles() {
    let policy = Policy::builtin();
    assert!(policy.rules().len() > 40, "{}", policy.rules().len());
}

/// A voice model trained on performers' recordings, with `performers` and
/// `inputs` lines appended.
fn training(inputs: &str, performers: &[&str]) -> greenlight_core::Declaration {
    let mut text = String::from(
        r#"
title = "Voice model"
production = "Meridian"
production_kind = "scripted"
stage = "post_production"
purpose = "voice_synthesis"
[inputs]
trains_model = "yes"
talent_likeness = "yes"
"#,
    );
    text.push_str(inputs);
    for performer in performers {
        text.push_str("\n[[performers]]\nuse = \"voice_clone\"\n");
        text.push_str(performer);
    }
    greenlight_core::Declaration::parse(&text, greenlight_core::SourceFormat::Toml).unwrap()
}

const CLEARED: &str = "name = \"Jonah Whitlock\"\nconsent = \"documented\"\nsame_production = \"yes\"\nown_material_only = \"yes\"\n";

/// The line of issue 8 part 2: documented consent for this production clears
/// each performer's own material, and nothing else.
#[test]
fn documented_consent_clears_only_every_performers_own_material() {
    use greenlight_core::Level;
    let policy = Policy::builtin();
    let other = "name = \"Ruth Calder\"\nconsent = \"documented\"\nsame_production = \"yes\"\nown_material_only = \"yes\"\n";
    let cases: &[(&str, &str, &[&str], bool)] = &[
        (
            "own material, consent documented",
            "third_party_material = \"no\"",
            &[CLEARED],
            true,
        ),
        (
            "two performers, both cleared",
            "third_party_material = \"no\"",
            &[CLEARED, other],
            true,
        ),
        (
            "a second performer's consent pending",
            "third_party_material = \"no\"",
            &[
                CLEARED,
                "name = \"Ruth Calder\"\nconsent = \"pending\"\nsame_production = \"yes\"\nown_material_only = \"yes\"\n",
            ],
            false,
        ),
        (
            "consent for another production",
            "third_party_material = \"no\"",
            &["consent = \"documented\"\nsame_production = \"no\"\nown_material_only = \"yes\"\n"],
            false,
        ),
        (
            "material of the performer owned by others",
            "third_party_material = \"no\"",
            &["consent = \"documented\"\nsame_production = \"yes\"\nown_material_only = \"no\"\n"],
            false,
        ),
        (
            "own material not said",
            "third_party_material = \"no\"",
            &["consent = \"documented\"\nsame_production = \"yes\"\n"],
            false,
        ),
        (
            "third-party material mixed in",
            "third_party_material = \"yes\"",
            &[CLEARED],
            false,
        ),
        (
            "third-party material unsure",
            "third_party_material = \"unsure\"",
            &[CLEARED],
            false,
        ),
        (
            "no performer named",
            "third_party_material = \"no\"",
            &[],
            false,
        ),
    ];
    for (what, inputs, performers, cleared) in cases {
        let decision = policy.assess(&training(inputs, performers)).unwrap();
        let fired = |id: &str| decision.findings.iter().any(|f| f.rule == id);
        assert_eq!(
            fired("training-on-consenting-performers"),
            *cleared,
            "{what}: {decision:#?}"
        );
        assert_eq!(fired("training-on-unowned-uncleared"), !*cleared, "{what}");
        if *cleared {
            assert_eq!(decision.level, Level::Escalate, "{what}");
        } else {
            assert_eq!(decision.level, Level::Blocked, "{what}");
        }
    }
    // Cleared rights clear third-party material too, as before.
    let decision = policy
        .assess(&training(
            "third_party_material = \"yes\"\nrights_cleared = \"yes\"",
            &[CLEARED],
        ))
        .unwrap();
    assert_eq!(decision.level, Level::Escalate);
}

#[test]
fn the_clearing_reason_names_each_consenting_performer() {
    let policy = Policy::builtin();
    let other = CLEARED.replace("Jonah Whitlock", "Ruth Calder");
    let decision = policy
        .assess(&training(
            "third_party_material = \"no\"",
            &[CLEARED, &other],
        ))
        .unwrap();
    let finding = decision
        .findings
        .iter()
        .find(|f| f.rule == "training-on-consenting-performers")
        .unwrap();
    assert!(
        finding
            .reason
            .contains("consent on record for: Jonah Whitlock, Ruth Calder."),
        "{}",
        finding.reason
    );
    assert!(!finding.reason.contains('{'), "{}", finding.reason);
}

/// §1: a no to any principle escalates whatever the purpose or prominence.
#[test]
fn a_no_to_any_principle_escalates_whatever_the_purpose() {
    use greenlight_core::Level;
    let policy = Policy::builtin();
    let principles = [
        "p1_no_ip_replication",
        "p2_no_training_or_retention",
        "p3_enterprise_secured",
        "p4_temporary",
        "p5_no_talent_replacement",
    ];
    for purpose in ["background_element", "prop", "restoration", "ideation"] {
        for (i, principle) in principles.iter().enumerate() {
            for answer in ["no", "unsure"] {
                let mut text = format!(
                    "title = \"t\"\nproduction = \"p\"\nproduction_kind = \"scripted\"\n\
                     stage = \"production\"\npurpose = \"{purpose}\"\n\
                     [output]\nfinal_deliverable = \"yes\"\nprominence = \"incidental\"\n[principles]\n"
                );
                for (j, p) in principles.iter().enumerate() {
                    let value = if i == j { answer } else { "yes" };
                    text.push_str(&format!("{p} = \"{value}\"\n"));
                }
                let declaration =
                    greenlight_core::Declaration::parse(&text, greenlight_core::SourceFormat::Toml)
                        .unwrap();
                let decision = policy.assess(&declaration).unwrap();
                let rule = format!("p{}-{answer}", i + 1);
                let finding = decision.findings.iter().find(|f| f.rule == rule);
                assert!(
                    finding.is_some_and(|f| f.level == Level::Escalate),
                    "{purpose}, {principle} = {answer}: {decision:#?}"
                );
            }
        }
    }
}
