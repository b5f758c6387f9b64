//! Markdown (decisions, paper texts, notes, forum posts) rendered to HTML that is safe to insert into a
//! page: CommonMark via pulldown-cmark, then sanitised by ammonia (its allow-list drops
//! `<script>`, `<svg>`, `<iframe>`, event handler attributes, `style`, and every URL scheme but
//! http, https and mailto, so `javascript:` and `data:` links go).

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow ugc"))
        .strip_comments(true);
    builder
});

/// Renders Markdown to sanitised HTML.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    CLEANER.clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        assert_eq!(
            render("**fett** und *kursiv*"),
            "<p><strong>fett</strong> und <em>kursiv</em></p>\n"
        );
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[klick](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)><script>alert(1)</script></svg>",
            "[bild](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        ];
        for payload in payloads {
            let html = render(payload).to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onload",
                "javascript:",
                "<svg",
                "data:",
                "<iframe",
                "style=",
            ] {
                assert!(!html.contains(bad), "{payload:?} rendered as {html:?}");
            }
        }
    }

    #[test]
    fn safe_links_stay_and_get_rel() {
        let html = render("[Rat](https://example.org/rat)");
        assert!(html.contains("href=\"https://example.org/rat\""), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow ugc\""),
            "{html}"
        );
    }
}
