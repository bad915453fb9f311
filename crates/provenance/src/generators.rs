//! The generator table: metadata that known generative tools write, and software names that
//! identify generative tools. Add a row to [`RULES`] or a name to [`NAMES`] to extend it.

use crate::evidence::{Evidence, Kind, Signal, Strength, clip};

/// How a rule tests a field's value.
#[derive(Debug, Clone, Copy)]
pub enum Test {
    /// The key is present.
    Present,
    /// The value contains every one of these substrings.
    ContainsAll(&'static [&'static str]),
    /// The value starts with this prefix.
    StartsWith(&'static str),
}

/// One row of the generator table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The tool the row identifies.
    pub tool: &'static str,
    /// Field keys the row applies to (case-insensitive); `*` for any key.
    pub keys: &'static [&'static str],
    /// The test on the value.
    pub test: Test,
}

/// Metadata written by generators (PNG text chunks, EXIF, XMP, other text fields).
pub const RULES: &[Rule] = &[
    Rule {
        tool: "Stable Diffusion web UI (A1111/Forge/SD.Next)",
        keys: &["parameters", "UserComment", "Comment", "Description"],
        test: Test::ContainsAll(&["Steps: ", "Sampler: "]),
    },
    Rule {
        tool: "SwarmUI",
        keys: &["parameters"],
        test: Test::ContainsAll(&["sui_image_params"]),
    },
    Rule {
        tool: "Fooocus",
        keys: &["fooocus_scheme"],
        test: Test::Present,
    },
    Rule {
        tool: "Fooocus",
        keys: &["parameters"],
        test: Test::ContainsAll(&["\"base_model\"", "\"guidance_scale\""]),
    },
    Rule {
        tool: "ComfyUI",
        keys: &["prompt"],
        test: Test::ContainsAll(&["class_type"]),
    },
    Rule {
        tool: "ComfyUI",
        keys: &["workflow"],
        test: Test::ContainsAll(&["\"nodes\""]),
    },
    Rule {
        tool: "ComfyUI",
        keys: &["Model"],
        test: Test::StartsWith("prompt:{"),
    },
    Rule {
        tool: "ComfyUI",
        keys: &["Make"],
        test: Test::StartsWith("workflow:{"),
    },
    Rule {
        tool: "InvokeAI",
        keys: &[
            "invokeai_metadata",
            "invokeai_graph",
            "invokeai_workflow",
            "sd-metadata",
            "Dream",
        ],
        test: Test::Present,
    },
    Rule {
        tool: "TensorArt",
        keys: &["generation_data"],
        test: Test::Present,
    },
    Rule {
        tool: "NovelAI",
        keys: &["Comment"],
        test: Test::ContainsAll(&["\"uc\"", "\"steps\""]),
    },
    Rule {
        tool: "Midjourney",
        keys: &["Description", "ImageDescription", "description"],
        test: Test::ContainsAll(&["Job ID:"]),
    },
    Rule {
        tool: "Easy Diffusion",
        keys: &["*"],
        test: Test::ContainsAll(&["num_inference_steps"]),
    },
];

/// Keys whose values name the software that made or touched the file.
pub const SOFTWARE_KEYS: &[&str] = &[
    "Software",
    "CreatorTool",
    "softwareAgent",
    "Credit",
    "Make",
    "©too",
    "©swr",
    "EncodedBy",
    "ProductName",
    "CompanyName",
    "Creator",
    "software",
    "owner",
    "Source",
    "Vendor",
    "ENCODER",
    "bext:Originator",
    "writingApplication",
];

/// Software names of generative tools, matched case-insensitively on word boundaries, with the
/// signal each gives.
pub const NAMES: &[(&str, Signal)] = &[
    ("Midjourney", Signal::Generated),
    ("DALL-E", Signal::Generated),
    ("DALL·E", Signal::Generated),
    ("Stable Diffusion", Signal::Generated),
    ("ComfyUI", Signal::Generated),
    ("NovelAI", Signal::Generated),
    ("Adobe Firefly", Signal::Generated),
    ("AUTOMATIC1111", Signal::Generated),
    ("InvokeAI", Signal::Generated),
    ("Fooocus", Signal::Generated),
    ("Draw Things", Signal::Generated),
    ("Mochi Diffusion", Signal::Generated),
    ("Black Forest Labs", Signal::Generated),
    ("gpt-image", Signal::Generated),
    ("Made with Google AI", Signal::Generated),
    ("Leonardo.Ai", Signal::Generated),
    ("Ideogram", Signal::Generated),
    ("Runway Gen", Signal::Generated),
    ("Topaz Gigapixel", Signal::Possible),
    ("Topaz Video AI", Signal::Possible),
];

fn key_matches(keys: &[&str], key: &str) -> bool {
    keys.iter()
        .any(|k| *k == "*" || k.eq_ignore_ascii_case(key))
}

/// Finds `name` in `value` (ASCII case-insensitive) with no letter or digit on either side.
pub fn contains_name(value: &str, name: &str) -> bool {
    let n = name.to_lowercase();
    contains_lowered(&value.to_lowercase(), &memchr::memmem::Finder::new(&n))
}

/// [`contains_name`] with both sides already lowercased, the name as a prepared finder.
fn contains_lowered(v: &str, n: &memchr::memmem::Finder<'_>) -> bool {
    let n_len = n.needle().len();
    let mut from = 0usize;
    while let Some(i) = v
        .get(from..)
        .and_then(|s| n.find(s.as_bytes()))
        .map(|i| i.saturating_add(from))
    {
        let before = v.get(..i).and_then(|s| s.chars().next_back());
        let after = v
            .get(i.saturating_add(n_len)..)
            .and_then(|s| s.chars().next());
        if !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric) {
            return true;
        }
        from = i.saturating_add(1);
        while !v.is_char_boundary(from) && from < v.len() {
            from = from.saturating_add(1);
        }
    }
    false
}

/// The first of [`NAMES`] found in `value` by [`contains_name`], lowercasing `value` once.
fn find_name(value: &str) -> Option<&'static (&'static str, Signal)> {
    static LOWERED: std::sync::OnceLock<Vec<(memchr::memmem::Finder<'static>, usize)>> =
        std::sync::OnceLock::new();
    let names = LOWERED.get_or_init(|| {
        NAMES
            .iter()
            .enumerate()
            .map(|(i, (n, _))| {
                (
                    memchr::memmem::Finder::new(&n.to_lowercase()).into_owned(),
                    i,
                )
            })
            .collect()
    });
    let v = value.to_lowercase();
    names
        .iter()
        .find(|(n, _)| contains_lowered(&v, n))
        .and_then(|&(_, i)| NAMES.get(i))
}

/// Checks one field against the table and the name list, adding evidence.
pub fn check(source: &str, key: &str, value: &str, evidence: &mut Vec<Evidence>) {
    for r in RULES {
        if !key_matches(r.keys, key) {
            continue;
        }
        let hit = match r.test {
            Test::Present => true,
            Test::ContainsAll(parts) => parts.iter().all(|p| value.contains(p)),
            Test::StartsWith(p) => value.trim_start().starts_with(p),
        };
        if hit {
            let tool = refine(r.tool, value);
            evidence.push(Evidence {
                kind: Kind::GeneratorMetadata,
                detail: format!("{tool}: `{key}` = {}", clip(value)),
                source: format!("{source} `{key}`"),
                strength: Strength::Strong,
                signal: Signal::Generated,
            });
            return;
        }
    }
    if key_matches(SOFTWARE_KEYS, key)
        && let Some((name, signal)) = find_name(value)
    {
        evidence.push(Evidence {
            kind: Kind::SoftwareName,
            detail: format!("{name}: `{key}` = {}", clip(value)),
            source: format!("{source} `{key}`"),
            strength: if *signal == Signal::Generated {
                Strength::Strong
            } else {
                Strength::Weak
            },
            signal: *signal,
        });
    }
}

fn refine(tool: &'static str, value: &str) -> &'static str {
    if tool.starts_with("Stable Diffusion web UI") {
        if value.contains("App: SD.Next") {
            return "SD.Next";
        }
        if value.contains("Version: f") {
            return "Stable Diffusion WebUI Forge";
        }
        return "Stable Diffusion web UI (AUTOMATIC1111)";
    }
    tool
}

#[cfg(test)]
#[allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code"
)]
mod tests {
    use super::*;

    fn hits(key: &str, value: &str) -> Vec<Evidence> {
        let mut v = Vec::new();
        check("test", key, value, &mut v);
        v
    }

    #[test]
    fn names_match_on_word_boundaries() {
        assert!(contains_name("Made in Midjourney v6", "midjourney"));
        assert!(!contains_name("Adobe Express", "Adobe Firefly"));
        assert!(!contains_name("xMidjourneyx", "Midjourney"));
        assert!(contains_name("ÄÖ Ideogram", "Ideogram"));
    }

    #[test]
    fn a1111_variants() {
        let v = hits(
            "parameters",
            "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, Version: f1.0",
        );
        assert!(v[0].detail.starts_with("Stable Diffusion WebUI Forge"));
        assert!(hits("parameters", "just words").is_empty());
    }

    #[test]
    fn non_generators_do_not_match() {
        assert!(hits("Software", "Adobe Photoshop 26.9").is_empty());
        assert!(hits("CreatorTool", "Adobe Express").is_empty());
    }
}
