//! `bundle`: typesets a member's Sitzungsmappe of a made-up meeting — `items` agenda items (every
//! fourth non-public) with `files` PDF files of `pages` pages each spread over them — `runs`
//! times after one warm-up, and reports min/median/max. The files are generated like the
//! benchmark papers of `extract` (text plus a picture per page). No server, no database.

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{TimeZone, Utc};
use plenum_render::{BundleFile, BundleItem, MeetingBundle};
use plenum_store::file_text::sample_pdf;
use serde_json::json;

pub struct BundleOptions {
    pub items: usize,
    pub files: usize,
    pub pages: usize,
    /// Bytes of picture per page of each file.
    pub padding: usize,
    pub runs: usize,
}

pub struct BundleReport {
    pub items: usize,
    pub files: usize,
    pub input_bytes: usize,
    pub pages: usize,
    pub bytes: usize,
    pub first: Duration,
    /// Sorted.
    pub times: Vec<Duration>,
}

fn meeting(options: &BundleOptions) -> (MeetingBundle, usize) {
    let mut items: Vec<BundleItem> = (0..options.items)
        .map(|i| BundleItem {
            number: if i % 4 == 3 {
                format!("N {}", i / 4 + 1)
            } else {
                format!("Ö {}", i - i / 4 + 1)
            },
            title: format!(
                "Tagesordnungspunkt {} mit einem Betreff üblicher Länge",
                i + 1
            ),
            public: i % 4 != 3,
            paper: Some((format!("V/2026/{:03}", i + 1), format!("Vorlage {}", i + 1))),
            files: Vec::new(),
        })
        .collect();
    let mut input = 0;
    for f in 0..options.files {
        let pages: Vec<String> = (0..options.pages)
            .map(|p| {
                format!(
                    "Datei {} Seite {}: Begründung der Verwaltung zur Vorlage, mit Zahlen, Tabellen und Text. ",
                    f + 1,
                    p + 1
                )
                .repeat(12)
            })
            .collect();
        let content = sample_pdf(&pages, options.padding);
        input += content.len();
        let slot = f % options.items.max(1);
        if let Some(item) = items.get_mut(slot) {
            item.files.push(BundleFile {
                name: format!("Anlage {}.pdf", f + 1),
                media_type: "application/pdf".into(),
                content,
            });
        }
    }
    let bundle = MeetingBundle {
        body_name: "Stadt Musterstadt".into(),
        organization: "Rat der Stadt Musterstadt".into(),
        meeting_name: "12. Sitzung des Rates".into(),
        start: Utc
            .with_ymd_and_hms(2026, 12, 10, 16, 0, 0)
            .single()
            .unwrap_or_default(),
        end: None,
        location: Some("Ratssaal, Rathaus".into()),
        recipient: Some("Anna Vogel".into()),
        cover: None,
        meeting_files: Vec::new(),
        items,
    };
    (bundle, input)
}

pub fn run_bundle(options: &BundleOptions) -> Result<BundleReport> {
    let (bundle, input_bytes) = meeting(options);
    let started = Instant::now();
    let pdf = plenum_render::meeting_bundle_pdf(bundle.clone())?;
    let first = started.elapsed();
    let mut times = Vec::with_capacity(options.runs);
    for _ in 0..options.runs.max(1) {
        let doc = bundle.clone();
        let started = Instant::now();
        plenum_render::meeting_bundle_pdf(doc)?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(BundleReport {
        items: options.items,
        files: options.files,
        input_bytes,
        pages: crate::render::count_pages(&pdf).unwrap_or(0),
        bytes: pdf.len(),
        first,
        times,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl BundleReport {
    fn median(&self) -> Duration {
        self.times
            .get(self.times.len() / 2)
            .copied()
            .unwrap_or_default()
    }

    pub fn table(&self) -> String {
        format!(
            "Sitzungsmappe, {} items, {} PDF files ({} KiB), {} pages, {} KiB\n\
             first render (loads fonts): {:.0} ms\n\
             {} runs: min {:.0} ms, median {:.0} ms, max {:.0} ms\n",
            self.items,
            self.files,
            self.input_bytes / 1024,
            self.pages,
            self.bytes / 1024,
            ms(self.first),
            self.times.len(),
            ms(self.times.first().copied().unwrap_or_default()),
            ms(self.median()),
            ms(self.times.last().copied().unwrap_or_default()),
        )
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "bench": "bundle",
            "items": self.items,
            "files": self.files,
            "input_bytes": self.input_bytes,
            "pages": self.pages,
            "bytes": self.bytes,
            "first_ms": ms(self.first),
            "runs": self.times.len(),
            "min_ms": ms(self.times.first().copied().unwrap_or_default()),
            "median_ms": ms(self.median()),
            "max_ms": ms(self.times.last().copied().unwrap_or_default()),
        })
    }

    /// Whether the render stays under the five-second target.
    pub fn ok(&self) -> bool {
        self.median() < Duration::from_secs(5)
    }
}
