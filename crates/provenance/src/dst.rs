//! IPTC and C2PA digital source types, classified by the rules of the C2PA asset-signals rubric.
//! Values are trimmed and matched on their last path segment, exactly (so `algorithmicMedia`
//! never matches `trainedAlgorithmicMedia`).

/// What a digital source type says about generative AI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DstClass {
    /// Made by a trained model (`trainedAlgorithmicMedia`, `trainedAlgorithmicData`).
    Generated,
    /// Partly made by a trained model (`compositeWithTrainedAlgorithmicMedia`, `compositeSynthetic`).
    Composite,
    /// Mixed or unknown origin (`composite`, `digitalArt`, `virtualRecording`, `softwareImage`).
    Possible,
    /// Captured, algorithmic without training, or human made.
    NotAi,
    /// Not a known term.
    Unknown,
}

/// The term of a digital source type value (its last path segment, trimmed).
pub fn term(value: &str) -> &str {
    let v = value.trim();
    let v = v.trim_end_matches('/');
    v.rsplit(['/', '#', ':']).next().unwrap_or(v).trim()
}

/// Classifies a digital source type value.
pub fn classify(value: &str) -> DstClass {
    match term(value) {
        "trainedAlgorithmicMedia" | "trainedAlgorithmicData" => DstClass::Generated,
        "compositeWithTrainedAlgorithmicMedia" | "compositeSynthetic" => DstClass::Composite,
        "composite" | "digitalArt" | "virtualRecording" | "softwareImage" => DstClass::Possible,
        "algorithmicMedia"
        | "algorithmicallyEnhanced"
        | "dataDrivenMedia"
        | "digitalCreation"
        | "humanEdits"
        | "minorHumanEdits"
        | "digitalCapture"
        | "computationalCapture"
        | "compositeCapture"
        | "screenCapture"
        | "negativeFilm"
        | "positiveFilm"
        | "print"
        | "empty" => DstClass::NotAi,
        _ => DstClass::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_terms_with_quirks() {
        let base = "http://cv.iptc.org/newscodes/digitalsourcetype/";
        assert_eq!(
            classify(&format!("{base}trainedAlgorithmicMedia")),
            DstClass::Generated
        );
        assert_eq!(
            classify(&format!("{base}algorithmicMedia")),
            DstClass::NotAi
        );
        assert_eq!(classify(&format!(" {base}digitalCapture")), DstClass::NotAi);
        assert_eq!(
            classify("https://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"),
            DstClass::Composite
        );
        assert_eq!(classify("trainedAlgorithmicMedia"), DstClass::Generated);
        assert_eq!(
            classify("http://c2pa.org/digitalsourcetype/trainedAlgorithmicData"),
            DstClass::Generated
        );
        assert_eq!(classify("digitalArt"), DstClass::Possible);
        assert_eq!(classify("somethingElse"), DstClass::Unknown);
    }
}
