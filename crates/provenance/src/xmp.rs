//! XMP packets parsed with `quick-xml`: the properties that matter for provenance, by local name,
//! whether written as attributes (`rdf:Description` shorthand) or as elements (with `rdf:li`).

use quick_xml::events::Event;

/// The local names kept from an XMP packet.
pub const KEPT: &[&str] = &[
    "DigitalSourceType",
    "provenance",
    "CreatorTool",
    "Credit",
    "softwareAgent",
    "AISystemUsed",
    "AISystemVersionUsed",
    "AIPromptInformation",
    "AIPromptWriterName",
    "UserComment",
    "Software",
    "ImageDescription",
    "Make",
    "Model",
    "description",
];

const MAX_EVENTS: usize = 1_000_000;

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&c| c == b':') {
        Some(i) => name.get(i.saturating_add(1)..).unwrap_or_default(),
        None => name,
    }
}

fn kept(name: &[u8]) -> Option<&'static str> {
    let l = local(name);
    KEPT.iter().copied().find(|k| k.as_bytes() == l)
}

/// What was read from one XMP packet.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Packet {
    /// `(local name, value)` pairs of the kept properties, in document order.
    pub fields: Vec<(String, String)>,
    /// Why the packet is not well-formed XML, when it is not (the fields read before the
    /// problem are kept).
    pub problem: Option<String>,
}

/// Extracts `(local name, value)` pairs from an XMP packet. Malformed XML ends the walk early
/// but keeps what was read so far.
pub fn fields(xmp: &str) -> Vec<(String, String)> {
    read(xmp).fields
}

/// Reads an XMP packet: the kept properties, and what makes it malformed, if anything (XML
/// that does not parse, or a packet that ends inside an element).
pub fn read(xmp: &str) -> Packet {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut problem = None;
    let mut reader = quick_xml::Reader::from_str(xmp);
    // innermost kept element, with the text gathered so far
    let mut stack: Vec<Option<(&'static str, String)>> = Vec::new();
    for _ in 0..MAX_EVENTS {
        let ev = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                problem = Some(format!(
                    "not well-formed XML at byte {}: {e}",
                    reader.error_position()
                ));
                break;
            }
        };
        match ev {
            Event::Start(e) => {
                attributes(&e, &mut out);
                // a nested element (such as another `rdf:li`) starts a new word
                if let Some(Some((_, v))) = stack.iter_mut().rev().find(|s| s.is_some())
                    && !v.is_empty()
                    && !v.ends_with(' ')
                {
                    v.push(' ');
                }
                stack.push(kept(e.name().as_ref()).map(|k| (k, String::new())));
            }
            Event::Empty(e) => {
                attributes(&e, &mut out);
                if let Some(k) = kept(e.name().as_ref()) {
                    // `<Iptc4xmpExt:DigitalSourceType rdf:resource="…"/>`
                    for a in e.attributes().flatten() {
                        if local(a.key.as_ref()) == b"resource"
                            && let Ok(v) = a.unescape_value()
                        {
                            out.push((k.to_string(), v.to_string()));
                        }
                    }
                }
            }
            Event::End(_) => {
                if let Some(Some((k, v))) = stack.pop()
                    && !v.trim().is_empty()
                {
                    out.push((k.to_string(), v.trim().to_string()));
                }
            }
            Event::Text(t) => {
                if let Some(Some((_, v))) = stack.iter_mut().rev().find(|s| s.is_some())
                    && let Ok(s) = t.decode()
                {
                    v.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(Some((_, v))) = stack.iter_mut().rev().find(|s| s.is_some()) {
                    v.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(Some((_, v))) = stack.iter_mut().rev().find(|s| s.is_some()) {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        v.push(c);
                    } else if let Ok(name) = r.decode()
                        && let Some(s) = quick_xml::escape::resolve_predefined_entity(&name)
                    {
                        v.push_str(s);
                    }
                }
            }
            Event::Eof => {
                let open = stack.len();
                if open > 0 {
                    problem = Some(format!(
                        "the packet ends inside {open} open element{}",
                        if open == 1 { "" } else { "s" }
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    // A packet cut short keeps the text of the properties it was in.
    for (k, v) in stack.into_iter().flatten() {
        if !v.trim().is_empty() {
            out.push((k.to_string(), v.trim().to_string()));
        }
    }
    Packet {
        fields: out,
        problem,
    }
}

fn attributes(e: &quick_xml::events::BytesStart<'_>, out: &mut Vec<(String, String)>) {
    for a in e.attributes().with_checks(false).flatten() {
        if let Some(k) = kept(a.key.as_ref())
            && let Ok(v) = a.unescape_value()
        {
            out.push((k.to_string(), v.trim().to_string()));
        }
    }
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

    #[test]
    fn attribute_and_element_forms() {
        let x = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        <rdf:Description xmp:CreatorTool="Tool &amp; Co" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
        <Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>
        <dc:description><rdf:Alt><rdf:li xml:lang="x-default">a &lt;cat&gt;</rdf:li></rdf:Alt></dc:description>
        </rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let f = fields(x);
        assert!(f.contains(&("CreatorTool".into(), "Tool & Co".into())));
        assert!(f.contains(&(
            "DigitalSourceType".into(),
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia".into()
        )));
        assert!(
            f.iter()
                .any(|(k, v)| k == "description" && v.contains("<cat>")),
            "{f:?}"
        );
    }

    #[test]
    fn malformed_xml_does_not_panic() {
        for s in [
            "<a",
            "<<<>>>",
            "<x:xmpmeta><rdf:li>&#xFFFFFFFF;</rdf:li>",
            "\u{0}\u{1}",
        ] {
            let _ = fields(s);
        }
    }
}
