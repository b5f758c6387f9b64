//! The rendered documents are PDF/A with every font embedded, pass `qpdf --check`, and hold what
//! the reader relies on: item titles, vote results, the named list, the signatures' chain head,
//! the "ENTWURF" marker — and hostile text printed literally.
//!
//! `qpdf` and `pdftotext` (Debian's qpdf and poppler-utils, installed by scripts/test) are
//! needed for two of the checks; where they are missing those checks are skipped with a message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::process::Command;

use plenum_domain::{DecisionKind, ItemDecision, PersonId};
use plenum_render::{
    DecisionExtract, InvitationPdf, InvitationVariant, SimpleDocument, decision_extract_pdf,
    invitation_pdf, minutes_pdf, sample, simple_pdf,
};

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("-v").output().is_ok();
    if !found {
        eprintln!("SKIPPED: `{name}` is not installed (apt-get install qpdf poppler-utils)");
    }
    found
}

fn temp_pdf(pdf: &[u8]) -> tempfile_path::TempPdf {
    tempfile_path::TempPdf::new(pdf)
}

/// A temporary file without a dependency: removed on drop.
mod tempfile_path {
    use super::*;

    pub struct TempPdf(pub std::path::PathBuf);

    impl TempPdf {
        pub fn new(pdf: &[u8]) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("plenum-render-{}-{n}.pdf", std::process::id()));
            let mut file = std::fs::File::create(&path).unwrap();
            file.write_all(pdf).unwrap();
            Self(path)
        }
    }

    impl Drop for TempPdf {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// The document's text as `pdftotext` extracts it (None without pdftotext).
fn text(pdf: &[u8]) -> Option<String> {
    if !tool("pdftotext") {
        return None;
    }
    let file = temp_pdf(pdf);
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file.0)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftotext failed");
    Some(String::from_utf8(out.stdout).unwrap())
}

fn qpdf_check(pdf: &[u8]) {
    if !tool("qpdf") {
        return;
    }
    let file = temp_pdf(pdf);
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(&file.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "qpdf --check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The document's objects as `qpdf --json` shows them (None without qpdf).
fn objects(pdf: &[u8]) -> Option<Vec<serde_json::Value>> {
    if !tool("qpdf") {
        return None;
    }
    let file = temp_pdf(pdf);
    let out = Command::new("qpdf")
        .args(["--json", "--json-stream-data=none"])
        .arg(&file.0)
        .output()
        .unwrap();
    assert!(out.status.success(), "qpdf --json");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let objects = json["qpdf"][1].as_object().unwrap();
    Some(
        objects
            .values()
            .filter_map(|o| {
                o.get("value")
                    .or_else(|| o.get("stream").and_then(|s| s.get("dict")))
                    .cloned()
            })
            .collect(),
    )
}

fn page_count(pdf: &[u8]) -> Option<usize> {
    if !tool("qpdf") {
        return None;
    }
    let file = temp_pdf(pdf);
    let out = Command::new("qpdf")
        .arg("--show-npages")
        .arg(&file.0)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// PDF/A identification in the XMP metadata (written uncompressed), an output intent, and a
/// font file for every font descriptor; `qpdf --check` passes.
fn assert_pdfa(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-"), "starts with %PDF");
    let raw = String::from_utf8_lossy(pdf);
    assert!(
        raw.contains("pdfaid:part>2<") || raw.contains("pdfaid:part=\"2\""),
        "PDF/A-2 part in the XMP metadata"
    );
    assert!(
        raw.contains("pdfaid:conformance>B<") || raw.contains("pdfaid:conformance=\"B\""),
        "PDF/A conformance B in the XMP metadata"
    );
    assert!(
        raw.contains("/OutputIntents"),
        "PDF/A needs an output intent"
    );
    qpdf_check(pdf);
    let Some(objects) = objects(pdf) else { return };
    let mut descriptors = 0;
    for dict in &objects {
        match dict["/Type"].as_str() {
            Some("/FontDescriptor") => {
                descriptors += 1;
                assert!(
                    ["/FontFile", "/FontFile2", "/FontFile3"]
                        .iter()
                        .any(|key| dict.get(*key).is_some()),
                    "font {} is embedded",
                    dict["/FontName"]
                );
            }
            Some("/Font") => {
                assert_ne!(
                    dict["/Subtype"].as_str(),
                    Some("/Type1"),
                    "no unembedded standard font: {dict}"
                );
            }
            _ => {}
        }
    }
    assert!(descriptors > 0, "the document has fonts");
}

#[test]
fn the_minutes_are_pdfa_and_hold_results_named_list_and_chain_head() {
    let doc = sample::minutes(3);
    let pdf = minutes_pdf(&doc).unwrap();
    assert_pdfa(&pdf);
    let Some(text) = text(&pdf) else { return };
    // pdftotext may break lines anywhere; compare with whitespace collapsed.
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Stadt Musterstadt",
        "Niederschrift",
        "über die 5. Sitzung des Rates der Stadt Musterstadt",
        "öffentlicher Teil",
        "Inhalt",
        "Seite 1 von",
        "ENTWURF",
        "Fassung 1",
        "Donnerstag, 3. Dezember 2026",
        "18:02 Uhr",
        "Ö 1",
        "Ö 3",
        "Satzungsbeschluss",
        "Abstimmungsergebnis",
        "einfache Mehrheit",
        "angenommen",
        "Namentliche Abstimmung",
        "Fraktion Bürgerunion",
        "Grüne Zukunft",
        "Adler, Anna",
        "Nicht abgestimmt: Weiß, Clara",
        "Befangenheit",
        "Protokollnotiz",
        "Vorsitz",
        "Anwesenheit",
        "entschuldigt",
    ] {
        assert!(
            flat.contains(expected),
            "{expected:?} in the minutes:\n{text}"
        );
    }
    // The chain head is printed in full (it may wrap).
    let compact: String = text.split_whitespace().collect();
    assert!(
        compact.contains(&"9f2c4e6a".repeat(8)),
        "chain head:\n{text}"
    );
    // Vote totals of the first item: 12 yes, 4 no, 4 abstentions.
    assert!(
        flat.contains("Ja Nein Enthaltung 12 4 4"),
        "totals:\n{text}"
    );
}

#[test]
fn a_signed_final_version_has_no_draft_marker() {
    let mut doc = sample::minutes(1);
    doc.draft = false;
    let pdf = minutes_pdf(&doc).unwrap();
    assert_pdfa(&pdf);
    let Some(text) = text(&pdf) else { return };
    assert!(!text.contains("ENTWURF"), "no draft marker:\n{text}");
    assert!(text.contains("Kettenkopf"));
}

#[test]
fn hostile_text_renders_literally() {
    let mut doc = sample::minutes(1);
    let hostile = "#panic(\"boom\") ] *fett* _x_ $x^2$ @ref <label> \\ // #set page(width: 1pt)";
    doc.minutes.items[0].title = hostile.to_owned();
    doc.minutes.meeting_name = "#include \"/etc/passwd\"".to_owned();
    doc.body_name = "Stadt ]}) #{".to_owned();
    if let Some(note) = doc.minutes.items[0].note.as_mut() {
        note.text = "#read(\"/etc/passwd\") und `#panic()`".to_owned();
    }
    doc.minutes.attendance[0].name = "= Überschrift? ]".to_owned();
    let pdf = minutes_pdf(&doc).unwrap();
    assert_pdfa(&pdf);
    let Some(text) = text(&pdf) else { return };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "#panic(\"boom\") ] *fett* _x_ $x^2$ @ref <label> \\ // #set page(width: 1pt)",
        "#include \"/etc/passwd\"",
        "Stadt ]}) #{",
        "#read(\"/etc/passwd\") und #panic()",
        "= Überschrift? ]",
    ] {
        assert!(
            flat.contains(expected),
            "{expected:?} printed literally:\n{text}"
        );
    }
}

#[test]
fn the_decision_extract_holds_decision_vote_and_named_list() {
    let doc = sample::minutes(1);
    let item = &doc.minutes.items[0];
    let fractions: HashMap<PersonId, String> = doc
        .minutes
        .attendance
        .iter()
        .filter_map(|a| a.fraction.clone().map(|f| (a.person, f)))
        .collect();
    let extract = DecisionExtract {
        body_name: "Stadt Musterstadt".into(),
        organization: "Rat der Stadt Musterstadt".into(),
        meeting_name: doc.minutes.meeting_name.clone(),
        meeting_date: doc.minutes.scheduled_start,
        location: Some("Rathaus, Ratssaal".into()),
        public: false,
        item_number: item.number.clone(),
        item_title: item.title.clone(),
        paper_reference: Some("VO/2026/0815".into()),
        decision_text: item.decision_text.clone(),
        decision: item.decision.clone(),
        fractions,
        draft: false,
        announced: None,
    };
    let pdf = decision_extract_pdf(&extract).unwrap();
    assert_pdfa(&pdf);
    let Some(text) = text(&pdf) else { return };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Beschlussauszug",
        "nichtöffentlich",
        "5. Sitzung des Rates der Stadt Musterstadt",
        "Donnerstag, 3. Dezember 2026",
        "Ö 1",
        "Satzungsbeschluss",
        "VO/2026/0815",
        "Beschluss angenommen",
        "einfache Mehrheit",
        "Ja Nein Enthaltung 12 4 4",
        "Sozialdemokratische Fraktion",
        "Becker, Bernd",
        "bekannt zu machen",
    ] {
        assert!(
            flat.contains(expected),
            "{expected:?} in the extract:\n{text}"
        );
    }
    assert!(!text.contains("ENTWURF"));

    // Referred, without a vote.
    let referred = DecisionExtract {
        decision: Some(ItemDecision {
            kind: DecisionKind::Referred,
            referred_to: Some("Ausschuss für Bau und Umwelt".into()),
            vote: None,
        }),
        draft: true,
        ..extract
    };
    let pdf = decision_extract_pdf(&referred).unwrap();
    let Some(text) = self::text(&pdf) else { return };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("verwiesen an Ausschuss für Bau und Umwelt"),
        "{text}"
    );
    assert!(!flat.contains("Abstimmungsergebnis"), "{text}");
    assert!(flat.contains("ENTWURF"), "{text}");
}

#[test]
fn a_simple_document_is_pdfa_and_deterministic() {
    let doc = SimpleDocument {
        body_name: "Stadt Musterstadt".into(),
        title: "Haushaltsplan 2027 – Entwurf (Auszug)".into(),
        paragraphs: vec![
            "Allgemeine Verwaltung: 31,4 Mio. € Aufwendungen".into(),
            "Straßenunterhaltung und Grünflächenpflege".into(),
        ],
        footer: "Musterstadt – Demo-Daten / demo data".into(),
        date: sample::meeting_start(),
    };
    let pdf = simple_pdf(&doc).unwrap();
    assert_pdfa(&pdf);
    assert_eq!(pdf, simple_pdf(&doc).unwrap(), "equal input, equal bytes");
    let Some(text) = text(&pdf) else { return };
    for expected in [
        "Haushaltsplan 2027 – Entwurf (Auszug)",
        "31,4 Mio. € Aufwendungen",
        "Straßenunterhaltung",
        "Demo-Daten",
        "Seite 1 von 1",
    ] {
        assert!(text.contains(expected), "{expected:?}:\n{text}");
    }
}

#[test]
fn forty_items_make_a_long_document_with_page_numbers() {
    let doc = sample::minutes(40);
    let pdf = minutes_pdf(&doc).unwrap();
    let Some(pages) = page_count(&pdf) else {
        return;
    };
    assert!(pages > 10, "{pages} pages");
    let Some(text) = text(&pdf) else { return };
    assert!(
        text.contains(&format!("Seite {pages} von {pages}")),
        "last page number"
    );
    assert!(text.contains("Ö 40"));
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

const NON_PUBLIC: [&str; 3] = [
    "Verkauf des Grundstücks",
    "VO/2026/0817",
    "Reinigungsleistungen",
];

#[test]
fn an_invitation_is_pdfa_with_both_parts_and_the_notice_period() {
    let (invitation, _) = sample::invitations();
    let input = InvitationPdf {
        document: invitation,
        body_name: "Stadt Musterstadt".into(),
        variant: InvitationVariant::Full,
    };
    let started = std::time::Instant::now();
    let pdf = invitation_pdf(&input).unwrap();
    eprintln!("invitation rendered in {:?}", started.elapsed());
    assert_pdfa(&pdf);
    assert_eq!(
        pdf,
        invitation_pdf(&input).unwrap(),
        "equal input, equal bytes"
    );
    let Some(text) = text(&pdf) else { return };
    let flat = flat(&text);
    for expected in [
        "Stadt Musterstadt",
        "Einladung",
        "5. Sitzung des Rates der Stadt Musterstadt",
        "Rat der Stadt Musterstadt",
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr bis voraussichtlich 22:00 Uhr",
        "Rathaus, Ratssaal",
        "Die Ladungsfrist von 7 Tagen (bis Donnerstag, 26. November 2026, 18:00 Uhr) ist gewahrt.",
        "Tagesordnung",
        "Öffentlicher Teil",
        "Satzung über die Erhebung von Gebühren",
        "VO/2026/0815",
        "Nichtöffentlicher Teil",
        "N 1",
        "Verkauf des Grundstücks",
        "VO/2026/0817",
        "vertraulich zu behandeln",
        "Seite 1 von 1",
    ] {
        assert!(
            flat.contains(expected),
            "{expected:?} in the invitation:\n{text}"
        );
    }
    // pdftotext may drop the space inside a table cell ("Ö2").
    let compact: String = text.split_whitespace().collect();
    for number in ["Ö1", "Ö2", "Ö3", "N1"] {
        assert!(
            compact.contains(number),
            "{number} in the invitation:\n{text}"
        );
    }
    assert!(!flat.contains("Nachtrag"), "{text}");
    assert!(!flat.contains("Begründung"), "{text}");
}

#[test]
fn a_supplement_lists_its_changes_and_the_late_reason() {
    let (_, supplement) = sample::invitations();
    let pdf = invitation_pdf(&InvitationPdf {
        document: supplement,
        body_name: "Stadt Musterstadt".into(),
        variant: InvitationVariant::Full,
    })
    .unwrap();
    assert_pdfa(&pdf);
    let Some(text) = text(&pdf) else { return };
    let flat = flat(&text);
    for expected in [
        "Nachtrag Nr. 1 zur Einladung",
        "Änderungen gegenüber der bisherigen Einladung",
        "Neuer Ort: Bürgerhaus Nord, Großer Saal",
        "Neu aufgenommen",
        "Eilantrag: Winterdienst auf Radwegen",
        "VO/2026/0830",
        "Vergabe der Reinigungsleistungen Rathaus (Los 3)",
        "Verschoben",
        "bisher",
        "Abgesetzt",
        "Radwegekonzept Innenstadt",
        "ist verkürzt",
        "Begründung der verkürzten Ladungsfrist:",
        "vor dem Wintereinbruch",
    ] {
        assert!(
            flat.contains(expected),
            "{expected:?} in the supplement:\n{text}"
        );
    }
}

#[test]
fn the_public_notice_and_the_public_part_hold_nothing_non_public() {
    let (invitation, supplement) = sample::invitations();
    for (document, title) in [
        (invitation, "Öffentliche Bekanntmachung"),
        (supplement, "Öffentliche Bekanntmachung Nachtrag Nr. 1"),
    ] {
        let notice = invitation_pdf(&InvitationPdf {
            document: document.clone(),
            body_name: "Stadt Musterstadt".into(),
            variant: InvitationVariant::PublicNotice,
        })
        .unwrap();
        assert_pdfa(&notice);
        let part = invitation_pdf(&InvitationPdf {
            document,
            body_name: "Stadt Musterstadt".into(),
            variant: InvitationVariant::PublicPart,
        })
        .unwrap();
        let (Some(notice), Some(part)) = (text(&notice), text(&part)) else {
            return;
        };
        let (notice, part) = (flat(&notice), flat(&part));
        assert!(notice.contains(title), "{notice}");
        assert!(notice.contains("Einwohnerfragestunde"), "{notice}");
        assert!(!notice.contains("Nichtöffentlicher Teil"), "{notice}");
        assert!(part.contains("Ohne den nichtöffentlichen Teil"), "{part}");
        assert!(!part.contains("Bekanntmachung"), "{part}");
        for secret in NON_PUBLIC {
            assert!(!notice.contains(secret), "{secret} in the notice: {notice}");
            assert!(
                !part.contains(secret),
                "{secret} in the public part: {part}"
            );
        }
    }
}

#[test]
fn hostile_invitation_text_renders_literally() {
    let (mut invitation, _) = sample::invitations();
    let hostile = "#panic(\"boom\") ] *fett* $x$ #set page(width: 1pt)";
    invitation.announced.items[0].title = hostile.to_owned();
    invitation.announced.meeting = "#include \"/etc/passwd\"".to_owned();
    invitation.announced.location = Some("] #{".to_owned());
    let pdf = invitation_pdf(&InvitationPdf {
        document: invitation,
        body_name: "Stadt Musterstadt".into(),
        variant: InvitationVariant::Full,
    })
    .unwrap();
    let Some(text) = text(&pdf) else { return };
    let flat = flat(&text);
    for expected in [hostile, "#include \"/etc/passwd\"", "] #{"] {
        assert!(
            flat.contains(expected),
            "{expected:?} printed literally:\n{text}"
        );
    }
}
