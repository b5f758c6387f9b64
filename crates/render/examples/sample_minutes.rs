//! Writes the sample minutes (`plenum_render::sample::minutes`) to a file, e.g. for the README's
//! picture: `cargo run -p plenum-render --example sample_minutes -- minutes.pdf 3`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "minutes.pdf".into());
    let items = args.next().and_then(|n| n.parse().ok()).unwrap_or(3);
    let pdf = plenum_render::minutes_pdf(&plenum_render::sample::minutes(items))?;
    std::fs::write(&path, pdf)?;
    println!("wrote {path}");
    Ok(())
}
