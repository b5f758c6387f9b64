//! Markdown (decisions, paper texts, notes, forum posts) rendered to HTML that is safe to insert into a
//! page: CommonMark via pulldown-cmark, then sanitised by ammonia (its allow-list drops
//! `<script>`, `<svg>`, `<iframe>`, event handler attributes, `style`, and every URL scheme but
//! http, https and mailto, so `javascript:` and `data:` links go).
//!
//! Images load only from Plenum itself: an image from anywhere else would tell that server who
//! read the text and when (a tracking pixel). A Markdown image with another source becomes its
//! alt text; an HTML `<img>` with another source loses its `src`. Links carry
//! `rel="noopener noreferrer nofollow ugc"`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow ugc"))
        .attribute_filter(local_images_only)
        .strip_comments(true);
    builder
});

/// Drops the `src` of an `<img>` that does not come from Plenum itself.
fn local_images_only<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    if element == "img" && attribute == "src" && !is_local(value) {
        return None;
    }
    Some(Cow::Borrowed(value))
}

/// Whether `url` points into Plenum itself: a path on the same origin (`/api/v1/files/…`) or a
/// relative URL without a scheme. Protocol-relative URLs (`//host/…`) are not local, and neither
/// is anything with a backslash, whitespace or a control character, which browsers may read as
/// `//` or strip.
fn is_local(url: &str) -> bool {
    if url.is_empty()
        || url
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        || url.starts_with("//")
    {
        return false;
    }
    if url.starts_with('/') {
        return true;
    }
    // A relative URL: no scheme before the first `/`, `?` or `#`.
    let head = url.split(['/', '?', '#']).next().unwrap_or(url);
    !head.contains(':')
}

/// Renders Markdown to sanitised HTML.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(
        &mut unsafe_html,
        without_remote_images(Parser::new_ext(markdown, options)),
    );
    CLEANER.clean(&unsafe_html).to_string()
}

/// Replaces each image from elsewhere with its alt text (the events inside the image).
fn without_remote_images<'a>(
    events: impl Iterator<Item = Event<'a>>,
) -> impl Iterator<Item = Event<'a>> {
    // One entry per open image: whether it was dropped.
    let mut open: Vec<bool> = Vec::new();
    events.filter(move |event| match event {
        Event::Start(Tag::Image { dest_url, .. }) => {
            let drop = !is_local(dest_url);
            open.push(drop);
            !drop
        }
        Event::End(TagEnd::Image) => !open.pop().unwrap_or(false),
        _ => true,
    })
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
    fn remote_images_become_their_alt_text() {
        for markdown in [
            "![Pixel](https://tracker.example/p.gif)",
            "![Pixel](http://tracker.example/p.gif)",
            "![Pixel](//tracker.example/p.gif)",
            "![Pixel](/\\tracker.example/p.gif)",
            "![Pixel][ref]\n\n[ref]: https://tracker.example/p.gif",
        ] {
            let html = render(markdown);
            assert!(!html.contains("<img"), "{markdown:?} rendered as {html:?}");
            assert!(
                !html.contains("tracker.example"),
                "{markdown:?} rendered as {html:?}"
            );
            assert!(
                html.contains("Pixel"),
                "{markdown:?} lost its alt text: {html:?}"
            );
        }
        assert_eq!(
            render("Vorher ![ein *Bild*](https://tracker.example/p.gif) nachher"),
            "<p>Vorher ein <em>Bild</em> nachher</p>\n"
        );
    }

    #[test]
    fn remote_html_images_lose_their_source() {
        for markdown in [
            "<img src=\"https://tracker.example/p.gif\" alt=\"Pixel\">",
            "<img src=\"//tracker.example/p.gif\">",
            "<img src=\"/&#9;/tracker.example/p.gif\">",
            "<p><img src=\"HTTPS://tracker.example/p.gif\"></p>",
        ] {
            let html = render(markdown);
            assert!(
                !html.contains("tracker.example"),
                "{markdown:?} rendered as {html:?}"
            );
            assert!(!html.contains("src="), "{markdown:?} rendered as {html:?}");
        }
    }

    #[test]
    fn images_from_plenum_itself_stay() {
        let html =
            render("![Lageplan](/api/v1/files/0190c3a0-0000-7000-8000-000000000001/content)");
        assert!(
            html.contains(
                "<img src=\"/api/v1/files/0190c3a0-0000-7000-8000-000000000001/content\" alt=\"Lageplan\">"
            ),
            "{html}"
        );
        let html = render("![Plan](plan.png)");
        assert!(html.contains("<img src=\"plan.png\""), "{html}");
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
