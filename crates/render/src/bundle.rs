//! The Sitzungsmappe: one member's PDF of a meeting — a cover with the agenda as the member may
//! see it, then per agenda item a divider page and its paper's files (main file first) and the
//! item's own files, in agenda order. PDF pages are placed as they are (Typst embeds them as
//! vector images, so their text stays text), pictures are shown on a page of their own, other
//! files are listed by name. One bookmark per agenda item (its files below it), page numbers
//! across the whole document, and on every non-public page the recipient's name, across the page
//! and in the footer.
//!
//! Typst refuses PDF pages as images in PDF/A, so this document is a plain PDF (1.7, or 2.0 when
//! an embedded file is PDF 2.0).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use typst::foundations::Bytes;
use typst::visualize::{ExchangeFormat, RasterImage};

use crate::engine::{self, Output};
use crate::{COMMON, RenderError, format, template};

const BUNDLE: &str = include_str!("../templates/bundle.typ");

/// One member's Sitzungsmappe of a meeting (or the public one, without a recipient).
#[derive(Debug, Clone)]
pub struct MeetingBundle {
    /// The body's name for the letterhead (e.g. "Stadt Musterstadt").
    pub body_name: String,
    /// The organization that meets (Gremium).
    pub organization: String,
    pub meeting_name: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub location: Option<String>,
    /// Whose copy this is ("Anna Vogel"): named on every non-public page. `None` for the public
    /// bundle, which must hold no non-public item.
    pub recipient: Option<String>,
    /// A PDF that replaces the generated cover and agenda (e.g. the invitation), with the title
    /// of its bookmark and whether it holds non-public text. `None`: Plenum's own cover.
    pub cover: Option<BundleCover>,
    /// Files attached to the meeting itself (after the cover, under "Unterlagen zur Sitzung").
    pub meeting_files: Vec<BundleFile>,
    /// The agenda items the recipient may see, in agenda order.
    pub items: Vec<BundleItem>,
}

/// A PDF shown instead of the generated cover.
#[derive(Debug, Clone)]
pub struct BundleCover {
    /// The bookmark's title ("Einladung").
    pub title: String,
    pub pdf: Vec<u8>,
    /// Whether it holds non-public text (then its pages carry the watermark).
    pub non_public: bool,
}

/// One agenda item with its documents.
#[derive(Debug, Clone)]
pub struct BundleItem {
    /// `Ö 1`, `N 2`, …
    pub number: String,
    pub title: String,
    pub public: bool,
    /// The paper (Drucksache) dealt with under the item: reference and title.
    pub paper: Option<(String, String)>,
    /// The paper's files (its main file first) and then the item's own files.
    pub files: Vec<BundleFile>,
}

/// A file to bind in.
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub name: String,
    /// The media type as stored (taken from the content at upload).
    pub media_type: String,
    pub content: Vec<u8>,
}

/// How a file is bound in.
enum Binding {
    /// A PDF: each page's orientation (`true`: landscape).
    Pdf { landscape: Vec<bool>, pdf20: bool },
    /// A picture Typst can show, with its format's name for `image(format: …)`.
    Picture(&'static str),
    /// Not bound in; the reason printed next to its name.
    Listed(&'static str),
}

fn binding(media_type: &str, bytes: &Bytes) -> Binding {
    match media_type {
        "application/pdf" => {
            let Ok(pdf) = hayro_syntax::Pdf::new(Arc::new(bytes.clone())) else {
                return Binding::Listed(
                    "nicht eingebunden: die PDF-Datei ist beschädigt oder verschlüsselt",
                );
            };
            let landscape: Vec<bool> = pdf
                .pages()
                .iter()
                .map(|page| {
                    let (width, height) = page.render_dimensions();
                    width > height
                })
                .collect();
            if landscape.is_empty() {
                return Binding::Listed("nicht eingebunden: die PDF-Datei hat keine Seiten");
            }
            let pdf20 = pdf.version() == hayro_syntax::PdfVersion::Pdf20;
            Binding::Pdf { landscape, pdf20 }
        }
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => {
            let (format, name) = match media_type {
                "image/png" => (ExchangeFormat::Png, "png"),
                "image/jpeg" => (ExchangeFormat::Jpg, "jpg"),
                "image/gif" => (ExchangeFormat::Gif, "gif"),
                _ => (ExchangeFormat::Webp, "webp"),
            };
            // Decoded once here (Typst memoises it for the document): a damaged picture is
            // listed instead of failing the whole document.
            match RasterImage::plain(bytes.clone(), format) {
                Ok(_) => Binding::Picture(name),
                Err(_) => Binding::Listed("nicht eingebunden: das Bild ist beschädigt"),
            }
        }
        _ => Binding::Listed("nicht eingebunden (Dateityp): bitte in Plenum öffnen"),
    }
}

/// The files' data for the template, their contents appended to `assets`; whether any needs
/// PDF 2.0.
fn files_data(
    files: Vec<BundleFile>,
    assets: &mut Vec<Bytes>,
    next_file: &mut usize,
) -> (Value, bool) {
    let mut pdf20 = false;
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let bytes = Bytes::new(file.content);
        let index = *next_file;
        *next_file += 1;
        let entry = match binding(&file.media_type, &bytes) {
            Binding::Pdf {
                landscape,
                pdf20: needs,
            } => {
                pdf20 |= needs;
                let path = engine::asset_path(assets.len());
                assets.push(bytes);
                json!({"index": index, "name": file.name, "kind": "pdf", "path": path,
                       "pages": landscape, "note": ""})
            }
            Binding::Picture(format) => {
                let path = engine::asset_path(assets.len());
                assets.push(bytes);
                json!({"index": index, "name": file.name, "kind": "picture", "path": path,
                       "format": format, "note": ""})
            }
            Binding::Listed(note) => {
                json!({"index": index, "name": file.name, "kind": "listed", "note": note})
            }
        };
        out.push(entry);
    }
    (Value::Array(out), pdf20)
}

/// The generated cover's facts: organization, date, time, place.
fn cover_facts(doc: &MeetingBundle) -> Vec<Value> {
    let mut facts = vec![
        json!(["Gremium", doc.organization]),
        json!(["Datum", format::long_date(doc.start)]),
    ];
    let time = match doc.end {
        Some(end) => format!(
            "{} bis {}",
            format::time(doc.start).trim_end_matches(" Uhr"),
            format::time(end)
        ),
        None => format::time(doc.start),
    };
    facts.push(json!(["Beginn", time]));
    if let Some(location) = &doc.location {
        facts.push(json!(["Ort", location]));
    }
    facts
}

/// Renders the Sitzungsmappe as a plain PDF (see the module's documentation).
pub fn meeting_bundle_pdf(doc: MeetingBundle) -> Result<Vec<u8>, RenderError> {
    let ident = format!(
        "plenum:bundle:{}:{}:{}",
        doc.meeting_name,
        doc.start.timestamp(),
        doc.recipient.as_deref().unwrap_or("public")
    );
    let watermark = doc
        .recipient
        .as_ref()
        .map(|name| format!("Persönliches Exemplar für {name} – nichtöffentlich"));
    let any_non_public = doc.items.iter().any(|item| !item.public);
    if doc.recipient.is_none() && any_non_public {
        return Err(RenderError::Data(
            "a bundle without a recipient must not hold non-public items".to_owned(),
        ));
    }
    let facts = cover_facts(&doc);
    let MeetingBundle {
        body_name,
        organization,
        meeting_name,
        start,
        recipient,
        cover,
        meeting_files,
        items,
        ..
    } = doc;

    let mut assets: Vec<Bytes> = Vec::new();
    let mut next_file = 0;
    let mut pdf20 = false;
    let cover = match cover {
        Some(cover) => {
            let bytes = Bytes::new(cover.pdf);
            match binding("application/pdf", &bytes) {
                Binding::Pdf {
                    landscape,
                    pdf20: needs,
                } => {
                    pdf20 |= needs;
                    let path = engine::asset_path(assets.len());
                    assets.push(bytes);
                    json!({"title": cover.title, "path": path, "pages": landscape,
                           "non_public": cover.non_public})
                }
                _ => {
                    return Err(RenderError::Data(
                        "the cover is not a readable PDF".to_owned(),
                    ));
                }
            }
        }
        None => Value::Null,
    };
    let (meeting_files, needs) = files_data(meeting_files, &mut assets, &mut next_file);
    pdf20 |= needs;
    let mut items_data = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let (files, needs) = files_data(item.files, &mut assets, &mut next_file);
        pdf20 |= needs;
        items_data.push(json!({
            "index": index,
            "number": item.number,
            "title": item.title,
            "public": item.public,
            "paper": item.paper.map(|(reference, title)| json!({"reference": reference, "title": title})),
            "files": files,
        }));
    }

    let data = json!({
        "title": format!("Sitzungsmappe {meeting_name}"),
        "body": body_name,
        "draft": false,
        "running_head": format!("Sitzungsmappe · {meeting_name}"),
        "letterhead_right": organization,
        "footer": format!("Sitzungsmappe · {meeting_name} · {}", format::short_date(start)),
        "meeting_name": meeting_name,
        "recipient": recipient,
        "watermark": watermark,
        "cover_non_public": any_non_public,
        "facts": facts,
        "cover": cover,
        "meeting_files": meeting_files,
        "items": items_data,
    });
    engine::render_with(
        &template(&[COMMON, BUNDLE]),
        &data,
        assets,
        Output::Plain { pdf20 },
        &ident,
        start,
    )
}
