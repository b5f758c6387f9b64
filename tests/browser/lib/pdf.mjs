// Generates test PDFs without any library: one text page per string (Helvetica, WinAnsi, wrapped
// at 90 characters; "" makes a page without text, like a scan), and optionally `padding` bytes of
// a grey picture per page, so a 100-page paper weighs what a real one with pictures does. The
// page text is laid out as by plenum_store::file_text::sample_pdf.

/** A PDF (Buffer) with the given pages. */
export function samplePdf(pages, { padding = 0, outline = [] } = {}) {
  const chunks = [];
  let length = 0;
  const offsets = [];
  const push = (data) => {
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data, "latin1");
    chunks.push(buffer);
    length += buffer.length;
  };
  const object = (body) => {
    offsets.push(length);
    push(`${offsets.length} 0 obj\n`);
    push(body);
    push("\nendobj\n");
  };
  push(Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1"));
  // The page dictionaries come first, together (as in files saved for fast web view): PDF.js
  // checks the last page when it opens a file, and page dictionaries spread between large images
  // would make it fetch nearly the whole file to get there.
  const perPage = padding > 0 ? 2 : 1; // content (+ image) objects per page, after the dicts
  const first = 5; // 1 catalog, 2 pages, 3 font, 4 outline root
  const pageRef = (i) => first + i;
  const contentRef = (i) => first + pages.length + i * perPage;
  const outlineStart = first + pages.length * (perPage + 1);
  object(`<< /Type /Catalog /Pages 2 0 R${outline.length ? " /Outlines 4 0 R /PageMode /UseOutlines" : ""} >>`);
  object(`<< /Type /Pages /Kids [${pages.map((_, i) => `${pageRef(i)} 0 R`).join(" ")}] /Count ${pages.length} >>`);
  object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  object(outline.length
    ? `<< /Type /Outlines /First ${outlineStart} 0 R /Last ${outlineStart + outline.length - 1} 0 R /Count ${outline.length} >>`
    : "<< /Type /Outlines /Count 0 >>");
  const escape = (line) => {
    let out = "";
    for (const c of line) {
      const code = c.codePointAt(0);
      if (c === "(" || c === ")" || c === "\\") out += `\\${c}`;
      else if (code >= 32 && code < 127) out += c;
      else if (code < 256) out += `\\${code.toString(8).padStart(3, "0")}`;
      else out += "?";
    }
    return out;
  };
  pages.forEach((_, i) => {
    const xobject = padding > 0 ? ` /XObject << /Im1 ${contentRef(i) + 1} 0 R >>` : "";
    object(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >>${xobject} >> /Contents ${contentRef(i)} 0 R >>`);
  });
  pages.forEach((text, i) => {
    let content = padding > 0 ? "q 495 0 0 300 50 60 cm /Im1 Do Q\n" : "";
    if (text) {
      content += "BT /F1 11 Tf 14 TL 56 780 Td\n";
      const lines = [];
      let line = "";
      for (const word of text.split(/\s+/).filter(Boolean)) {
        if (line && line.length + word.length > 90) {
          lines.push(line);
          line = "";
        }
        line += (line ? " " : "") + word;
      }
      lines.push(line);
      for (const l of lines) content += `(${escape(l)}) Tj T*\n`;
      content += "ET\n";
    }
    const body = Buffer.from(content, "latin1");
    object(Buffer.concat([Buffer.from(`<< /Length ${body.length} >>\nstream\n`), body, Buffer.from("\nendstream")]));
    if (padding > 0) {
      const side = Math.ceil(Math.sqrt(padding));
      const pixels = Buffer.alloc(side * side);
      for (let p = 0; p < pixels.length; p += 1) pixels[p] = 160 + (((p % side) + Math.floor(p / side) + i * 7) % 64);
      object(Buffer.concat([
        Buffer.from(`<< /Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length ${pixels.length} >>\nstream\n`),
        pixels, Buffer.from("\nendstream")]));
    }
  });
  outline.forEach(({ title, page }, i) => {
    const prev = i > 0 ? ` /Prev ${outlineStart + i - 1} 0 R` : "";
    const next = i < outline.length - 1 ? ` /Next ${outlineStart + i + 1} 0 R` : "";
    object(`<< /Title (${escape(title)}) /Parent 4 0 R${prev}${next} /Dest [${pageRef(page - 1)} 0 R /Fit] >>`);
  });
  const xref = length;
  let table = `xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) table += `${String(offset).padStart(10, "0")} 00000 n \n`;
  push(table);
  push(`trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(chunks);
}

/** `count` pages of council prose; `special` maps page numbers to extra text on that page. */
export function paperPages(count, special = {}) {
  const prose = "Der Ausschuss berät die Vorlage der Verwaltung zur Haushaltsplanung und zu den "
    + "Investitionen in Schulen, Straßen und Grünflächen. Die Mittel stehen im Finanzplan bereit.";
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    if (special[n] === "") return "";
    return `Seite ${n}. Abschnitt ${Math.ceil(n / 10)}. ${prose} ${special[n] ?? ""}`.trim();
  });
}
