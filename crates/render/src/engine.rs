//! The Typst side: a minimal [`World`] with one main source, one data file and the document's
//! assets (the Sitzungsmappe's files, as `/assets/0`, `/assets/1`, …), fonts embedded from
//! `typst-assets`, a fixed date, and no access to the file system or the network.
//!
//! User text never enters the markup: each document's data is serialised as JSON and handed to
//! the template as the virtual file `/data.json`, which the template reads with `json(…)`. A
//! string from there is a Typst string value, shown as text, never evaluated.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Timelike, Utc};

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::RenderError;

/// The standard library and the fonts, loaded once per process.
struct Engine {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    main: FileId,
    data: FileId,
}

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Engine {
        library: LazyHash::new(<Library as LibraryExt>::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
        main: file_id("/main.typ"),
        data: file_id("/data.json"),
    }
});

#[expect(
    clippy::expect_used,
    reason = "called with constant paths and `/assets/{index}`, all valid"
)]
fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a valid virtual path");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// One document being compiled: the template, its data and its assets.
struct Document {
    engine: &'static Engine,
    source: Source,
    data: Bytes,
    /// The assets by their file id (`/assets/{index}`).
    assets: Vec<(FileId, Bytes)>,
}

/// The virtual path of the asset at `index`, as the template names it.
pub(crate) fn asset_path(index: usize) -> String {
    format!("/assets/{index}")
}

/// The PDF a document is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// PDF/A-2b, the archival PDF (every document but the Sitzungsmappe).
    PdfA2b,
    /// A plain PDF of version 1.7, or 2.0 when an embedded PDF needs it. Typst refuses PDF
    /// pages as images in PDF/A, so documents that embed PDFs are written like this.
    Plain { pdf20: bool },
}

impl World for Document {
    fn library(&self) -> &LazyHash<Library> {
        &self.engine.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.engine.book
    }

    fn main(&self) -> FileId {
        self.engine.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.engine.main {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.engine.data {
            Ok(self.data.clone())
        } else if let Some((_, bytes)) = self.assets.iter().find(|(asset, _)| *asset == id) {
            Ok(bytes.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.engine.fonts.get(index).cloned()
    }

    /// A fixed date: the documents print the dates they are given, never "today", so that the
    /// same input always gives the same bytes.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Datetime::from_ymd(2026, 1, 1)
    }
}

/// The messages, each with the template text it points at.
fn diagnostics(world: &Document, errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| {
            let at = world
                .range(e.span)
                .and_then(|r| world.source.text().get(r))
                .unwrap_or_default();
            format!("{} (at `{at}`)", e.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Typesets `template` (Typst markup that reads `/data.json`) with `data` and writes PDF/A-2b.
///
/// `ident` identifies the document stably across renderings (it becomes the PDF's document id);
/// `date` is the document's date in its metadata. Equal input gives equal bytes.
pub(crate) fn render(
    template: &str,
    data: &serde_json::Value,
    ident: &str,
    date: DateTime<Utc>,
) -> Result<Vec<u8>, RenderError> {
    render_with(template, data, Vec::new(), Output::PdfA2b, ident, date)
}

/// [`render`] with assets the template reads as `/assets/{index}` (see [`asset_path`]) and the
/// PDF to write. Afterwards Typst's memoisation cache is trimmed, so a document's assets (which
/// may be large) do not stay in memory.
pub(crate) fn render_with(
    template: &str,
    data: &serde_json::Value,
    assets: Vec<Bytes>,
    output: Output,
    ident: &str,
    date: DateTime<Utc>,
) -> Result<Vec<u8>, RenderError> {
    let pdf = compile_and_export(template, data, assets, output, ident, date);
    if output != Output::PdfA2b {
        // Entries not used by the last two renderings go (the small documents' caches refill
        // quickly; the Sitzungsmappe's parsed files must not accumulate).
        comemo::evict(2);
    }
    pdf
}

fn compile_and_export(
    template: &str,
    data: &serde_json::Value,
    assets: Vec<Bytes>,
    output: Output,
    ident: &str,
    date: DateTime<Utc>,
) -> Result<Vec<u8>, RenderError> {
    let engine = &*ENGINE;
    let data = serde_json::to_vec(data).map_err(|e| RenderError::Data(e.to_string()))?;
    let assets = assets
        .into_iter()
        .enumerate()
        .map(|(index, bytes)| (file_id(&asset_path(index)), bytes))
        .collect();
    let world = Document {
        engine,
        source: Source::new(engine.main, template.to_owned()),
        data: Bytes::new(data),
        assets,
    };
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| RenderError::Typeset(diagnostics(&world, &errors)))?;
    let standard = match output {
        Output::PdfA2b => PdfStandard::A_2b,
        Output::Plain { pdf20: false } => PdfStandard::V_1_7,
        Output::Plain { pdf20: true } => PdfStandard::V_2_0,
    };
    let standards =
        PdfStandards::new(&[standard]).map_err(|e| RenderError::Pdf(e.message().to_string()))?;
    let options = PdfOptions {
        ident: Smart::Custom(ident.to_owned()),
        creator: Smart::Custom(Some("Plenum".to_owned())),
        timestamp: Datetime::from_ymd_hms(
            date.year(),
            date.month() as u8,
            date.day() as u8,
            date.hour() as u8,
            date.minute() as u8,
            date.second() as u8,
        )
        .map(Timestamp::new_utc),
        standards,
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options)
        .map_err(|errors| RenderError::Pdf(diagnostics(&world, &errors)))
}
