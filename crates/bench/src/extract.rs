//! `plenum-bench extract`: how long text extraction of a generated paper takes (the work the
//! server does in the background after a PDF upload), page by page as the server does it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use plenum_store::file_text::{extract_pdf, sample_pdf};

#[derive(Debug, Clone)]
pub struct ExtractOptions {
    pub pages: usize,
    /// Image bytes per page (a 100-page paper with 100 KB pictures weighs 10 MB).
    pub padding: usize,
    pub runs: usize,
    /// Also write the generated PDF here (for the browser benchmark).
    pub write: Option<PathBuf>,
}

#[derive(Debug)]
pub struct ExtractReport {
    pub pages: usize,
    pub bytes: usize,
    pub text_pages: usize,
    pub runs: Vec<Duration>,
}

/// Council prose, a different sentence on every page.
pub fn paper_pages(pages: usize) -> Vec<String> {
    (1..=pages)
        .map(|n| {
            format!(
                "Seite {n}. Abschnitt {}. Der Ausschuss berät die Vorlage der Verwaltung zur \
                 Haushaltsplanung und zu den Investitionen in Schulen, Straßen und Grünflächen. \
                 Die Mittel stehen im Finanzplan bereit. Position {} des Investitionsprogramms.",
                n.div_ceil(10),
                n * 37
            )
        })
        .collect()
}

pub fn run_extract(options: &ExtractOptions) -> anyhow::Result<ExtractReport> {
    let pdf = sample_pdf(&paper_pages(options.pages), options.padding);
    if let Some(path) = &options.write {
        std::fs::write(path, &pdf)?;
    }
    let mut runs = Vec::with_capacity(options.runs);
    let mut text_pages = 0;
    for _ in 0..options.runs.max(1) {
        let started = Instant::now();
        let extraction = extract_pdf(&pdf);
        runs.push(started.elapsed());
        anyhow::ensure!(
            extraction.error.is_none(),
            "extraction failed: {:?}",
            extraction.error
        );
        text_pages = extraction.pages.len();
    }
    Ok(ExtractReport {
        pages: options.pages,
        bytes: pdf.len(),
        text_pages,
        runs,
    })
}

impl ExtractReport {
    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    pub fn ok(&self) -> bool {
        self.text_pages == self.pages
    }

    pub fn table(&self) -> String {
        let ms = self.sorted_ms();
        let median = ms.get(ms.len() / 2).copied().unwrap_or_default();
        format!(
            "text extraction: {} pages, {:.1} MB, {} with text\n  runs {}: min {:.0} ms, median {:.0} ms, max {:.0} ms\n",
            self.pages,
            self.bytes as f64 / 1e6,
            self.text_pages,
            ms.len(),
            ms.first().copied().unwrap_or_default(),
            median,
            ms.last().copied().unwrap_or_default(),
        )
    }

    pub fn json(&self) -> serde_json::Value {
        let ms = self.sorted_ms();
        serde_json::json!({
            "bench": "extract",
            "pages": self.pages,
            "bytes": self.bytes,
            "text_pages": self.text_pages,
            "min_ms": ms.first(),
            "median_ms": ms.get(ms.len() / 2),
            "max_ms": ms.last(),
        })
    }
}
