//! The Sitzungsmappe: files bound in with their text, one bookmark per agenda item with its
//! files below, page numbers across the document, the recipient's name on non-public pages only,
//! and files that cannot be bound in listed by name instead of failing the document.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use plenum_render::{
    BundleCover, BundleFile, BundleItem, MeetingBundle, SimpleDocument, meeting_bundle_pdf, sample,
    simple_pdf,
};

/// A PDF/A of `paragraphs` (a few paragraphs make a page; many make several).
fn pdf(title: &str, paragraphs: &[&str]) -> Vec<u8> {
    simple_pdf(&SimpleDocument {
        body_name: "Stadt Musterstadt".into(),
        title: title.into(),
        paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
        footer: "Vorlage".into(),
        date: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
    })
    .unwrap()
}

fn file(name: &str, media_type: &str, content: Vec<u8>) -> BundleFile {
    BundleFile {
        name: name.into(),
        media_type: media_type.into(),
        content,
    }
}

fn bundle(recipient: Option<&str>, with_secret: bool) -> MeetingBundle {
    let long: Vec<String> = (0..60)
        .map(|i| format!("Absatz {i} der Begründung zum Neubau der Feuerwache, mit einigen weiteren Worten, damit die Seite sich füllt."))
        .collect();
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    let mut items = vec![
        BundleItem {
            number: "Ö 1".into(),
            title: "Neubau Feuerwache".into(),
            public: true,
            paper: Some(("V/2026/017".into(), "Neubau der Feuerwache Nord".into())),
            files: vec![
                file(
                    "Vorlage.pdf",
                    "application/pdf",
                    pdf("Beschlussvorlage Feuerwache", &long),
                ),
                file("Lageplan.png", "image/png", sample::PNG.to_vec()),
                file(
                    "Kosten.xlsx",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    b"PK\x03\x04 not really".to_vec(),
                ),
                file(
                    "Kaputt.pdf",
                    "application/pdf",
                    b"%PDF-1.7\n garbage".to_vec(),
                ),
            ],
        },
        BundleItem {
            number: "Ö 2".into(),
            title: "Mitteilungen".into(),
            public: true,
            paper: None,
            files: Vec::new(),
        },
    ];
    if with_secret {
        items.push(BundleItem {
            number: "N 1".into(),
            title: "Grundstücksgeschäft Flur 9".into(),
            public: false,
            paper: Some(("V/2026/018".into(), "Verkauf Flur 9".into())),
            files: vec![file(
                "Kaufvertrag.pdf",
                "application/pdf",
                pdf(
                    "Kaufvertrag Flur 9",
                    &["Kaufpreis vertraulich 123456 Euro."],
                ),
            )],
        });
    }
    MeetingBundle {
        body_name: "Stadt Musterstadt".into(),
        organization: "Rat der Stadt".into(),
        meeting_name: "3. Sitzung des Rates".into(),
        start: Utc.with_ymd_and_hms(2026, 12, 10, 16, 0, 0).unwrap(),
        end: None,
        location: Some("Ratssaal".into()),
        recipient: recipient.map(str::to_owned),
        cover: None,
        meeting_files: Vec::new(),
        items,
    }
}

/// Each page's text, whitespace collapsed, read like Plenum's search reads PDFs (pdf-extract,
/// page by page). pdf-extract gives up on a page that shows a picture (it reads the picture as a
/// content stream): such a page comes back empty.
fn pages(pdf: &[u8]) -> Vec<String> {
    use pdf_extract::{Document, PlainTextOutput, output_doc_page};
    let doc = Document::load_mem(pdf).unwrap();
    let count = doc.get_pages().len() as u32;
    (1..=count)
        .map(|page| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut text = String::new();
                {
                    let mut output = PlainTextOutput::new(&mut text);
                    output_doc_page(&doc, &mut output, page).ok();
                }
                text
            }))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
        })
        .collect()
}

fn text_string(object: &lopdf::Object) -> String {
    let bytes = object.as_str().unwrap();
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
            .collect();
        String::from_utf16(&units).unwrap()
    } else {
        bytes.iter().map(|b| *b as char).collect()
    }
}

/// The bookmarks: (title, children's titles), top level in order.
pub fn outline(pdf: &[u8]) -> Vec<(String, Vec<String>)> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let root = doc.catalog().unwrap();
    let Ok(outlines) = root.get(b"Outlines") else {
        return Vec::new();
    };
    let outlines = doc
        .get_dictionary(outlines.as_reference().unwrap())
        .unwrap();
    let siblings = |first: Option<&lopdf::Object>| {
        let mut out = Vec::new();
        let mut next = first.map(|f| f.as_reference().unwrap());
        while let Some(id) = next {
            let node = doc.get_dictionary(id).unwrap();
            out.push(node.clone());
            next = node.get(b"Next").ok().map(|n| n.as_reference().unwrap());
        }
        out
    };
    siblings(outlines.get(b"First").ok())
        .iter()
        .map(|node| {
            let title = text_string(node.get(b"Title").unwrap());
            let children = siblings(node.get(b"First").ok())
                .iter()
                .map(|child| text_string(child.get(b"Title").unwrap()))
                .collect();
            (title, children)
        })
        .collect()
}

#[test]
fn a_members_bundle_binds_in_every_file_with_bookmarks_and_marks_non_public_pages() {
    let pdf = meeting_bundle_pdf(bundle(Some("Anna Vogel"), true)).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.7"), "a plain PDF 1.7");
    let pages = pages(&pdf);
    // Cover, Ö 1 divider, the Vorlage (2+ pages), the picture, Ö 2 divider, N 1 divider, the
    // Kaufvertrag.
    assert!(pages.len() >= 8, "{} pages", pages.len());
    let n = pages.len();
    let all = pages.join("\n");
    // Every page is numbered (the picture's page may read as empty, see `pages`).
    let blank = pages.iter().filter(|p| p.is_empty()).count();
    assert!(blank <= 1, "{blank} pages without text");
    for (i, page) in pages.iter().enumerate().filter(|(_, p)| !p.is_empty()) {
        assert!(
            page.contains(&format!("Seite {} von {n}", i + 1)),
            "page {}: {page}",
            i + 1
        );
    }
    // The cover: meeting, agenda with the non-public item, and whose copy it is.
    assert!(pages[0].contains("Sitzungsmappe"), "{}", pages[0]);
    assert!(pages[0].contains("Persönliches Exemplar für Anna Vogel"));
    assert!(pages[0].contains("Grundstücksgeschäft Flur 9"));
    assert!(pages[0].contains("Ratssaal"));
    // The bound-in files keep their text.
    assert!(all.contains("Beschlussvorlage Feuerwache"));
    assert!(all.contains("Absatz 59 der Begründung"));
    assert!(all.contains("Kaufpreis vertraulich 123456 Euro"));
    // What cannot be bound in is listed with a note.
    assert!(all.contains("Kosten.xlsx"));
    assert!(all.contains("Kaputt.pdf"));
    assert!(all.contains("beschädigt oder verschlüsselt"));
    // The watermark: on the cover (it lists a non-public item) and on every page of N 1, never
    // on a page of the public items.
    let marked: Vec<usize> = pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.contains("Persönliches Exemplar für Anna Vogel – nichtöffentlich"))
        .map(|(i, _)| i)
        .collect();
    let secret_start = pages
        .iter()
        .position(|p| p.contains("Nichtöffentlicher Teil"))
        .unwrap();
    let expected: Vec<usize> = std::iter::once(0).chain(secret_start..n).collect();
    assert_eq!(marked, expected, "watermarked pages");
    // One bookmark per item (after the agenda's), its files below it.
    let outline = outline(&pdf);
    let titles: Vec<&str> = outline.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Tagesordnung",
            "Ö 1 Neubau Feuerwache",
            "Ö 2 Mitteilungen",
            "N 1 Grundstücksgeschäft Flur 9"
        ]
    );
    assert_eq!(outline[1].1, ["Vorlage.pdf", "Lageplan.png"]);
    assert!(outline[2].1.is_empty());
    assert_eq!(outline[3].1, ["Kaufvertrag.pdf"]);
}

#[test]
fn the_public_bundle_has_no_recipient_and_refuses_non_public_items() {
    let pdf = meeting_bundle_pdf(bundle(None, false)).unwrap();
    let all = pages(&pdf).join("\n");
    assert!(!all.contains("Persönliches Exemplar"));
    assert!(all.contains("Neubau Feuerwache"));
    assert!(meeting_bundle_pdf(bundle(None, true)).is_err());
}

#[test]
fn a_given_cover_replaces_the_generated_one() {
    let mut doc = bundle(Some("Anna Vogel"), false);
    doc.cover = Some(BundleCover {
        title: "Einladung".into(),
        pdf: pdf("Einladung zur 3. Sitzung", &["Hiermit lade ich ein."]),
        non_public: false,
    });
    let pdf = meeting_bundle_pdf(doc).unwrap();
    let pages = pages(&pdf);
    assert!(pages[0].contains("Hiermit lade ich ein"), "{}", pages[0]);
    assert_eq!(outline(&pdf)[0].0, "Einladung");
}

#[test]
fn hostile_names_print_literally() {
    let mut doc = bundle(Some("#panic() ] *x*"), false);
    doc.items[0].title = "#panic(\"boom\") ] *x*".into();
    let pdf = meeting_bundle_pdf(doc).unwrap();
    let all = pages(&pdf).join("\n");
    assert!(all.contains("#panic(\"boom\") ] *x*"), "{all}");
}
