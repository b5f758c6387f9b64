//! A tiny, dependency-free PDF writer for the demo council's documents.
//!
//! [`simple_pdf`] lays out a title and a list of paragraphs on A4 pages using the
//! standard Type1 fonts Helvetica and Helvetica-Bold (which every PDF viewer has, so
//! nothing is embedded). Text is encoded as `WinAnsiEncoding` (a superset of Latin-1 for the
//! printable range), so German umlauts, `ß`, `€`, dashes and typographic quotes render.
//!
//! The output is deterministic: no timestamps, no random document ids, and integer
//! coordinates only. The same input always yields the same bytes, so content hashes
//! of the generated files stay stable across runs.

/// A4 width in PDF points.
const PAGE_WIDTH: i32 = 595;
/// A4 height in PDF points.
const PAGE_HEIGHT: i32 = 842;
/// Left and right margin (about 2 cm).
const MARGIN_X: i32 = 56;
/// Distance from the top edge to the top of the first line.
const MARGIN_TOP: i32 = 64;
/// Body text must not go below this baseline; the footer lives underneath.
const BODY_BOTTOM: i32 = 72;
/// Usable line width.
const TEXT_WIDTH: i32 = PAGE_WIDTH - 2 * MARGIN_X;

const TITLE_SIZE: i32 = 16;
const TITLE_LEADING: i32 = 20;
/// Extra space between the title block and the first paragraph.
const TITLE_GAP: i32 = 10;
const BODY_SIZE: i32 = 11;
const BODY_LEADING: i32 = 15;
/// Extra space after each paragraph.
const PARAGRAPH_GAP: i32 = 6;
const FOOTER_SIZE: i32 = 8;
const FOOTER_Y: i32 = 36;
/// Baseline of the thin rule above the footer.
const FOOTER_RULE_Y: i32 = 50;
const FOOTER_TEXT: &str = "Musterstadt – Demo-Daten / demo data";

/// Glyph widths (1/1000 em) of Helvetica for the ASCII range 0x20..=0x7E (from the AFM).
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

/// Glyph widths (1/1000 em) of Helvetica-Bold for the ASCII range 0x20..=0x7E.
const HELVETICA_BOLD_WIDTHS: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0..?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P.._
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // `..o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p..~
];

/// The two fonts used in the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Font {
    /// Helvetica, resource name `/F1`.
    Regular,
    /// Helvetica-Bold, resource name `/F2`.
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    /// Width of one `WinAnsiEncoding` byte in 1/1000 em.
    fn glyph_width(self, byte: u8) -> u32 {
        let table = match self {
            Font::Regular => &HELVETICA_WIDTHS,
            Font::Bold => &HELVETICA_BOLD_WIDTHS,
        };
        let ascii = match byte {
            0x20..=0x7E => Some(byte),
            _ => latin1_base_letter(byte),
        };
        if let Some(ascii) = ascii {
            return u32::from(table[usize::from(ascii - 0x20)]);
        }
        match byte {
            0x85 | 0x89 | 0x97 | 0xC6 => 1000, // … ‰ — Æ
            0x91..=0x94 | 0x82 | 0x84 => 333,  // typographic quotes
            0x95 => 350,                       // •
            0xDF => 611,                       // ß
            0xE6 => 889,                       // æ
            _ => 556,
        }
    }

    /// Width of a run of `WinAnsiEncoding` bytes in 1/1000 em.
    fn text_width(self, text: &[u8]) -> u32 {
        text.iter().map(|&b| self.glyph_width(b)).sum()
    }
}

/// The unaccented ASCII letter whose width approximates an accented Latin-1 letter.
fn latin1_base_letter(byte: u8) -> Option<u8> {
    let base = match byte {
        0xC0..=0xC5 => b'A',
        0xC7 => b'C',
        0xC8..=0xCB => b'E',
        0xCC..=0xCF => b'I',
        0xD0 => b'D',
        0xD1 => b'N',
        0xD2..=0xD6 | 0xD8 => b'O',
        0xD9..=0xDC => b'U',
        0xDD | 0x9F => b'Y',
        0xE0..=0xE5 => b'a',
        0xE7 => b'c',
        0xE8..=0xEB => b'e',
        0xEC..=0xEF => b'i',
        0xF1 => b'n',
        0xF2..=0xF6 | 0xF8 => b'o',
        0xF9..=0xFC => b'u',
        0xFD | 0xFF => b'y',
        0x8A => b'S',
        0x9A => b's',
        0x8E => b'Z',
        0x9E => b'z',
        0x80 => b'0', // € is as wide as a digit
        0x96 => b'_', // – is as wide as an underscore (556)
        _ => return None,
    };
    Some(base)
}

/// Encodes one character as `WinAnsiEncoding` bytes, appending to `out`.
///
/// Latin-1 maps to itself, the extra `WinAnsiEncoding` characters in 0x80..=0x9F map to their
/// codes, a few common characters get ASCII fallbacks, and anything else becomes `?`.
/// Control characters (tabs, line breaks) become a space.
fn push_win_ansi(c: char, out: &mut Vec<u8>) {
    let code = u32::from(c);
    let byte = match c {
        ' '..='~' | '\u{A0}'..='\u{FF}' => u8::try_from(code).unwrap_or(b'?'),
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '\u{2018}' => 0x91, // ‘
        '\u{2019}' => 0x92, // ’
        '\u{201C}' => 0x93, // “
        '\u{201D}' => 0x94, // ”
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        // ASCII fallbacks for characters WinAnsi lacks.
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2212}' => b'-',
        // Control characters (tabs, line breaks) and special spaces become a space.
        '\u{0}'..='\u{1F}'
        | '\u{7F}'..='\u{9F}'
        | '\u{2002}'..='\u{200A}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => b' ',
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => return,
        '\u{2032}' => b'\'',
        '\u{2033}' => b'"',
        '→' => {
            out.extend_from_slice(b"->");
            return;
        }
        '←' => {
            out.extend_from_slice(b"<-");
            return;
        }
        _ => b'?',
    };
    out.push(byte);
}

/// Encodes a string as `WinAnsiEncoding` bytes (see [`push_win_ansi`]).
fn encode_win_ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        push_win_ansi(c, &mut out);
    }
    out
}

/// Writes `text` as a PDF literal string `( … )`, escaping `\`, `(` and `)`.
fn push_pdf_string(text: &[u8], out: &mut Vec<u8>) {
    out.push(b'(');
    for &b in text {
        match b {
            b'\\' | b'(' | b')' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

/// Writes `text` as a UTF-16BE hex string with byte order mark (a PDF text string).
fn push_pdf_text_string(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<FEFF");
    for unit in text.encode_utf16() {
        out.extend_from_slice(format!("{unit:04X}").as_bytes());
    }
    out.push(b'>');
}

/// Whether a run of `width` (1/1000 em) at `size` points fits on one line.
fn fits(width: u32, size: i32) -> bool {
    let size = u32::try_from(size).unwrap_or(0);
    let max = u32::try_from(TEXT_WIDTH).unwrap_or(0);
    width.saturating_mul(size) <= max.saturating_mul(1000)
}

/// Breaks `WinAnsiEncoding` text into lines that fit the text width.
///
/// Runs of spaces collapse; a single word wider than a line is split.
fn wrap(text: &[u8], font: Font, size: i32) -> Vec<Vec<u8>> {
    let space = font.glyph_width(b' ');
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_width = 0u32;
    for word in text.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let word_width = font.text_width(word);
        if !line.is_empty() && fits(line_width + space + word_width, size) {
            line.push(b' ');
            line.extend_from_slice(word);
            line_width += space + word_width;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if fits(word_width, size) {
            line.extend_from_slice(word);
            line_width = word_width;
            continue;
        }
        // The word alone is too wide: split it wherever the line is full.
        line_width = 0;
        for &b in word {
            let w = font.glyph_width(b);
            if !line.is_empty() && !fits(line_width + w, size) {
                lines.push(std::mem::take(&mut line));
                line_width = 0;
            }
            line.push(b);
            line_width += w;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One positioned line of text.
struct Line {
    font: Font,
    size: i32,
    y: i32,
    text: Vec<u8>,
}

/// Fills pages top to bottom, starting a new page when the body area is full.
struct Pager {
    pages: Vec<Vec<Line>>,
    /// Baseline of the next line on the current page.
    y: i32,
}

impl Pager {
    fn new() -> Self {
        Pager {
            pages: vec![Vec::new()],
            y: PAGE_HEIGHT - MARGIN_TOP - TITLE_SIZE,
        }
    }

    fn place(&mut self, font: Font, size: i32, leading: i32, text: Vec<u8>) {
        if self.y < BODY_BOTTOM {
            self.pages.push(Vec::new());
            self.y = PAGE_HEIGHT - MARGIN_TOP - size;
        }
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.push(Line {
                font,
                size,
                y,
                text,
            });
        }
        self.y -= leading;
    }

    /// Adds vertical space; it is dropped silently at a page break.
    fn skip(&mut self, space: i32) {
        self.y -= space;
    }
}

/// Places the title and paragraphs onto pages, breaking pages as needed.
fn layout(title: &str, paragraphs: &[&str]) -> Vec<Vec<Line>> {
    let mut pager = Pager::new();
    for text in wrap(&encode_win_ansi(title), Font::Bold, TITLE_SIZE) {
        pager.place(Font::Bold, TITLE_SIZE, TITLE_LEADING, text);
    }
    pager.skip(TITLE_GAP);

    for paragraph in paragraphs {
        let lines = wrap(&encode_win_ansi(paragraph), Font::Regular, BODY_SIZE);
        if lines.is_empty() {
            // An empty paragraph is a blank line.
            pager.skip(BODY_LEADING);
            continue;
        }
        for text in lines {
            pager.place(Font::Regular, BODY_SIZE, BODY_LEADING, text);
        }
        pager.skip(PARAGRAPH_GAP);
    }
    pager.pages
}

/// Builds the content stream of one page: its lines plus the footer.
fn page_content(lines: &[Line], page_no: usize, page_count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(
            format!(
                "BT\n/{} {} Tf\n{} {} Td\n",
                line.font.resource(),
                line.size,
                MARGIN_X,
                line.y
            )
            .as_bytes(),
        );
        push_pdf_string(&line.text, &mut out);
        out.extend_from_slice(b" Tj\nET\n");
    }

    // Footer: a thin grey rule, the demo notice on the left, the page number on the right.
    let right = PAGE_WIDTH - MARGIN_X;
    out.extend_from_slice(
        format!(
            "q\n0.6 G\n0.5 w\n{MARGIN_X} {FOOTER_RULE_Y} m {right} {FOOTER_RULE_Y} l S\n0.3 g\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(
        format!("BT\n/F1 {FOOTER_SIZE} Tf\n{MARGIN_X} {FOOTER_Y} Td\n").as_bytes(),
    );
    push_pdf_string(&encode_win_ansi(FOOTER_TEXT), &mut out);
    out.extend_from_slice(b" Tj\nET\n");

    let number = format!("{page_no} / {page_count}");
    let number_width = Font::Regular.text_width(number.as_bytes());
    let number_width = i32::try_from(number_width).unwrap_or(0) * FOOTER_SIZE / 1000;
    let x = right - number_width;
    out.extend_from_slice(format!("BT\n/F1 {FOOTER_SIZE} Tf\n{x} {FOOTER_Y} Td\n").as_bytes());
    push_pdf_string(number.as_bytes(), &mut out);
    out.extend_from_slice(b" Tj\nET\nQ\n");
    out
}

// Object numbers: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, 5 info,
// then a page object and its content stream for each page.
const CATALOG: usize = 1;
const INFO: usize = 5;
const FIRST_PAGE: usize = 6;

/// Serialises numbered objects and remembers their byte offsets for the xref table.
struct Writer {
    buf: Vec<u8>,
    offsets: Vec<usize>,
}

impl Writer {
    fn new() -> Self {
        let mut buf = Vec::new();
        // The second line marks the file as binary for transfer tools (PDF 32000-1, 7.5.2).
        buf.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
        Writer {
            buf,
            offsets: Vec::new(),
        }
    }

    /// Writes the next object; objects must be written in ascending number order.
    fn object(&mut self, body: &[u8]) {
        self.offsets.push(self.buf.len());
        let number = self.offsets.len();
        self.buf
            .extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(b"\nendobj\n");
    }

    /// Writes the next object as a stream holding `content`.
    fn stream(&mut self, content: &[u8]) {
        let mut body = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(b"\nendstream");
        self.object(&body);
    }

    /// Writes the xref table and trailer and returns the finished file.
    fn finish(mut self, root: usize, info: usize) -> Vec<u8> {
        let xref_offset = self.buf.len();
        let size = self.offsets.len() + 1;
        self.buf
            .extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
        for offset in &self.offsets {
            self.buf
                .extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        self.buf.extend_from_slice(
            format!(
                "trailer\n<< /Size {size} /Root {root} 0 R /Info {info} 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n"
            )
            .as_bytes(),
        );
        self.buf
    }
}

/// Renders a simple A4 PDF 1.4 document: a bold title, then word-wrapped paragraphs,
/// with automatic page breaks and a demo-data footer on every page.
///
/// The output is deterministic (no timestamps or ids), so equal input gives equal bytes.
#[must_use]
pub fn simple_pdf(title: &str, paragraphs: &[&str]) -> Vec<u8> {
    let pages = layout(title, paragraphs);
    let page_count = pages.len();

    let page_object = |index: usize| FIRST_PAGE + 2 * index;

    let mut w = Writer::new();
    w.object(b"<< /Type /Catalog /Pages 2 0 R >>");

    let kids: Vec<String> = (0..page_count)
        .map(|i| format!("{} 0 R", page_object(i)))
        .collect();
    w.object(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {page_count} >>",
            kids.join(" ")
        )
        .as_bytes(),
    );
    w.object(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    w.object(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    );

    let mut info = b"<< /Title ".to_vec();
    push_pdf_text_string(title, &mut info);
    info.extend_from_slice(b" /Producer (Plenum) >>");
    w.object(&info);

    for (index, lines) in pages.iter().enumerate() {
        let contents = page_object(index) + 1;
        w.object(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {contents} 0 R >>"
            )
            .as_bytes(),
        );
        w.stream(&page_content(lines, index + 1, page_count));
    }
    w.finish(CATALOG, INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).rposition(|w| w == needle)
    }

    fn page_count(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        let start = text.find("/Count ").expect("page tree has /Count") + "/Count ".len();
        let digits: String = text[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().expect("numeric /Count")
    }

    fn long_text() -> Vec<String> {
        (1..=40)
            .map(|i| {
                format!(
                    "Absatz {i}: Der Rat der Stadt Musterstadt beschließt die Änderung der \
                     Gebührensatzung für die Straßenreinigung. Die Verwaltung wird beauftragt, \
                     die notwendigen Schritte einzuleiten und dem Ausschuss zu berichten."
                )
            })
            .collect()
    }

    #[test]
    fn starts_with_header_and_ends_with_eof() {
        let pdf = simple_pdf("Titel", &["Hallo Welt."]);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
    }

    #[test]
    fn xref_offsets_point_at_their_objects() {
        let paragraphs = long_text();
        let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
        let pdf = simple_pdf("Beschlussvorlage VO/10742/23", &refs);

        let startxref = rfind(&pdf, b"startxref\n").expect("startxref present");
        let tail = std::str::from_utf8(&pdf[startxref + "startxref\n".len()..]).expect("ascii");
        let xref_offset: usize = tail
            .lines()
            .next()
            .expect("offset line")
            .parse()
            .expect("numeric offset");
        assert!(pdf[xref_offset..].starts_with(b"xref\n0 "));

        let section = std::str::from_utf8(&pdf[xref_offset..]).expect("ascii xref");
        let mut lines = section.lines();
        assert_eq!(lines.next(), Some("xref"));
        let header = lines.next().expect("subsection header");
        let size: usize = header
            .strip_prefix("0 ")
            .expect("starts at object 0")
            .parse()
            .expect("numeric size");
        assert!(size > 6);
        assert!(section.contains(&format!("/Size {size} ")));

        // Every entry is exactly 20 bytes long.
        let entries_start = xref_offset + "xref\n".len() + header.len() + 1;
        let entries = &pdf[entries_start..entries_start + 20 * size];
        assert!(pdf[entries_start + 20 * size..].starts_with(b"trailer\n"));
        assert_eq!(&entries[..20], b"0000000000 65535 f \n");
        for number in 1..size {
            let entry = &entries[20 * number..20 * (number + 1)];
            assert_eq!(&entry[10..], b" 00000 n \n", "entry {number}");
            let offset: usize = std::str::from_utf8(&entry[..10])
                .expect("ascii offset")
                .parse()
                .expect("numeric offset");
            let expected = format!("{number} 0 obj\n");
            assert!(
                pdf[offset..].starts_with(expected.as_bytes()),
                "object {number} not at offset {offset}"
            );
        }
    }

    #[test]
    fn stream_lengths_are_exact() {
        let paragraphs = long_text();
        let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
        let pdf = simple_pdf("Titel (mit Klammern) \\ Backslash", &refs);
        let mut streams = 0;

        // After `stream\n` and /Length bytes of data comes `\nendstream`.
        let mut pos = 0;
        while let Some(found) = pdf[pos..]
            .windows(b"/Length ".len())
            .position(|w| w == b"/Length ")
        {
            let at = pos + found + b"/Length ".len();
            let digits: Vec<u8> = pdf[at..]
                .iter()
                .copied()
                .take_while(u8::is_ascii_digit)
                .collect();
            let length: usize = std::str::from_utf8(&digits)
                .expect("ascii")
                .parse()
                .expect("numeric length");
            let data = at
                + pdf[at..]
                    .windows(b"stream\n".len())
                    .position(|w| w == b"stream\n")
                    .expect("stream keyword")
                + b"stream\n".len();
            assert!(pdf[data + length..].starts_with(b"\nendstream"));
            pos = data + length;
            streams += 1;
        }
        assert_eq!(streams, page_count(&pdf));
    }

    #[test]
    fn long_text_breaks_into_several_pages() {
        let short = simple_pdf("Kurz", &["Nur ein Satz."]);
        assert_eq!(page_count(&short), 1);
        assert!(contains(&short, b"/Count 1 "));

        let paragraphs = long_text();
        let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
        let pdf = simple_pdf("Lang", &refs);
        let pages = page_count(&pdf);
        assert!(pages >= 2, "expected several pages, got {pages}");
        // Each page has the footer and its page number.
        assert!(contains(&pdf, format!("({pages} / {pages})").as_bytes()));
        let footer = encode_win_ansi(FOOTER_TEXT);
        let mut footer_string = Vec::new();
        push_pdf_string(&footer, &mut footer_string);
        let footers = pdf
            .windows(footer_string.len())
            .filter(|w| *w == footer_string.as_slice())
            .count();
        assert_eq!(footers, pages);
    }

    #[test]
    fn umlauts_are_single_latin1_bytes() {
        let pdf = simple_pdf(
            "Änderung der Gebührensatzung",
            &["Straßenreinigung: ä ö ü Ä Ö Ü ß – „Zitat“ 12 €"],
        );
        assert!(contains(&pdf, b"(\xC4nderung der Geb\xFChrensatzung)"));
        assert!(contains(
            &pdf,
            b"Stra\xDFenreinigung: \xE4 \xF6 \xFC \xC4 \xD6 \xDC \xDF"
        ));
        assert!(contains(&pdf, b"\x96 \x84Zitat\x93 12 \x80"));
        // No UTF-8 sequence (ä = C3 A4) leaks into the content stream.
        assert!(!contains(&pdf, b"\xC3\xA4"));
        // The footer's en dash is WinAnsi 0x96 too.
        assert!(contains(&pdf, b"(Musterstadt \x96 Demo-Daten / demo data)"));
    }

    #[test]
    fn win_ansi_encoding_and_fallbacks() {
        assert_eq!(encode_win_ansi("äöüßÄÖÜ"), b"\xE4\xF6\xFC\xDF\xC4\xD6\xDC");
        assert_eq!(
            encode_win_ansi("–—“”‘’„€…"),
            b"\x96\x97\x93\x94\x91\x92\x84\x80\x85"
        );
        assert_eq!(encode_win_ansi("a\u{2212}b → c\td"), b"a-b -> c d");
        assert_eq!(encode_win_ansi("日本"), b"??");
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        push_pdf_string(b"(a) \\ b", &mut out);
        assert_eq!(out, b"(\\(a\\) \\\\ b)");

        let pdf = simple_pdf("Antrag (neu)", &["Siehe Anlage (1) \\ Seite 2"]);
        assert!(contains(&pdf, b"(Antrag \\(neu\\))"));
        assert!(contains(&pdf, b"(Siehe Anlage \\(1\\) \\\\ Seite 2)"));
    }

    #[test]
    fn wrapping_respects_the_line_width() {
        let paragraph = "Wort ".repeat(200);
        let lines = wrap(&encode_win_ansi(&paragraph), Font::Regular, BODY_SIZE);
        assert!(lines.len() > 5);
        for line in &lines {
            assert!(fits(Font::Regular.text_width(line), BODY_SIZE));
            assert!(!line.starts_with(b" ") && !line.ends_with(b" "));
        }
        // Roughly 90 characters per line of ordinary German text.
        let sample = encode_win_ansi(&long_text()[0]);
        let first = &wrap(&sample, Font::Regular, BODY_SIZE)[0];
        assert!((75..=110).contains(&first.len()), "{} chars", first.len());

        // A single overlong word is split instead of overflowing.
        let word = "x".repeat(500);
        let parts = wrap(word.as_bytes(), Font::Regular, BODY_SIZE);
        assert!(parts.len() > 1);
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), 500);
    }

    #[test]
    fn output_is_deterministic() {
        let a = simple_pdf("Sitzung", &["Tagesordnung", "", "Beschluss"]);
        let b = simple_pdf("Sitzung", &["Tagesordnung", "", "Beschluss"]);
        assert_eq!(a, b);
        assert!(!contains(&a, b"CreationDate"));
    }

    #[test]
    fn empty_input_still_yields_one_page() {
        let pdf = simple_pdf("", &[]);
        assert_eq!(page_count(&pdf), 1);
        assert!(pdf.ends_with(b"%%EOF\n"));
    }
}
