//! Markdown (decisions, paper texts, notes) to sanitised HTML: `pulldown-cmark` renders,
//! `ammonia` removes everything that could run script or load from elsewhere (its default
//! allow-list; links get `rel="noopener noreferrer"`).

use pulldown_cmark::{Options, Parser, html};

/// The sanitised HTML of a Markdown text. Raw HTML in the input is escaped by the sanitiser's
/// rules, never passed through.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let html = render("**Beschluss:** Der Rat *stimmt zu*.\n\n- eins\n- zwei");
        assert!(html.contains("<strong>Beschluss:</strong>"), "{html}");
        assert!(html.contains("<em>stimmt zu</em>"), "{html}");
        assert!(html.contains("<li>eins</li>"), "{html}");
    }

    #[test]
    fn removes_script_and_dangerous_links() {
        let html = render(
            "<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }

    #[test]
    fn keeps_safe_links() {
        let html = render("[Stadt](https://example.org)");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
    }
}
