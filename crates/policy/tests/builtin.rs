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
