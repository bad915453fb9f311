//! Self-made fixtures: each container with the evidence it can carry, built byte by byte.

use greenlight_provenance::{FileReport, Kind, ScanOptions, Scanner, Verdict};

pub fn scanner() -> Scanner {
    Scanner::new(ScanOptions::default()).unwrap()
}

pub fn scan(name: &str, bytes: &[u8]) -> FileReport {
    scanner().scan_bytes(name, bytes)
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut c = kind.to_vec();
    c.extend_from_slice(data);
    out.extend_from_slice(&c);
    out.extend_from_slice(&crc32(&c).to_be_bytes());
}

/// A valid 1×1 RGB PNG with extra chunks before and after the image data.
pub fn png(before: &[(&[u8; 4], Vec<u8>)], after: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    for (k, d) in before {
        chunk(&mut out, k, d);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&[0, 200, 30, 30]).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    for (k, d) in after {
        chunk(&mut out, k, d);
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

pub fn text(key: &str, value: &str) -> Vec<u8> {
    let mut v = key.as_bytes().to_vec();
    v.push(0);
    v.extend_from_slice(value.as_bytes());
    v
}

pub fn itxt(key: &str, value: &str) -> Vec<u8> {
    let mut v = key.as_bytes().to_vec();
    v.extend_from_slice(&[0, 0, 0, 0, 0]);
    v.extend_from_slice(value.as_bytes());
    v
}

fn ztxt(key: &str, value: &str) -> Vec<u8> {
    use std::io::Write;
    let mut v = key.as_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(value.as_bytes()).unwrap();
    v.extend_from_slice(&z.finish().unwrap());
    v
}

pub fn xmp_packet(body: &str) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dcterms="http://purl.org/dc/terms/">{body}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
    )
}

pub fn dst_xmp(term: &str) -> String {
    xmp_packet(&format!(
        "<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/{term}</Iptc4xmpExt:DigitalSourceType>"
    ))
}

fn tools(r: &FileReport) -> Vec<String> {
    r.evidence.iter().map(|e| e.detail.clone()).collect()
}

#[test]
fn png_generator_chunks_each_give_ai_generated() {
    let a1111 = "a castle\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1, Size: 512x512, Model: sd15";
    type Chunks = Vec<(&'static [u8; 4], Vec<u8>)>;
    let cases: Vec<(&str, Chunks)> = vec![
        (
            "Stable Diffusion web UI (AUTOMATIC1111)",
            vec![(b"tEXt", text("parameters", a1111))],
        ),
        (
            "Stable Diffusion WebUI Forge",
            vec![(
                b"tEXt",
                text("parameters", &format!("{a1111}, Version: f2.0.1")),
            )],
        ),
        (
            "SD.Next",
            vec![(
                b"iTXt",
                itxt("parameters", &format!("{a1111}, App: SD.Next")),
            )],
        ),
        (
            "ComfyUI",
            vec![(
                b"tEXt",
                text("prompt", r#"{"3":{"class_type":"KSampler","inputs":{}}}"#),
            )],
        ),
        (
            "ComfyUI",
            vec![(b"zTXt", ztxt("workflow", r#"{"nodes":[],"links":[]}"#))],
        ),
        (
            "InvokeAI",
            vec![(
                b"tEXt",
                text("invokeai_metadata", r#"{"positive_prompt":"a cat"}"#),
            )],
        ),
        (
            "Fooocus",
            vec![(b"tEXt", text("fooocus_scheme", "fooocus"))],
        ),
        (
            "NovelAI",
            vec![
                (b"tEXt", text("Software", "NovelAI")),
                (
                    b"tEXt",
                    text("Comment", r#"{"prompt":"x","uc":"y","steps":28}"#),
                ),
            ],
        ),
        (
            "Midjourney",
            vec![(
                b"iTXt",
                itxt(
                    "Description",
                    "a fox --v 6 --ar 3:2 Job ID: 1b2c3d4e-0000-0000-0000-000000000000",
                ),
            )],
        ),
        (
            "SwarmUI",
            vec![(
                b"tEXt",
                text("parameters", r#"{"sui_image_params":{"prompt":"x"}}"#),
            )],
        ),
    ];
    for (tool, chunks) in cases {
        // generator text may follow the image data: put it after IDAT
        let r = scan("gen.png", &png(&[], &chunks));
        assert_eq!(r.format, Some("png"));
        assert_eq!(r.verdict, Verdict::AiGenerated, "{tool}: {:?}", r.evidence);
        assert!(
            tools(&r).iter().any(|d| d.starts_with(tool)),
            "{tool}: {:?}",
            tools(&r)
        );
    }
}

#[test]
fn png_without_generator_chunks_has_no_ai_evidence() {
    let r = scan(
        "plain.png",
        &png(&[(b"tEXt", text("Software", "GIMP 2.10"))], &[]),
    );
    assert_eq!(r.verdict, Verdict::NoAiEvidence);
    assert!(!r.c2pa.present);
}

#[test]
fn iptc_digital_source_type_terms_are_exact() {
    for (term, verdict) in [
        ("trainedAlgorithmicMedia", Verdict::AiGenerated),
        ("compositeWithTrainedAlgorithmicMedia", Verdict::AiEdited),
        ("compositeSynthetic", Verdict::AiEdited),
        ("digitalArt", Verdict::AiPossible),
        ("algorithmicMedia", Verdict::NoAiEvidence),
        ("digitalCapture", Verdict::NoAiEvidence),
    ] {
        let r = scan(
            "x.png",
            &png(&[(b"iTXt", itxt("XML:com.adobe.xmp", &dst_xmp(term)))], &[]),
        );
        assert_eq!(r.verdict, verdict, "{term}");
    }
}

/// A JPEG that a marker walk accepts: SOI, the given APP segments, SOS, a little data, EOI.
pub fn jpeg(segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for (marker, body) in segments {
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&[
        0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0, 0x12, 0x34, 0xFF, 0xD9,
    ]);
    out
}

pub fn app1_xmp(xmp: &str) -> (u8, Vec<u8>) {
    let mut b = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    b.extend_from_slice(xmp.as_bytes());
    (0xE1, b)
}

#[test]
fn jpeg_with_xmp_digital_source_type() {
    let r = scan(
        "x.jpg",
        &jpeg(&[app1_xmp(&dst_xmp("trainedAlgorithmicMedia"))]),
    );
    assert_eq!(r.format, Some("jpeg"));
    assert_eq!(r.verdict, Verdict::AiGenerated);
    assert_eq!(r.evidence[0].kind, Kind::IptcDigitalSourceType);
}

#[test]
fn jpeg_exif_comfyui_and_a1111_user_comment() {
    // a big-endian TIFF block with Model = "prompt:{…}" and UserComment (UNICODE, UTF-16BE)
    fn exif(entries: &[(u16, u16, Vec<u8>)]) -> Vec<u8> {
        let mut out = b"MM\0*\0\0\0\x08".to_vec();
        let n = entries.len() as u16;
        out.extend_from_slice(&n.to_be_bytes());
        let mut data_off = 8 + 2 + 12 * entries.len() as u32 + 4;
        let mut data = Vec::new();
        for (tag, typ, v) in entries {
            out.extend_from_slice(&tag.to_be_bytes());
            out.extend_from_slice(&typ.to_be_bytes());
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(&data_off.to_be_bytes());
            data.extend_from_slice(v);
            data_off += v.len() as u32;
        }
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&data);
        out
    }
    let mut model = b"prompt:{\"3\":{\"class_type\":\"KSampler\"}}".to_vec();
    model.push(0);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif(&[(0x0110, 2, model)]));
    let r = scan("c.jpg", &jpeg(&[(0xE1, app1)]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    assert!(tools(&r)[0].starts_with("ComfyUI"));

    // TIFF file with an EXIF sub-IFD holding a UserComment written by A1111 (piexif, UTF-16BE)
    let mut uc = b"UNICODE\0".to_vec();
    for u in "a dog\nSteps: 30, Sampler: Euler".encode_utf16() {
        uc.extend_from_slice(&u.to_be_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&[0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&[0x92, 0x86, 0, 7]);
    tiff.extend_from_slice(&(uc.len() as u32).to_be_bytes());
    tiff.extend_from_slice(&44u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&uc);
    app1.extend_from_slice(&tiff);
    let r = scan("a.jpg", &jpeg(&[(0xE1, app1)]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    let r = scan("a.tif", &tiff);
    assert_eq!(r.format, Some("tiff"));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
}

pub fn bmff_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

#[test]
fn mp4_with_xmp_uuid_and_udta_software() {
    let mut ftyp = b"isom\0\0\x02\0isomiso2mp41".to_vec();
    ftyp.truncate(20);
    let mut xmp = vec![
        0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF,
        0xAC,
    ];
    xmp.extend_from_slice(dst_xmp("compositeWithTrainedAlgorithmicMedia").as_bytes());
    let mut file = bmff_box(b"ftyp", &ftyp);
    file.extend(bmff_box(b"uuid", &xmp));
    file.extend(bmff_box(b"mdat", &[0u8; 4096]));
    let r = scan("v.mp4", &file);
    assert_eq!(r.format, Some("mp4"));
    assert_eq!(r.verdict, Verdict::AiEdited, "{:?}", r.evidence);

    // QuickTime: moov/udta/©swr naming a generator, after a large mdat that is never read
    let mut swr = 12u16.to_be_bytes().to_vec();
    swr.extend_from_slice(&[0, 0]);
    swr.extend_from_slice(b"Runway Gen-3");
    let udta = bmff_box(b"udta", &bmff_box(b"\xA9swr", &swr));
    let mut mov = bmff_box(b"ftyp", b"qt  \0\0\0\0qt  ");
    mov.extend(bmff_box(b"mdat", &vec![0u8; 1 << 20]));
    mov.extend(bmff_box(b"moov", &udta));
    let r = scan("m.mov", &mov);
    assert_eq!(r.format, Some("mov"));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    assert!(
        r.bytes_read < 4096,
        "mdat is skipped, read {}",
        r.bytes_read
    );
}

#[test]
fn riff_webp_wav_xmp_and_info() {
    fn riff(form: &[u8; 4], chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut body = form.to_vec();
        for (id, d) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(d.len() as u32).to_le_bytes());
            body.extend_from_slice(d);
            if d.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend(body);
        out
    }
    let r = scan(
        "x.webp",
        &riff(
            b"WEBP",
            &[
                (b"VP8 ", vec![0; 11]),
                (b"XMP ", dst_xmp("trainedAlgorithmicMedia").into_bytes()),
            ],
        ),
    );
    assert_eq!((r.format, r.verdict), (Some("webp"), Verdict::AiGenerated));
    let mut info = b"INFO".to_vec();
    info.extend_from_slice(b"ISFT");
    info.extend_from_slice(&9u32.to_le_bytes());
    info.extend_from_slice(b"Midjourney\0");
    let r = scan(
        "x.wav",
        &riff(
            b"WAVE",
            &[
                (b"fmt ", vec![0; 16]),
                (b"data", vec![0; 100]),
                (b"LIST", info),
            ],
        ),
    );
    assert_eq!(r.format, Some("wav"));
}

#[test]
fn gif_comment_after_the_frames_is_read() {
    let mut g = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
    g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0]);
    g.extend_from_slice(&[0x21, 0xFE]);
    let c = b"a cat\nSteps: 20, Sampler: Euler a";
    g.push(c.len() as u8);
    g.extend_from_slice(c);
    g.extend_from_slice(&[0, 0x3B]);
    let r = scan("x.gif", &g);
    assert_eq!(
        (r.format, r.verdict),
        (Some("gif"), Verdict::AiGenerated),
        "{:?}",
        r
    );
}

/// An ID3v2.3 frame.
pub fn id3_frame(id: &[u8; 4], data: &[u8], claim: Option<u32>) -> Vec<u8> {
    let mut f = id.to_vec();
    f.extend_from_slice(&claim.unwrap_or(data.len() as u32).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(data);
    f
}

/// An ID3v2.3 tag holding `frames`, then one MPEG audio frame header.
pub fn mp3(frames: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = frames.concat();
    let n = body.len() as u32;
    let mut tag = b"ID3\x03\x00\x00".to_vec();
    tag.extend_from_slice(&[
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ]);
    tag.extend(body);
    tag.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
    tag
}

#[test]
fn mp3_id3_software_frame() {
    let tag = mp3(&[id3_frame(b"TSSE", b"\x03Stable Diffusion Audio", None)]);
    let r = scan("x.mp3", &tag);
    assert_eq!(
        (r.format, r.verdict),
        (Some("mp3"), Verdict::AiGenerated),
        "{:?}",
        r
    );
}

#[test]
fn film_formats_read_header_text_and_say_they_cannot_carry_c2pa() {
    // OpenEXR with an `owner` string attribute and a vendor attribute
    let mut exr = vec![0x76, 0x2F, 0x31, 0x01, 2, 0, 0, 0];
    for (name, value) in [("owner", "VFX house"), ("software", "ComfyUI 0.3")] {
        exr.extend_from_slice(name.as_bytes());
        exr.push(0);
        exr.extend_from_slice(b"string\0");
        exr.extend_from_slice(&(value.len() as u32).to_le_bytes());
        exr.extend_from_slice(value.as_bytes());
    }
    exr.push(0);
    exr.extend_from_slice(&[0u8; 64]);
    let r = scan("sh0420.exr", &exr);
    assert_eq!(
        (r.format, r.verdict),
        (Some("openexr"), Verdict::AiGenerated),
        "{:?}",
        r
    );
    assert!(r.notes.iter().any(|n| n.contains("no C2PA embedding")));

    // DPX, big-endian, creator field at 160
    let mut dpx = vec![0u8; 2048];
    dpx[..4].copy_from_slice(b"SDPX");
    dpx[160..160 + 10].copy_from_slice(b"Midjourney");
    let r = scan("f.dpx", &dpx);
    assert_eq!(
        (r.format, r.verdict),
        (Some("dpx"), Verdict::AiGenerated),
        "{:?}",
        r
    );
    assert!(r.notes.iter().any(|n| n.contains("no C2PA embedding")));

    // MXF: partition pack, then an Identification set with ProductName (UTF-16BE)
    let mut mxf = vec![
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01, 0x02, 0x04,
        0x00,
    ];
    mxf.push(0x10);
    mxf.extend_from_slice(&[0u8; 16]);
    let name: Vec<u8> = "Avid Media Composer"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let mut set = vec![0x3C, 0x02];
    set.extend_from_slice(&(name.len() as u16).to_be_bytes());
    set.extend_from_slice(&name);
    mxf.extend_from_slice(&[
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x53, 0x01, 0x01, 0x0D, 0x01, 0x01, 0x01, 0x01, 0x01, 0x30,
        0x00,
    ]);
    mxf.push(set.len() as u8);
    mxf.extend(set);
    let r = scan("a.mxf", &mxf);
    assert_eq!(
        (r.format, r.verdict),
        (Some("mxf"), Verdict::NoAiEvidence),
        "{:?}",
        r
    );
    assert!(r.notes.iter().any(|n| n.contains("no C2PA embedding")));
}

#[test]
fn remote_and_stripped_manifest_pointers_are_reported_not_fetched() {
    let remote =
        xmp_packet(r#"<dcterms:provenance>https://example.invalid/m.c2pa</dcterms:provenance>"#);
    let r = scan("r.jpg", &jpeg(&[app1_xmp(&remote)]));
    assert_eq!(r.c2pa.integrity, greenlight_provenance::Integrity::Remote);
    assert_eq!(
        r.c2pa.remote_url.as_deref(),
        Some("https://example.invalid/m.c2pa")
    );
    assert_eq!(r.verdict, Verdict::NoAiEvidence);
    let stripped = xmp_packet(
        r#"<dcterms:provenance>self#jumbf=/c2pa/urn:uuid:1/c2pa.claim</dcterms:provenance>"#,
    );
    let r = scan("s.jpg", &jpeg(&[app1_xmp(&stripped)]));
    assert_eq!(r.c2pa.integrity, greenlight_provenance::Integrity::Stripped);
    assert!(r.evidence.iter().any(|e| e.kind == Kind::StrippedManifest));
}

#[test]
fn unknown_and_empty_inputs() {
    let r = scan("x.bin", b"just some text, not media");
    assert_eq!((r.format, r.verdict), (None, Verdict::Unsupported));
    let r = scan("empty", b"");
    assert_eq!(r.verdict, Verdict::Unsupported);
}

#[test]
fn truncated_and_hostile_headers_never_panic() {
    let png_file = png(
        &[(b"tEXt", text("parameters", "Steps: 1, Sampler: x"))],
        &[],
    );
    let jpg = jpeg(&[app1_xmp(&dst_xmp("trainedAlgorithmicMedia"))]);
    let seeds: Vec<Vec<u8>> = vec![png_file, jpg];
    for seed in &seeds {
        for cut in 0..seed.len() {
            let _ = scan("cut", &seed[..cut]);
        }
        for i in 0..seed.len().min(400) {
            let mut m = seed.clone();
            m[i] ^= 0xFF;
            let _ = scan("flip", &m);
        }
    }
    // lengths near u32::MAX, self-referencing IFDs, BMFF size 1 with a huge 64-bit size
    let _ = scan(
        "t",
        b"II*\0\x08\0\0\0\x01\0\x31\x01\x02\0\xff\xff\xff\xff\x08\0\0\0\x08\0\0\0",
    );
    let _ = scan("b", b"\0\0\0\x01ftyp\xff\xff\xff\xff\xff\xff\xff\xffisom");
    let _ = scan("r", b"RIFF\xff\xff\xff\xffWAVEC2PA\xff\xff\xff\xff");
    let _ = scan("g", b"GIF89a\x01\0\x01\0\x87\0\0");
    let _ = scan("i", b"ID3\x04\0\x40\x7f\x7f\x7f\x7f");
}

#[test]
fn heif_xmp_item_located_by_iloc() {
    let xmp = dst_xmp("trainedAlgorithmicMedia");
    let ftyp = bmff_box(b"ftyp", b"heic\0\0\0\0mif1heic");
    // infe v2: id 1, protection 0, type `mime`, name "", content type
    let mut infe = vec![2, 0, 0, 0, 0, 1, 0, 0];
    infe.extend_from_slice(b"mime\0application/rdf+xml\0");
    let mut iinf = vec![0, 0, 0, 0, 0, 1];
    iinf.extend(bmff_box(b"infe", &infe));
    let iinf = bmff_box(b"iinf", &iinf);
    // iloc v0: offset_size 4, length_size 4, base_offset_size 0; one item, one extent
    let iloc_len = 8 + 4 + 2 + 2 + 2 + 2 + 2 + 4 + 4;
    let meta_len = 12 + iinf.len() + iloc_len;
    let data_at = (ftyp.len() + meta_len + 8) as u32;
    let mut iloc = vec![0, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
    iloc.extend_from_slice(&data_at.to_be_bytes());
    iloc.extend_from_slice(&(xmp.len() as u32).to_be_bytes());
    let iloc = bmff_box(b"iloc", &iloc);
    assert_eq!(iloc.len(), iloc_len);
    let mut meta = vec![0, 0, 0, 0];
    meta.extend(iinf);
    meta.extend(iloc);
    let mut file = ftyp;
    file.extend(bmff_box(b"meta", &meta));
    file.extend(bmff_box(b"mdat", xmp.as_bytes()));
    let r = scan("x.heic", &file);
    assert_eq!(
        (r.format, r.verdict),
        (Some("heic"), Verdict::AiGenerated),
        "{:?}",
        r
    );
}

/// Brotli-compresses `data` (for JPEG XL `brob` boxes).
pub fn brotli(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut w = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
    w.write_all(data).unwrap();
    w.into_inner()
}

/// A JPEG XL container (signature box, then `boxes`).
pub fn jxl(boxes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"\0\0\0\x0cJXL \r\n\x87\n".to_vec();
    out.extend(bmff_box(b"ftyp", b"jxl \0\0\0\0jxl "));
    for b in boxes {
        out.extend_from_slice(b);
    }
    out.extend(bmff_box(b"jxlc", b"\xff\x0a"));
    out
}

/// A `brob` box standing for a `kind` box with `payload`.
pub fn brob(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend(brotli(payload));
    bmff_box(b"brob", &body)
}

#[test]
fn jxl_brotli_compressed_xmp_and_exif_are_read() {
    // compressed XMP with a generative source type
    let xmp = dst_xmp("trainedAlgorithmicMedia");
    let r = scan("x.jxl", &jxl(&[brob(b"xml ", xmp.as_bytes())]));
    assert_eq!(
        (r.format, r.verdict),
        (Some("jxl"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    // the same packet uncompressed reads the same
    let plain = scan("p.jxl", &jxl(&[bmff_box(b"xml ", xmp.as_bytes())]));
    assert_eq!(plain.evidence, r.evidence);

    // compressed EXIF (4-byte offset, then TIFF) whose Software names a generator
    let mut exif = vec![0, 0, 0, 0];
    exif.extend_from_slice(
        b"MM\0*\0\0\0\x08\0\x01\x01\x31\0\x02\0\0\0\x0b\0\0\0\x1a\0\0\0\0Midjourney\0",
    );
    let r = scan("e.jxl", &jxl(&[brob(b"Exif", &exif)]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert!(
        r.evidence.iter().any(|e| e.source.contains("EXIF")),
        "{:?}",
        r.evidence
    );

    // corrupt Brotli data: a malformed-metadata item (context only), no error
    let mut bad = b"xml ".to_vec();
    bad.extend_from_slice(b"\xff\xff\xff\xff not brotli");
    let r = scan("b.jxl", &jxl(&[bmff_box(b"brob", &bad)]));
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{r:?}");
    assert!(
        r.evidence.iter().any(|e| e.kind == Kind::MetadataMalformed
            && e.source == "JPEG XL `brob` box for `xml`"
            && e.detail
                .starts_with("Brotli-compressed box malformed: corrupt Brotli data")),
        "{:?}",
        r.evidence
    );
    assert!(r.error.is_none(), "{:?}", r.error);

    // other compressed boxes are skipped quietly
    let r = scan("o.jxl", &jxl(&[brob(b"jbrd", b"reconstruction data")]));
    assert!(r.notes.is_empty() && r.evidence.is_empty(), "{r:?}");
}

#[test]
fn jxl_decompressed_metadata_counts_against_the_byte_cap() {
    // 200 KiB of XMP padding compresses to almost nothing; a 64 KiB cap must stop it.
    let mut xmp = dst_xmp("trainedAlgorithmicMedia");
    xmp.push_str(&" ".repeat(200 << 10));
    let file = jxl(&[brob(b"xml ", xmp.as_bytes())]);
    assert!(file.len() < 16 << 10, "{} bytes", file.len());
    let capped = Scanner::new(ScanOptions {
        max_bytes_per_file: 64 << 10,
        ..ScanOptions::default()
    })
    .unwrap()
    .scan_bytes("cap.jxl", &file);
    assert_eq!(capped.evidence, Vec::new(), "{capped:?}");
    assert!(capped.bytes_read <= 64 << 10, "{}", capped.bytes_read);
    assert!(
        capped.notes.iter().any(|n| n.contains("Brotli")),
        "{:?}",
        capped.notes
    );
    // With room for it, the same file is read, and the decompressed bytes are counted.
    let read = scan("room.jxl", &file);
    assert_eq!(read.verdict, Verdict::AiGenerated, "{read:?}");
    assert!(read.bytes_read > 200 << 10, "{}", read.bytes_read);
}

/// Deterministic mutations of a valid seed per reader (a light, always-on companion of the
/// cargo-fuzz targets in `fuzz/`): no reader may panic on any of them.
#[test]
fn every_reader_survives_mutated_seeds() {
    let mut seeds: Vec<(&str, Vec<u8>)> = vec![
        ("png", png(&[(b"iTXt", itxt("XML:com.adobe.xmp", &dst_xmp("trainedAlgorithmicMedia")))], &[(b"tEXt", text("parameters", "Steps: 1, Sampler: a"))])),
        ("jpeg", jpeg(&[app1_xmp(&dst_xmp("trainedAlgorithmicMedia")), (0xEB, b"JP\x02\x11\0\0\0\x01\0\0\0\x10jumb\0\0\0\x08jumd".to_vec()), (0xFE, b"hi".to_vec())])),
        ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\0\0\0\xff\xff\xff\x21\xfe\x02hi\x00\x2c\0\0\0\0\x01\0\x01\0\0\x02\x02\x4c\x01\0\x3b".to_vec()),
        ("tiff", b"MM\0*\0\0\0\x08\0\x02\x01\x31\0\x02\0\0\0\x04abc\0\x87\x69\0\x04\0\0\0\x01\0\0\0\x26\0\0\0\0\0\x01\x92\x86\0\x07\0\0\0\x04abcd\0\0\0\0".to_vec()),
        ("riff", b"RIFF\x20\0\0\0WEBPXMP \x04\0\0\0<x/>EXIF\x08\0\0\0MM\0*\0\0\0\x08".to_vec()),
        ("id3", b"ID3\x03\0\0\0\0\0\x14TSSE\0\0\0\x04\0\0\x03abcfLaC\x84\0\0\x08\x03\0\0\0abc\0\0\0\0".to_vec()),
        ("openexr", b"v/1\x01\x02\0\0\0owner\0string\0\x03\0\0\0abc\0".to_vec()),
        ("c2pa", b"\0\0\0\x20jumb\0\0\0\x18jumdc2pa\0\x11\0\x10\x80\0\0\xaa\0\x38\x9b\x71".to_vec()),
        ("svg", b"<svg><metadata><c2pa:manifest>AAAAIGp1bWI=</c2pa:manifest></metadata></svg>".to_vec()),
        ("pdf", b"%PDF-1.7\n1 0 obj<</Type/Metadata/Filter/FlateDecode>>stream\nx\x9c\x03\0\0\0\0\x01endstream C2PA_Manifest".to_vec()),
        ("jxl", b"\0\0\0\x0cJXL \r\n\x87\n\0\0\0\x10xml <x:xmpmeta\0\0\0\x0cExif\0\0\0\0".to_vec()),
        ("jxl", jxl(&[brob(b"xml ", dst_xmp("trainedAlgorithmicMedia").as_bytes()), brob(b"jumb", b"\0\0\0\x18jumdc2pa\0\x11\0\x10\x80\0\0\xaa\0\x38\x9b\x71")])),
        ("mxf", {
            let mut m = vec![0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01, 0x02, 0x04, 0x00, 0x83, 0, 0, 4, 1, 2, 3, 4];
            m.extend_from_slice(&[0x06, 0x0E, 0x2B, 0x34, 0x02, 0x53, 0x01, 0x01, 0x0D, 0x01, 0x01, 0x01, 0x01, 0x01, 0x30, 0x00, 0x08, 0x3C, 0x02, 0, 4, 0, b'A', 0, b'B']);
            m
        }),
        ("dpx", {
            let mut d = vec![b' '; 2100];
            d[..4].copy_from_slice(b"XPDS");
            d[32..36].copy_from_slice(&64u32.to_le_bytes());
            d
        }),
    ];
    let mut mp4 = bmff_box(b"ftyp", b"heic\0\0\0\0mif1heic");
    mp4.extend(bmff_box(
        b"meta",
        &[
            0, 0, 0, 0, 0, 0, 0, 14, b'i', b'i', b'n', b'f', 0, 0, 0, 0, 0, 0,
        ],
    ));
    mp4.extend(bmff_box(
        b"moov",
        &bmff_box(b"udta", &bmff_box(b"\xA9too", b"\0\x03\0\0abc")),
    ));
    seeds.push(("bmff", mp4));
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (reader, seed) in &seeds {
        assert!(
            greenlight_provenance::formats::read_bytes(reader, seed).is_some(),
            "no reader `{reader}`"
        );
        for _ in 0..3000 {
            let mut m = seed.clone();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % m.len().max(1);
                match next() % 5 {
                    0 if !m.is_empty() => m[at] = next() as u8,
                    1 if !m.is_empty() => m[at] = [0x00, 0xFF, 0x7F, 0x80][(next() % 4) as usize],
                    2 => m.insert(at.min(m.len()), next() as u8),
                    3 => m.truncate(at),
                    _ if at + 4 <= m.len() => {
                        m[at..at + 4].copy_from_slice(&(next() as u32).to_be_bytes())
                    }
                    _ => {}
                }
            }
            let _ = greenlight_provenance::formats::read_bytes(reader, &m);
        }
    }
}
