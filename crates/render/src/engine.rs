//! The Typst side: a minimal [`World`] with one main source and one data file, fonts embedded
//! from `typst-assets`, a fixed date, and no access to the file system or the network.
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
    reason = "called with two constant paths that are valid"
)]
fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a valid virtual path");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// One document being compiled: the template and its data.
struct Document {
    engine: &'static Engine,
    source: Source,
    data: Bytes,
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
    let engine = &*ENGINE;
    let data = serde_json::to_vec(data).map_err(|e| RenderError::Data(e.to_string()))?;
    let world = Document {
        engine,
        source: Source::new(engine.main, template.to_owned()),
        data: Bytes::new(data),
    };
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| RenderError::Typeset(diagnostics(&world, &errors)))?;
    let standards = PdfStandards::new(&[PdfStandard::A_2b])
        .map_err(|e| RenderError::Pdf(e.message().to_string()))?;
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
