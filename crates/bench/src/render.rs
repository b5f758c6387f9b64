//! `render`: typesets the minutes of a made-up meeting (`items` agenda items, each with a named
//! vote of 21 members) as PDF/A, `runs` times after one warm-up (which loads the fonts), and
//! reports min/median/max.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

pub struct RenderOptions {
    pub items: usize,
    pub runs: usize,
}

pub struct RenderReport {
    pub items: usize,
    pub pages: usize,
    pub bytes: usize,
    pub first: Duration,
    /// Sorted.
    pub times: Vec<Duration>,
}

pub fn run_render(options: &RenderOptions) -> Result<RenderReport> {
    let doc = plenum_render::sample::minutes(options.items);
    let started = Instant::now();
    let pdf = plenum_render::minutes_pdf(&doc)?;
    let first = started.elapsed();
    let mut times = Vec::with_capacity(options.runs);
    for _ in 0..options.runs.max(1) {
        let started = Instant::now();
        plenum_render::minutes_pdf(&doc)?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(RenderReport {
        items: options.items,
        pages: count_pages(&pdf).unwrap_or(0),
        bytes: pdf.len(),
        first,
        times,
    })
}

/// The page count from the PDF's `/Count` of its page tree (the largest one).
pub(crate) fn count_pages(pdf: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Count ")
        .filter_map(|(i, m)| {
            text[i + m.len()..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
        .max()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl RenderReport {
    fn min(&self) -> Duration {
        self.times.first().copied().unwrap_or_default()
    }
    fn median(&self) -> Duration {
        self.times
            .get(self.times.len() / 2)
            .copied()
            .unwrap_or_default()
    }
    fn max(&self) -> Duration {
        self.times.last().copied().unwrap_or_default()
    }

    pub fn table(&self) -> String {
        format!(
            "minutes PDF/A, {} items, {} pages, {} KiB\n\
             first render (loads fonts): {:.0} ms\n\
             {} runs: min {:.0} ms, median {:.0} ms, max {:.0} ms\n",
            self.items,
            self.pages,
            self.bytes / 1024,
            ms(self.first),
            self.times.len(),
            ms(self.min()),
            ms(self.median()),
            ms(self.max()),
        )
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "bench": "render",
            "items": self.items,
            "pages": self.pages,
            "bytes": self.bytes,
            "first_ms": ms(self.first),
            "runs": self.times.len(),
            "min_ms": ms(self.min()),
            "median_ms": ms(self.median()),
            "max_ms": ms(self.max()),
        })
    }

    /// Whether the render stays under the one-second target.
    pub fn ok(&self) -> bool {
        self.median() < Duration::from_secs(1)
    }
}
