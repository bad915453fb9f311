//! Broken metadata blocks, built byte by byte for every container that carries EXIF or XMP:
//! each report keeps the evidence that can still be read and says what is malformed, as a
//! `metadata_malformed` context item naming the block. Also C2PA stores that do not parse.

use super::fixtures::{
    app1_xmp, bmff_box, dst_xmp, id3_frame, itxt, jpeg, jxl, mp3, png, scan, text, xmp_packet,
};
use greenlight_provenance::{Evidence, FileReport, Integrity, Kind, Signal, Verdict};

/// A prompt long enough that a next-IFD link pointing into it reads as a plausible IFD.
fn prompt() -> String {
    format!(
        "{}\nNegative prompt: blurry\nSteps: 30, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512",
        "a lighthouse at dusk, volumetric fog, ".repeat(20)
    )
}

/// UserComment as A1111 (piexif) writes it: `UNICODE\0`, then UTF-16BE.
fn user_comment(text: &str) -> Vec<u8> {
    let mut uc = b"UNICODE\0".to_vec();
    for u in text.encode_utf16() {
        uc.extend_from_slice(&u.to_be_bytes());
    }
    uc
}

/// Where IFD0's next-IFD link points.
#[derive(Clone, Copy, Debug)]
enum Link {
    /// Nowhere (0): an intact block.
    Intact,
    /// Into IFD0's own Software value.
    IntoValues,
    /// Into IFD0's own entry table (its second entry).
    IntoEntries,
    /// Into the UserComment text of the EXIF sub-IFD.
    IntoPrompt,
}

/// A big-endian TIFF block: IFD0 with Software `GIMP 2.10`, a pointer to an EXIF IFD holding
/// an A1111 UserComment, and (for DNG) a DNGVersion tag; IFD0's next-IFD link as `link` says.
fn tiff_block(dng: bool, link: Link) -> Vec<u8> {
    let software = b"GIMP 2.10\0";
    let n: u32 = if dng { 3 } else { 2 };
    let table_end = 8 + 2 + 12 * n;
    let software_at = table_end + 4;
    let exif_at = software_at + software.len() as u32;
    let uc = user_comment(&prompt());
    let uc_at = exif_at + 2 + 12 + 4;
    let mut out = b"MM\0*\0\0\0\x08".to_vec();
    out.extend_from_slice(&(n as u16).to_be_bytes());
    let entry = |out: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&typ.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&value);
    };
    entry(
        &mut out,
        0x0131,
        2,
        software.len() as u32,
        software_at.to_be_bytes(),
    );
    entry(&mut out, 0x8769, 4, 1, exif_at.to_be_bytes());
    if dng {
        entry(&mut out, 0xC612, 1, 4, [1, 4, 0, 0]);
    }
    let next = match link {
        Link::Intact => 0,
        Link::IntoValues => software_at + 2,
        Link::IntoEntries => 8 + 2 + 12,
        Link::IntoPrompt => uc_at + 8 + 40,
    };
    out.extend_from_slice(&next.to_be_bytes());
    out.extend_from_slice(software);
    assert_eq!(out.len() as u32, exif_at);
    out.extend_from_slice(&1u16.to_be_bytes());
    entry(&mut out, 0x9286, 7, uc.len() as u32, uc_at.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(out.len() as u32, uc_at);
    out.extend_from_slice(&uc);
    out
}

/// A big-endian EXIF block with Software `Midjourney` and an ImageDescription whose value
/// offset points past the end of the block.
fn exif_value_past_the_end() -> Vec<u8> {
    let mut b = b"MM\0*\0\0\0\x08\0\x02".to_vec();
    b.extend_from_slice(&[0x01, 0x0E, 0, 2, 0, 0, 0, 40, 0, 0, 0x10, 0]);
    b.extend_from_slice(&[0x01, 0x31, 0, 2, 0, 0, 0, 11, 0, 0, 0, 38]);
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(b"Midjourney\0");
    b
}

/// An XMP packet with a generative digital source type, then XML that breaks (a mismatched
/// end tag).
fn broken_xmp() -> String {
    xmp_packet(
        "<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType><dc:title><rdf:Alt></dc:title>",
    )
}

/// An XMP packet cut short inside an IPTC AI prompt field.
fn truncated_xmp() -> String {
    let full = xmp_packet(
        "<Iptc4xmpExt:AIPromptInformation>a red fox in the snow, photorealistic</Iptc4xmpExt:AIPromptInformation>",
    );
    let cut = full.find("</Iptc4xmpExt:AIPromptInformation>").unwrap();
    full[..cut].to_string()
}

fn ai(r: &FileReport) -> Vec<&Evidence> {
    r.evidence
        .iter()
        .filter(|e| e.signal > Signal::Context)
        .collect()
}

/// The report's malformed-metadata items as (source, detail).
fn malformed(r: &FileReport) -> Vec<(&str, &str)> {
    r.evidence
        .iter()
        .filter(|e| e.kind == Kind::MetadataMalformed)
        .map(|e| (e.source.as_str(), e.detail.as_str()))
        .collect()
}

/// Asserts that `r` has a malformed item from `source` whose detail starts with `detail`, and
/// that every such item is context only.
#[track_caller]
fn assert_noted(r: &FileReport, source: &str, detail: &str) {
    assert!(
        malformed(r)
            .iter()
            .any(|(s, d)| *s == source && d.starts_with(detail)),
        "{}: no `{detail}…` from `{source}` in {:#?}",
        r.path,
        r.evidence
    );
    for e in &r.evidence {
        if e.kind == Kind::MetadataMalformed {
            assert_eq!(e.signal, Signal::Context, "{e:?}");
        }
    }
}

#[test]
fn jpeg_exif_whose_ifd0_link_points_into_its_own_values_keeps_the_a1111_prompt() {
    let app1 = |block: Vec<u8>| (0xE1, [b"Exif\0\0".to_vec(), block].concat());
    let intact = scan(
        "intact.jpg",
        &jpeg(&[app1(tiff_block(false, Link::Intact))]),
    );
    assert_eq!(intact.verdict, Verdict::AiGenerated, "{intact:?}");
    assert!(
        ai(&intact).iter().any(|e| e
            .detail
            .starts_with("Stable Diffusion web UI (AUTOMATIC1111)")),
        "{:?}",
        intact.evidence
    );
    assert!(malformed(&intact).is_empty(), "{:?}", intact.evidence);
    for link in [Link::IntoValues, Link::IntoEntries, Link::IntoPrompt] {
        let r = scan("broken.jpg", &jpeg(&[app1(tiff_block(false, link))]));
        assert_eq!(r.verdict, intact.verdict, "{link:?}: {r:?}");
        assert_eq!(ai(&r), ai(&intact), "{link:?}");
        assert_noted(
            &r,
            "EXIF (APP1)",
            "EXIF block malformed: IFD0's next-IFD link (offset ",
        );
        assert!(
            malformed(&r)[0]
                .1
                .contains("points into IFD0's own entries or values"),
            "{link:?}: {:?}",
            malformed(&r)
        );
    }
}

#[test]
fn exif_fields_that_parse_are_kept_beside_those_that_do_not() {
    // PNG eXIf: an ImageDescription whose value lies past the end, then Software Midjourney
    let r = scan("e.png", &png(&[(b"eXIf", exif_value_past_the_end())], &[]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert!(ai(&r)[0].detail.contains("Midjourney"), "{:?}", r.evidence);
    assert_noted(
        &r,
        "EXIF (eXIf)",
        "EXIF block malformed: truncated field value",
    );

    // a block that is not TIFF at all: nothing to read, said once
    let r = scan(
        "x.jpg",
        &jpeg(&[(0xE1, b"Exif\0\0not a tiff header".to_vec())]),
    );
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{r:?}");
    assert_noted(
        &r,
        "EXIF (APP1)",
        "EXIF block malformed: invalid TIFF byte order",
    );
    assert_eq!(malformed(&r).len(), 1, "{:?}", r.evidence);
}

#[test]
fn png_eexif_and_webp_exif_with_a_self_linked_ifd0() {
    let r = scan(
        "s.png",
        &png(&[(b"eXIf", tiff_block(false, Link::IntoValues))], &[]),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(
        &r,
        "EXIF (eXIf)",
        "EXIF block malformed: IFD0's next-IFD link",
    );

    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(tiff_block(false, Link::IntoEntries));
    let r = scan(
        "s.webp",
        &riff(b"WEBP", &[(b"VP8 ", vec![0; 10]), (b"EXIF", exif)]),
    );
    assert_eq!(
        (r.format, r.verdict),
        (Some("webp"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert_noted(
        &r,
        "EXIF (RIFF `EXIF`)",
        "EXIF block malformed: IFD0's next-IFD link",
    );
}

#[test]
fn tiff_and_dng_whose_ifd_chain_points_back_into_ifd0_keep_the_exif_ifd() {
    for (dng, format) in [(false, "tiff"), (true, "dng")] {
        let intact = scan("i.tif", &tiff_block(dng, Link::Intact));
        assert_eq!(
            (intact.format, intact.verdict),
            (Some(format), Verdict::AiGenerated),
            "{intact:?}"
        );
        assert!(malformed(&intact).is_empty(), "{:?}", intact.evidence);
        // a link into IFD0's values reads garbage as IFD1: the chain ends there
        let r = scan("v.tif", &tiff_block(dng, Link::IntoValues));
        assert_eq!(
            (r.format, r.verdict),
            (Some(format), Verdict::AiGenerated),
            "{r:?}"
        );
        assert_eq!(ai(&r), ai(&intact));
        assert_noted(&r, "TIFF IFD chain", "TIFF IFD chain malformed: IFD1: ");
        assert!(r.error.is_none(), "{:?}", r.error);
        // a link back into IFD0's own entry table
        let r = scan("e.tif", &tiff_block(dng, Link::IntoEntries));
        assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
        assert_noted(
            &r,
            "TIFF IFD chain",
            "TIFF IFD chain malformed: IFD0's next-IFD link (offset 22) points back into an IFD already read",
        );
    }
}

#[test]
fn tiff_xmp_tag_that_is_not_well_formed() {
    let xmp = broken_xmp().into_bytes();
    let mut t = b"II*\0\x08\0\0\0\x01\0".to_vec();
    t.extend_from_slice(&0x02BCu16.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&(xmp.len() as u32).to_le_bytes());
    t.extend_from_slice(&26u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&xmp);
    let r = scan("x.tif", &t);
    assert_eq!(
        (r.format, r.verdict),
        (Some("tiff"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert_noted(
        &r,
        "XMP (TIFF tag 700)",
        "XMP packet malformed: not well-formed XML",
    );
}

#[test]
fn jpeg_xmp_that_is_not_well_formed_keeps_what_precedes_the_break() {
    let r = scan("x.jpg", &jpeg(&[app1_xmp(&broken_xmp())]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_eq!(ai(&r)[0].kind, Kind::IptcDigitalSourceType);
    assert_noted(
        &r,
        "XMP (APP1)",
        "XMP packet malformed: not well-formed XML at byte ",
    );

    // not UTF-8: read with replacement characters, and said
    let mut bytes = app1_xmp(&dst_xmp("trainedAlgorithmicMedia"));
    bytes.1.extend_from_slice(b"\xff\xfe");
    let r = scan("u.jpg", &jpeg(&[bytes]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(&r, "XMP (APP1)", "XMP packet malformed: not UTF-8 at byte ");
}

/// An APP1 extended-XMP segment: signature, GUID, full length, offset, then the piece.
fn ext_xmp(full: u32, offset: u32, piece: &[u8]) -> (u8, Vec<u8>) {
    let mut b = b"http://ns.adobe.com/xmp/extension/\0".to_vec();
    b.extend_from_slice(b"0123456789ABCDEF0123456789ABCDEF");
    b.extend_from_slice(&full.to_be_bytes());
    b.extend_from_slice(&offset.to_be_bytes());
    b.extend_from_slice(piece);
    (0xE1, b)
}

#[test]
fn jpeg_extended_xmp_pieces_are_joined_by_offset_and_a_missing_one_is_said() {
    let packet = dst_xmp("trainedAlgorithmicMedia").into_bytes();
    let text = String::from_utf8(packet.clone()).unwrap();
    let cut = text.find("</Iptc4xmpExt:DigitalSourceType>").unwrap() + 32;
    let (a, b) = packet.split_at(cut);
    let full = packet.len() as u32;
    // pieces out of order are put back in order: an intact packet
    let r = scan(
        "o.jpg",
        &jpeg(&[ext_xmp(full, a.len() as u32, b), ext_xmp(full, 0, a)]),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert!(malformed(&r).is_empty(), "{:?}", r.evidence);
    // the second piece is missing: the first half still gives the source type
    let r = scan("m.jpg", &jpeg(&[ext_xmp(full, 0, a)]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(
        &r,
        "extended XMP (APP1)",
        &format!(
            "extended XMP malformed: {} bytes of the {full} it announces",
            a.len()
        ),
    );
    assert_noted(
        &r,
        "extended XMP (APP1)",
        "XMP packet malformed: the packet ends inside ",
    );
}

fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

#[test]
fn png_text_chunks_that_fail_to_inflate_or_decode_are_said() {
    // zTXt `parameters` cut short: the text inflated before the cut is read
    let a1111 = format!("{}\nSteps: 20, Sampler: Euler a, CFG scale: 7", prompt());
    let z = zlib(a1111.as_bytes());
    let mut chunk = b"parameters\0\0".to_vec();
    chunk.extend_from_slice(&z[..z.len() - 6]);
    let r = scan("z.png", &png(&[], &[(b"zTXt", chunk)]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(
        &r,
        "PNG zTXt `parameters`",
        "text chunk malformed: cannot inflate: ",
    );

    // zTXt that is not zlib at all
    let mut chunk = b"parameters\0\0".to_vec();
    chunk.extend_from_slice(b"\x12\x34 not deflate");
    let r = scan("g.png", &png(&[], &[(b"zTXt", chunk)]));
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{r:?}");
    assert_noted(
        &r,
        "PNG zTXt `parameters`",
        "text chunk malformed: cannot inflate: ",
    );

    // compressed iTXt XMP that fails to inflate
    let mut chunk = b"XML:com.adobe.xmp\0\x01\0\0\0".to_vec();
    chunk.extend_from_slice(b"\x78\x9c\xff\xff\xff");
    let r = scan("i.png", &png(&[(b"iTXt", chunk)], &[]));
    assert_noted(
        &r,
        "PNG iTXt `XML:com.adobe.xmp`",
        "text chunk malformed: cannot inflate: ",
    );

    // iTXt text that is not UTF-8: read with replacement characters
    let mut chunk = itxt("parameters", &a1111);
    chunk.extend_from_slice(b" \xff\xfe");
    let r = scan("u.png", &png(&[(b"iTXt", chunk)], &[]));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(
        &r,
        "PNG iTXt `parameters`",
        "text chunk malformed: not UTF-8 at byte ",
    );

    // iTXt XMP cut short inside an AI prompt field: the prompt is still read
    let r = scan(
        "x.png",
        &png(
            &[(b"iTXt", itxt("XML:com.adobe.xmp", &truncated_xmp()))],
            &[],
        ),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_eq!(ai(&r)[0].kind, Kind::IptcAiField);
    assert_noted(
        &r,
        "XMP (iTXt)",
        "XMP packet malformed: the packet ends inside 4 open elements",
    );

    // a tEXt chunk is Latin-1 by definition: any bytes are fine
    let r = scan(
        "t.png",
        &png(
            &[(b"tEXt", [text("Comment", "caf"), vec![0xE9]].concat())],
            &[],
        ),
    );
    assert!(malformed(&r).is_empty(), "{:?}", r.evidence);
}

/// A RIFF file of `form` with `chunks`; `claim` (when given) replaces the last chunk's length.
fn riff_claiming(form: &[u8; 4], chunks: &[(&[u8; 4], Vec<u8>)], claim: Option<u32>) -> Vec<u8> {
    let mut body = form.to_vec();
    for (i, (id, d)) in chunks.iter().enumerate() {
        body.extend_from_slice(*id);
        let len = match claim {
            Some(n) if i + 1 == chunks.len() => n,
            _ => d.len() as u32,
        };
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(d);
        if d.len() % 2 == 1 && i + 1 < chunks.len() {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn riff(form: &[u8; 4], chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    riff_claiming(form, chunks, None)
}

#[test]
fn webp_wav_and_avi_xmp_chunks_that_are_broken_or_cut_short() {
    let r = scan(
        "x.webp",
        &riff(
            b"WEBP",
            &[(b"VP8 ", vec![0; 10]), (b"XMP ", broken_xmp().into_bytes())],
        ),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(
        &r,
        "XMP (RIFF `XMP `)",
        "XMP packet malformed: not well-formed XML",
    );

    // the XMP chunk claims more than the file holds
    let xmp = truncated_xmp().into_bytes();
    let claim = xmp.len() as u32 + 1000;
    let r = scan(
        "c.webp",
        &riff_claiming(
            b"WEBP",
            &[(b"VP8 ", vec![0; 10]), (b"XMP ", xmp.clone())],
            Some(claim),
        ),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(
        &r,
        "XMP (RIFF `XMP `)",
        &format!(
            "XMP chunk malformed: it claims {claim} bytes, {} are left in the file",
            xmp.len()
        ),
    );

    for (form, format) in [(b"WAVE", "wav"), (b"AVI ", "avi")] {
        let r = scan(
            "a",
            &riff(
                form,
                &[(b"_PMX", broken_xmp().into_bytes()), (b"data", vec![0; 8])],
            ),
        );
        assert_eq!(
            (r.format, r.verdict),
            (Some(format), Verdict::AiGenerated),
            "{r:?}"
        );
        assert_noted(
            &r,
            "XMP (RIFF `_PMX`)",
            "XMP packet malformed: not well-formed XML",
        );
    }
}

/// A HEIF-family file (`brand`) whose `meta` lists an Exif item and an XMP (`mime`) item,
/// both stored in `mdat`.
fn heif(brand: &[u8; 4], exif_item: &[u8], xmp_item: &[u8]) -> Vec<u8> {
    let ftyp = bmff_box(
        b"ftyp",
        &[&brand[..], &b"\0\0\0\0mif1"[..], &brand[..]].concat(),
    );
    let infe = |id: u8, kind: &[u8; 4], extra: &[u8]| {
        let mut p = vec![2, 0, 0, 0, 0, id, 0, 0];
        p.extend_from_slice(kind);
        p.push(0); // item name
        p.extend_from_slice(extra);
        bmff_box(b"infe", &p)
    };
    let mut iinf = vec![0, 0, 0, 0, 0, 2];
    iinf.extend(infe(1, b"Exif", b""));
    iinf.extend(infe(2, b"mime", b"application/rdf+xml\0"));
    let iinf = bmff_box(b"iinf", &iinf);
    let iloc_len = 8 + 4 + 2 + 2 + 2 * 14;
    let meta_len = 8 + 4 + iinf.len() + iloc_len;
    let data_at = (ftyp.len() + meta_len + 8) as u32;
    let mut iloc = vec![0, 0, 0, 0, 0x44, 0x00, 0, 2];
    for (id, at, len) in [
        (1u16, data_at, exif_item.len() as u32),
        (2, data_at + exif_item.len() as u32, xmp_item.len() as u32),
    ] {
        iloc.extend_from_slice(&id.to_be_bytes());
        iloc.extend_from_slice(&[0, 0, 0, 1]);
        iloc.extend_from_slice(&at.to_be_bytes());
        iloc.extend_from_slice(&len.to_be_bytes());
    }
    let iloc = bmff_box(b"iloc", &iloc);
    assert_eq!(iloc.len(), iloc_len);
    let mut meta = vec![0, 0, 0, 0];
    meta.extend(iinf);
    meta.extend(iloc);
    let mut file = ftyp;
    file.extend(bmff_box(b"meta", &meta));
    file.extend(bmff_box(b"mdat", &[exif_item, xmp_item].concat()));
    file
}

#[test]
fn heif_and_avif_exif_and_xmp_items_that_are_broken() {
    for (brand, format) in [(b"heic", "heic"), (b"avif", "avif")] {
        let exif = [vec![0, 0, 0, 0], tiff_block(false, Link::IntoValues)].concat();
        let r = scan("h", &heif(brand, &exif, broken_xmp().as_bytes()));
        assert_eq!(
            (r.format, r.verdict),
            (Some(format), Verdict::AiGenerated),
            "{r:?}"
        );
        assert!(
            ai(&r).iter().any(|e| e.detail.contains("AUTOMATIC1111")),
            "{:?}",
            r.evidence
        );
        assert!(
            ai(&r).iter().any(|e| e.kind == Kind::IptcDigitalSourceType),
            "{:?}",
            r.evidence
        );
        assert_noted(
            &r,
            "EXIF (HEIF item)",
            "EXIF block malformed: IFD0's next-IFD link",
        );
        assert_noted(
            &r,
            "XMP (HEIF item)",
            "XMP packet malformed: not well-formed XML",
        );

        // an Exif item whose TIFF header offset points past the item
        let r = scan(
            "o",
            &heif(
                brand,
                &[0, 0, 0x10, 0, 1, 2, 3],
                dst_xmp("digitalCapture").as_bytes(),
            ),
        );
        assert_noted(
            &r,
            "EXIF (HEIF item)",
            "EXIF block malformed: its TIFF header offset points past the item's 7 bytes",
        );
    }
}

#[test]
fn jxl_exif_and_xml_boxes_that_are_broken() {
    let exif = [vec![0, 0, 0, 0], tiff_block(false, Link::IntoPrompt)].concat();
    let r = scan(
        "x.jxl",
        &jxl(&[
            bmff_box(b"Exif", &exif),
            bmff_box(b"xml ", broken_xmp().as_bytes()),
        ]),
    );
    assert_eq!(
        (r.format, r.verdict),
        (Some("jxl"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert!(
        ai(&r).iter().any(|e| e.detail.contains("AUTOMATIC1111")),
        "{:?}",
        r.evidence
    );
    assert_noted(
        &r,
        "EXIF (JPEG XL `Exif` box)",
        "EXIF block malformed: IFD0's next-IFD link",
    );
    assert_noted(
        &r,
        "XMP (JPEG XL `xml ` box)",
        "XMP packet malformed: not well-formed XML",
    );

    let r = scan("o.jxl", &jxl(&[bmff_box(b"Exif", b"\0\0\x01\0MM\0*")]));
    assert_noted(
        &r,
        "EXIF (JPEG XL `Exif` box)",
        "EXIF block malformed: its TIFF header offset points past the box's 8 bytes",
    );
}

#[test]
fn gif_xmp_application_extension_that_is_not_well_formed() {
    let mut g = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
    g.extend_from_slice(&[0x21, 0xFF, 0x0B]);
    g.extend_from_slice(b"XMP DataXMP");
    g.extend_from_slice(broken_xmp().as_bytes());
    // the "magic trailer" that makes the raw packet read as sub-blocks
    g.push(0x01);
    g.extend((0..=0xFFu8).rev());
    g.push(0x00);
    g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0, 0x3B]);
    let r = scan("x.gif", &g);
    assert_eq!(
        (r.format, r.verdict),
        (Some("gif"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert_noted(
        &r,
        "XMP (GIF application extension)",
        "XMP packet malformed: not well-formed XML",
    );
}

#[test]
fn mp4_and_mov_xmp_that_is_not_well_formed() {
    let mut uuid = vec![
        0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF,
        0xAC,
    ];
    uuid.extend_from_slice(broken_xmp().as_bytes());
    let mut mp4 = bmff_box(b"ftyp", b"isom\0\0\x02\0isom");
    mp4.extend(bmff_box(b"uuid", &uuid));
    mp4.extend(bmff_box(b"mdat", &[0u8; 64]));
    let r = scan("v.mp4", &mp4);
    assert_eq!(
        (r.format, r.verdict),
        (Some("mp4"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert_noted(
        &r,
        "XMP (`uuid` box)",
        "XMP packet malformed: not well-formed XML",
    );

    let mut mov = bmff_box(b"ftyp", b"qt  \0\0\0\0qt  ");
    mov.extend(bmff_box(
        b"moov",
        &bmff_box(b"udta", &bmff_box(b"XMP_", truncated_xmp().as_bytes())),
    ));
    let r = scan("m.mov", &mov);
    assert_eq!(
        (r.format, r.verdict),
        (Some("mov"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert_noted(
        &r,
        "XMP (`moov/udta/XMP_`)",
        "XMP packet malformed: the packet ends inside ",
    );
}

#[test]
fn mp3_priv_xmp_and_id3_frames_that_are_broken() {
    let priv_xmp = [b"XMP\0".to_vec(), broken_xmp().into_bytes()].concat();
    let r = scan(
        "x.mp3",
        &mp3(&[
            id3_frame(b"PRIV", &priv_xmp, None),
            id3_frame(b"TSSE", b"\x03Stable Diffusion Audio", None),
            id3_frame(b"COMM", b"\x03eng\0hello", Some(5000)),
        ]),
    );
    assert_eq!(
        (r.format, r.verdict),
        (Some("mp3"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert!(
        ai(&r).iter().any(|e| e.kind == Kind::IptcDigitalSourceType),
        "{:?}",
        r.evidence
    );
    assert!(
        ai(&r).iter().any(|e| e.detail.contains("Stable Diffusion")),
        "{:?}",
        r.evidence
    );
    assert_noted(
        &r,
        "XMP (ID3 PRIV)",
        "XMP packet malformed: not well-formed XML",
    );
    assert_noted(
        &r,
        "ID3v2",
        "ID3v2 frame malformed: `COMM` claims 5000 bytes, 10 are left in the tag",
    );

    // a tag that claims more than the file holds: its frames are still read
    let mut file = mp3(&[id3_frame(b"TSSE", b"\x03Stable Diffusion Audio", None)]);
    file[9] = 0x7F;
    let r = scan("t.mp3", &file[..file.len() - 4]);
    assert_eq!(r.verdict, Verdict::AiGenerated, "{r:?}");
    assert_noted(&r, "ID3v2", "ID3v2 tag malformed: it claims ");
}

#[test]
fn pdf_and_svg_xmp_that_is_broken() {
    let mut pdf = b"%PDF-1.7\n1 0 obj\n<</Type/Metadata/Subtype/XML>>stream\n".to_vec();
    pdf.extend_from_slice(broken_xmp().as_bytes());
    pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
    let r = scan("x.pdf", &pdf);
    assert_eq!(
        (r.format, r.verdict),
        (Some("pdf"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert_noted(
        &r,
        "XMP (PDF metadata)",
        "XMP packet malformed: not well-formed XML",
    );

    // a Flate-compressed metadata stream that does not inflate
    let pdf = b"%PDF-1.7\n2 0 obj\n<</Filter/FlateDecode/Length 9/Type/Metadata>>stream\n\x78\x9cxmpmeta\nendstream\nendobj\n%%EOF\n";
    let r = scan("z.pdf", pdf);
    assert_noted(
        &r,
        "PDF metadata stream",
        "metadata stream malformed: cannot inflate: ",
    );

    // SVG whose XMP is never closed
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg"><metadata>{}</metadata><rect/></svg>"#,
        truncated_xmp()
    );
    let r = scan("x.svg", svg.as_bytes());
    assert_eq!(
        (r.format, r.verdict),
        (Some("svg"), Verdict::AiGenerated),
        "{r:?}"
    );
    assert_noted(
        &r,
        "XMP (SVG metadata)",
        "XMP packet malformed: not well-formed XML",
    );
}

#[test]
fn a_c2pa_store_that_cannot_be_parsed_is_said_in_the_evidence_too() {
    let mut app11 = b"JP\0\x01\0\0\0\x01".to_vec();
    app11.extend_from_slice(b"\0\0\0\x1ajumb\0\0\0\x12jumdjunk junk!");
    let r = scan("c.jpg", &jpeg(&[(0xEB, app11)]));
    assert!(r.c2pa.present, "{r:?}");
    assert_eq!(r.c2pa.integrity, Integrity::Unreadable, "{r:?}");
    let error = r.c2pa.error.clone().unwrap();
    assert_noted(&r, "C2PA store", &format!("C2PA store malformed: {error}"));
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{r:?}");
}

#[test]
fn many_broken_blocks_are_listed_up_to_a_limit_then_counted() {
    let chunks: Vec<(&[u8; 4], Vec<u8>)> = (0..40)
        .map(|i| {
            let mut c = format!("key{i}\0\0").into_bytes();
            c.extend_from_slice(b"not zlib");
            (b"zTXt", c)
        })
        .collect();
    let r = scan("many.png", &png(&[], &chunks));
    let m = malformed(&r);
    assert_eq!(m.len(), 33, "{m:?}");
    assert_eq!(
        m[32],
        ("metadata", "8 more malformed metadata problems not listed")
    );
}

/// The whole pipeline (readers, then EXIF and XMP parsing) over mutations of the broken
/// blocks above: no panic, and every malformed item stays context.
#[test]
fn broken_blocks_under_mutation_never_panic() {
    let app1 = [b"Exif\0\0".to_vec(), tiff_block(false, Link::IntoPrompt)].concat();
    let seeds: Vec<Vec<u8>> = vec![
        jpeg(&[(0xE1, app1), app1_xmp(&broken_xmp())]),
        tiff_block(true, Link::IntoValues),
        heif(
            b"avif",
            &[vec![0, 0, 0, 0], tiff_block(false, Link::IntoEntries)].concat(),
            truncated_xmp().as_bytes(),
        ),
        png(
            &[(b"eXIf", exif_value_past_the_end())],
            &[(b"iTXt", itxt("XML:com.adobe.xmp", &truncated_xmp()))],
        ),
    ];
    let scanner = super::fixtures::scanner();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in &seeds {
        for _ in 0..400 {
            let mut m = seed.clone();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % m.len().max(1);
                match next() % 3 {
                    0 if !m.is_empty() => m[at] = next() as u8,
                    1 if at + 4 <= m.len() => {
                        m[at..at + 4].copy_from_slice(&(next() as u32).to_be_bytes())
                    }
                    _ => m.truncate(at),
                }
            }
            let r = scanner.scan_bytes("m", &m);
            for e in &r.evidence {
                if e.kind == Kind::MetadataMalformed {
                    assert_eq!(e.signal, Signal::Context, "{e:?}");
                }
            }
        }
    }
}
