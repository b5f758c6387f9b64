//! Text inside files: extraction of a PDF's text page by page, and its storage in `file_page`
//! (searchable through the full-text index under the kind `file_page`, see migration
//! `m20261205_000250`) and `file_text` (the outcome: pages with and without text).
//!
//! Extraction is pure ([`extract_pdf`], CPU-bound: [`read_and_extract`] runs it on a blocking
//! thread); recording it ([`record`]) replaces whatever was stored for the file before. Pages without text (scanned
//! pages without a text layer, or pages whose text could not be read) are listed, never skipped
//! silently.

use chrono::{DateTime, Utc};
use plenum_domain::{File, FileId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::entity::{file, file_page, file_text};
use crate::{Result, record};

/// The media type whose text is extracted.
pub const PDF: &str = "application/pdf";

/// Most characters kept of one page's text (a page of dense text has some 5,000).
const MAX_PAGE_CHARS: usize = 100_000;

/// What extraction found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    /// Pages in the document (0 when it could not be read at all).
    pub page_count: u32,
    /// `(page number from 1, text)` of every page with text, whitespace collapsed.
    pub pages: Vec<(u32, String)>,
    /// Page numbers (from 1) of the pages without text.
    pub pages_without_text: Vec<u32>,
    /// Why the document could not be read (encrypted, damaged); `None` when it could.
    pub error: Option<String>,
}

/// Whether extraction read the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStatus {
    /// Read: every page is either in `pages` or in `pages_without_text`.
    Done,
    /// The document could not be read (see `error`).
    Failed,
}

impl TextStatus {
    pub const fn as_str(&self) -> &'static str {
        match self {
            TextStatus::Done => "done",
            TextStatus::Failed => "failed",
        }
    }
}

/// The stored outcome of a file's extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileText {
    pub status: TextStatus,
    pub page_count: u32,
    /// How many pages had text.
    pub text_pages: u32,
    pub pages_without_text: Vec<u32>,
    pub error: Option<String>,
    pub extracted_at: DateTime<Utc>,
}

/// Whitespace runs collapsed to one space, trimmed, cut at [`MAX_PAGE_CHARS`].
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_PAGE_CHARS));
    for (count, word) in text.split_whitespace().enumerate() {
        if out.len() + word.len() + 1 > MAX_PAGE_CHARS {
            break;
        }
        if count > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The text of every page of the PDF `bytes`. A page whose text cannot be read (or whose reading
/// panics inside the parser) counts as a page without text; a document that cannot be opened
/// yields `error`.
pub fn extract_pdf(bytes: &[u8]) -> Extraction {
    use pdf_extract::{Document, PlainTextOutput, output_doc_page};
    let failed = |error: String| Extraction {
        page_count: 0,
        pages: Vec::new(),
        pages_without_text: Vec::new(),
        error: Some(error),
    };
    let opened = std::panic::catch_unwind(|| {
        let mut doc = Document::load_mem(bytes)?;
        if doc.is_encrypted() {
            // Encrypted with an empty user password (permissions only) opens; anything else not.
            doc.decrypt("")?;
        }
        Ok::<_, pdf_extract::Error>(doc)
    });
    let doc = match opened {
        Ok(Ok(doc)) => doc,
        Ok(Err(err)) => return failed(format!("The PDF cannot be read: {err}")),
        Err(_) => return failed("The PDF cannot be read (the parser gave up).".to_owned()),
    };
    let page_count = doc.get_pages().len() as u32;
    let mut extraction = Extraction {
        page_count,
        pages: Vec::new(),
        pages_without_text: Vec::new(),
        error: None,
    };
    for page in 1..=page_count {
        let text = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut text = String::new();
            let done = {
                let mut output = PlainTextOutput::new(&mut text);
                output_doc_page(&doc, &mut output, page)
            };
            done.map(|()| text)
        }));
        match text {
            Ok(Ok(text)) => {
                let text = tidy(&text);
                if text.chars().any(char::is_alphanumeric) {
                    extraction.pages.push((page, text));
                } else {
                    extraction.pages_without_text.push(page);
                }
            }
            Ok(Err(err)) => {
                tracing::debug!(page, error = %err, "cannot read the text of a PDF page");
                extraction.pages_without_text.push(page);
            }
            Err(_) => extraction.pages_without_text.push(page),
        }
    }
    extraction
}

/// Stores `extraction` as the text of `file`, replacing what was stored before. Call it in a
/// write transaction (with the audit entry that records it).
pub async fn record(
    db: &impl ConnectionTrait,
    file: FileId,
    extraction: &Extraction,
) -> Result<()> {
    let id = file.as_uuid();
    forget(db, file).await?;
    for chunk in extraction.pages.chunks(50) {
        let rows = chunk.iter().map(|(page, text)| file_page::ActiveModel {
            id: Set(Uuid::new_v4()),
            file_id: Set(id),
            page: Set(*page as i32),
            text: Set(text.clone()),
        });
        file_page::Entity::insert_many(rows).exec(db).await?;
    }
    let status = if extraction.error.is_some() {
        TextStatus::Failed
    } else {
        TextStatus::Done
    };
    file_text::Entity::insert(file_text::ActiveModel {
        file_id: Set(id),
        status: Set(status.as_str().to_owned()),
        page_count: Set(extraction.page_count as i32),
        text_pages: Set(extraction.pages.len() as i32),
        pages_without_text: Set(serde_json::to_string(&extraction.pages_without_text)
            .unwrap_or_else(|_| "[]".to_owned())),
        error: Set(extraction.error.clone()),
        extracted_at: Set(record::now()),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The stored outcome of the file's extraction; `None` when it has not been extracted (yet).
pub async fn get(db: &impl ConnectionTrait, file: FileId) -> Result<Option<FileText>> {
    let Some(row) = file_text::Entity::find_by_id(file.as_uuid())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(FileText {
        status: if row.status == TextStatus::Failed.as_str() {
            TextStatus::Failed
        } else {
            TextStatus::Done
        },
        page_count: row.page_count.max(0) as u32,
        text_pages: row.text_pages.max(0) as u32,
        pages_without_text: serde_json::from_str(&row.pages_without_text).unwrap_or_default(),
        error: row.error,
        extracted_at: row.extracted_at,
    }))
}

/// The file and page number of an indexed page (a search hit of the kind `file_page`).
pub async fn page(db: &impl ConnectionTrait, page_id: Uuid) -> Result<Option<(FileId, u32)>> {
    Ok(file_page::Entity::find_by_id(page_id)
        .one(db)
        .await?
        .map(|row| (FileId::from_uuid(row.file_id), row.page.max(0) as u32)))
}

/// Removes a file's text (when the file is deleted): it leaves the search index.
pub async fn forget(db: &impl ConnectionTrait, file: FileId) -> Result<()> {
    file_page::Entity::delete_many()
        .filter(file_page::Column::FileId.eq(file.as_uuid()))
        .exec(db)
        .await?;
    file_text::Entity::delete_by_id(file.as_uuid())
        .exec(db)
        .await?;
    Ok(())
}

/// Live PDFs whose text has not been extracted yet (uploaded before Plenum extracted text, or
/// while the server stopped mid-extraction), oldest first.
pub async fn pending(db: &impl ConnectionTrait) -> Result<Vec<File>> {
    let done: Vec<Uuid> = file_text::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.file_id)
        .collect();
    let ids: Vec<Uuid> = file::Entity::find()
        .filter(file::Column::MediaType.eq(PDF))
        .filter(file::Column::Deleted.is_null())
        .order_by_asc(file::Column::Created)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.id)
        .filter(|id| !done.contains(id))
        .collect();
    let mut files = Vec::with_capacity(ids.len());
    for id in ids {
        files.push(crate::repo::files::get_live(db, FileId::from_uuid(id)).await?);
    }
    Ok(files)
}

/// Why a file's text could not be extracted and recorded.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot read the file's content: {0}")]
    Read(#[from] std::io::Error),
    #[error("text extraction stopped: {0}")]
    Stopped(String),
}

/// Reads the file's content from `blobs` and extracts its text on a blocking thread (the
/// caller records it). `None` for a file that is not a PDF.
pub async fn read_and_extract(
    blobs: &dyn crate::blob::BlobStore,
    file: &File,
) -> std::result::Result<Option<Extraction>, ExtractError> {
    use futures_util::TryStreamExt;
    if file.media_type.as_str() != PDF {
        return Ok(None);
    }
    let chunks: Vec<bytes::Bytes> = blobs
        .get(&file.storage_key, None)
        .await?
        .try_collect()
        .await?;
    let content = chunks.concat();
    let extraction = tokio::task::spawn_blocking(move || extract_pdf(&content))
        .await
        .map_err(|err| ExtractError::Stopped(err.to_string()))?;
    Ok(Some(extraction))
}

/// A PDF whose pages show `pages` (one string per page, Helvetica 11 pt, wrapped at 90
/// characters; an empty string makes a page without text, like a scan). `padding` bytes of image
/// data per page (a grey picture drawn behind the text) make the file as large as a real paper
/// with pictures. For tests and benchmarks: Latin-1 text only (umlauts are fine).
pub fn sample_pdf(pages: &[String], padding: usize) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    // 1 catalog, 2 pages, 3 font; then per page: page, content, image (if padded).
    let per_page = if padding > 0 { 3 } else { 2 };
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 4 + i * per_page))
        .collect();
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(
        &mut out,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .as_bytes(),
    );
    object(
        &mut out,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    for (i, text) in pages.iter().enumerate() {
        let number = 4 + i * per_page;
        let xobject = if padding > 0 {
            format!(" /XObject << /Im1 {} 0 R >>", number + 2)
        } else {
            String::new()
        };
        object(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
                 /Resources << /Font << /F1 3 0 R >>{xobject} >> /Contents {} 0 R >>",
                number + 1
            )
            .as_bytes(),
        );
        let mut content = Vec::new();
        if padding > 0 {
            content.extend_from_slice(b"q 495 0 0 300 50 60 cm /Im1 Do Q\n");
        }
        if !text.is_empty() {
            content.extend_from_slice(b"BT /F1 11 Tf 14 TL 56 780 Td\n");
            let mut line = String::new();
            let mut lines = Vec::new();
            for word in text.split_whitespace() {
                if !line.is_empty() && line.chars().count() + word.chars().count() > 90 {
                    lines.push(std::mem::take(&mut line));
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
            lines.push(line);
            for line in lines {
                content.push(b'(');
                for c in line.chars() {
                    match c {
                        '(' | ')' | '\\' => {
                            content.push(b'\\');
                            content.push(c as u8);
                        }
                        ' '..='~' => content.push(c as u8),
                        c if (c as u32) < 256 => {
                            content.extend_from_slice(format!("\\{:03o}", c as u32).as_bytes())
                        }
                        _ => content.push(b'?'),
                    }
                }
                content.extend_from_slice(b") Tj T*\n");
            }
            content.extend_from_slice(b"ET\n");
        }
        let mut body = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\nendstream");
        object(&mut out, &body);
        if padding > 0 {
            // A grey gradient, different on every page (so nothing is shared between pages).
            let side = (padding as f64).sqrt().ceil() as usize;
            let pixels: Vec<u8> = (0..side * side)
                .map(|p| (((p % side) + (p / side) + i * 7) % 64) as u8 + 160)
                .collect();
            let mut image = format!(
                "<< /Type /XObject /Subtype /Image /Width {side} /Height {side} \
                 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
                pixels.len()
            )
            .into_bytes();
            image.extend_from_slice(&pixels);
            image.extend_from_slice(b"\nendstream");
            object(&mut out, &image);
        }
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for offset in &offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_collapsed_and_long_pages_are_cut() {
        assert_eq!(
            tidy("  Haushalt\n\n 2027\t Satzung "),
            "Haushalt 2027 Satzung"
        );
        let long = "Wort ".repeat(MAX_PAGE_CHARS);
        let cut = tidy(&long);
        assert!(cut.len() <= MAX_PAGE_CHARS);
        assert!(cut.ends_with("Wort"));
    }

    #[test]
    fn pages_are_extracted_one_by_one_and_pages_without_text_are_listed() {
        let pdf = sample_pdf(
            &[
                "Haushaltssatzung der Stadt Musterstadt für das Jahr 2027".to_owned(),
                String::new(),
                "Die Zisternenförderung (Anlage 3) gilt ab März.".to_owned(),
            ],
            0,
        );
        let extraction = extract_pdf(&pdf);
        assert_eq!(extraction.error, None);
        assert_eq!(extraction.page_count, 3);
        assert_eq!(extraction.pages_without_text, vec![2]);
        let pages: Vec<u32> = extraction.pages.iter().map(|(page, _)| *page).collect();
        assert_eq!(pages, vec![1, 3]);
        assert!(
            extraction.pages[0].1.contains("Haushaltssatzung der Stadt"),
            "{:?}",
            extraction.pages[0].1
        );
        assert!(
            extraction.pages[1]
                .1
                .contains("Zisternenförderung (Anlage 3)"),
            "{:?}",
            extraction.pages[1].1
        );
    }

    #[test]
    fn a_damaged_pdf_is_reported_not_panicking() {
        let extraction = extract_pdf(b"%PDF-1.7\nthis is not a PDF at all");
        assert_eq!(extraction.page_count, 0);
        assert!(extraction.error.is_some());
        assert!(extraction.pages.is_empty());
    }
}
