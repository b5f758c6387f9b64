//! The Markdown subset the clerk's notes and decision texts use — paragraphs, emphasis, strong
//! emphasis, lists, headings (printed as bold paragraphs) — turned into plain data for the
//! template. Everything else (links, images, HTML, code) becomes its text. No Markdown reaches
//! Typst as markup: the template prints each span's text as a string.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Span {
    pub text: String,
    pub strong: bool,
    pub emph: bool,
}

/// A paragraph, or one list item with its marker and nesting depth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Block {
    /// `par` or `item`.
    pub kind: &'static str,
    /// For items: `•` or `3.`.
    pub marker: String,
    /// For items: 1 for a top-level list.
    pub depth: usize,
    pub spans: Vec<Span>,
}

/// The blocks of a Markdown text.
pub(crate) fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut strong = 0usize;
    let mut emph = 0usize;
    // Per open list: the next number (None for a bullet list).
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut pending_marker: Option<(String, usize)> = None;

    let flush = |spans: &mut Vec<Span>,
                 pending: &mut Option<(String, usize)>,
                 out: &mut Vec<Block>,
                 depth: usize| {
        let text_present = spans.iter().any(|s| !s.text.trim().is_empty());
        if !text_present && pending.is_none() {
            spans.clear();
            return;
        }
        let block = match pending.take() {
            Some((marker, depth)) => Block {
                kind: "item",
                marker,
                depth,
                spans: std::mem::take(spans),
            },
            None if depth > 0 => Block {
                kind: "item",
                marker: String::new(),
                depth,
                spans: std::mem::take(spans),
            },
            None => Block {
                kind: "par",
                marker: String::new(),
                depth: 0,
                spans: std::mem::take(spans),
            },
        };
        out.push(block);
    };

    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Strong) => strong += 1,
            Event::End(TagEnd::Strong) => strong = strong.saturating_sub(1),
            Event::Start(Tag::Emphasis) => emph += 1,
            Event::End(TagEnd::Emphasis) => emph = emph.saturating_sub(1),
            Event::Start(Tag::Heading { .. }) => strong += 1,
            Event::End(TagEnd::Heading(_)) => {
                strong = strong.saturating_sub(1);
                flush(&mut spans, &mut pending_marker, &mut out, lists.len());
            }
            Event::Start(Tag::List(start)) => {
                flush(&mut spans, &mut pending_marker, &mut out, lists.len());
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut spans, &mut pending_marker, &mut out, lists.len());
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut spans, &mut pending_marker, &mut out, lists.len());
                let depth = lists.len();
                let marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}.");
                        *n += 1;
                        marker
                    }
                    _ => "•".to_owned(),
                };
                pending_marker = Some((marker, depth));
            }
            Event::End(TagEnd::Item) | Event::End(TagEnd::Paragraph) => {
                flush(&mut spans, &mut pending_marker, &mut out, lists.len());
            }
            Event::Text(text) | Event::Code(text) | Event::InlineMath(text) => {
                spans.push(Span {
                    text: text.into_string(),
                    strong: strong > 0,
                    emph: emph > 0,
                });
            }
            Event::SoftBreak => spans.push(Span {
                text: " ".into(),
                strong: false,
                emph: false,
            }),
            Event::HardBreak => spans.push(Span {
                text: "\n".into(),
                strong: false,
                emph: false,
            }),
            Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::BlockQuote(_)) => {
                flush(&mut spans, &mut pending_marker, &mut out, lists.len());
            }
            Event::Html(text) | Event::InlineHtml(text) => spans.push(Span {
                text: text.into_string(),
                strong: false,
                emph: false,
            }),
            _ => {}
        }
    }
    flush(&mut spans, &mut pending_marker, &mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(blocks: &[Block]) -> Vec<(String, String)> {
        blocks
            .iter()
            .map(|b| {
                (
                    format!("{}{}", b.kind, b.marker),
                    b.spans.iter().map(|s| s.text.as_str()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn paragraphs_emphasis_and_lists() {
        let blocks = blocks(
            "Herr **A.** verlässt *kurz* den Saal.\n\n- erstens\n- zweitens\n\n3. drei\n4. vier\n\nEnde",
        );
        assert_eq!(
            texts(&blocks),
            [
                ("par".into(), "Herr A. verlässt kurz den Saal.".into()),
                ("item•".into(), "erstens".into()),
                ("item•".into(), "zweitens".into()),
                ("item3.".into(), "drei".into()),
                ("item4.".into(), "vier".into()),
                ("par".into(), "Ende".into()),
            ]
        );
        assert!(blocks[0].spans[1].strong);
        assert!(blocks[0].spans[3].emph);
        assert!(!blocks[0].spans[0].strong);
    }

    #[test]
    fn markup_stays_text() {
        let blocks = blocks("#panic() <b>x</b> `#set page(width: 1pt)`");
        let all: String = blocks
            .iter()
            .flat_map(|b| b.spans.iter().map(|s| s.text.clone()))
            .collect();
        assert!(all.contains("#panic()"), "{all}");
        assert!(all.contains("#set page(width: 1pt)"), "{all}");
    }
}
