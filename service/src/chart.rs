//! An SVG bar chart of a ranking for reports: one horizontal bar per unit in rank order,
//! the previous year's index marked beside each bar, rating bands shaded behind.
//! Pure string building: no fonts are embedded, names are UTF-8 text in a generic
//! sans-serif face, so Vietnamese names render with whatever font the reader has.

use crate::scoring::RatingBand;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

pub struct Bar {
    pub rank: u32,
    pub name: String,
    pub index: Decimal,
    pub previous_index: Option<Decimal>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const BAND_COLOURS: [&str; 5] = ["#e8f5e9", "#fffde7", "#fff3e0", "#fbe9e7", "#f3e5f5"];

/// Draws the chart; `axis_max` is the right end of the scale (100 + the bonus maximum).
// Long by nature: the SVG is drawn top to bottom, one element after the other.
pub fn ranking_svg(
    title: &str,
    subtitle: &str,
    bars: &[Bar],
    bands: &[RatingBand],
    axis_max: Decimal,
) -> String {
    let label_width = 230.0;
    let plot_width = 560.0;
    let row = 26.0;
    let top = 70.0;
    let left = label_width + 40.0;
    let height = top + row * bars.len().max(1) as f64 + 60.0;
    let width = left + plot_width + 80.0;
    let max = axis_max.to_f64().unwrap_or(100.0).max(1.0);
    let x = |v: Decimal| left + plot_width * (v.to_f64().unwrap_or(0.0) / max).clamp(0.0, 1.0);
    let plot_bottom = top + row * bars.len().max(1) as f64;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="'Noto Sans', 'DejaVu Sans', Arial, sans-serif" font-size="13">"#
    );
    let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{:.0}" y="26" font-size="17" font-weight="bold" text-anchor="middle">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<text x="{:.0}" y="46" text-anchor="middle" fill="#444">{}</text>"##,
        width / 2.0,
        escape(subtitle)
    );

    // Bands, highest first, shaded from their threshold to the next band's.
    let mut sorted: Vec<&RatingBand> = bands.iter().collect();
    sorted.sort_by_key(|b| std::cmp::Reverse(b.min_index));
    let mut upper = axis_max;
    for (i, band) in sorted.iter().enumerate() {
        let (x0, x1) = (x(band.min_index), x(upper));
        let _ = write!(
            svg,
            r#"<rect x="{x0:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} ≥ {}</title></rect>"#,
            (x1 - x0).max(0.0),
            plot_bottom - top,
            BAND_COLOURS[i % BAND_COLOURS.len()],
            escape(&band.label),
            band.min_index.normalize()
        );
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#555" text-anchor="middle">{}</text>"##,
            (x0 + x1) / 2.0,
            top - 6.0,
            escape(&band.label)
        );
        upper = band.min_index;
    }

    // Axis with ticks every 10 points.
    let mut tick = 0;
    while f64::from(tick) <= max + 0.001 {
        let tx = left + plot_width * f64::from(tick) / max;
        let _ = write!(
            svg,
            r##"<line x1="{tx:.1}" y1="{top:.1}" x2="{tx:.1}" y2="{plot_bottom:.1}" stroke="#ccc" stroke-width="0.5"/><text x="{tx:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#555">{tick}</text>"##,
            plot_bottom + 16.0
        );
        tick += 10;
    }

    for (i, bar) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let bar_end = x(bar.index);
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}. {}</text>"#,
            left - 8.0,
            y + row * 0.65,
            bar.rank,
            escape(&bar.name)
        );
        let _ = write!(
            svg,
            r##"<rect x="{left:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#1565c0" fill-opacity="0.85"><title>{}: {}</title></rect>"##,
            y + 4.0,
            (bar_end - left).max(0.0),
            row - 8.0,
            escape(&bar.name),
            bar.index
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            bar_end + 6.0,
            y + row * 0.65,
            bar.index
        );
        if let Some(previous) = bar.previous_index {
            let px = x(previous);
            let cy = y + row / 2.0;
            let _ = write!(
                svg,
                r##"<path d="M {:.1} {:.1} L {:.1} {cy:.1} L {:.1} {:.1} L {:.1} {cy:.1} Z" fill="#e65100" stroke="white" stroke-width="1"><title>{}</title></path>"##,
                px,
                cy - 6.0,
                px + 6.0,
                px,
                cy + 6.0,
                px - 6.0,
                escape(&format!("năm trước: {previous}"))
            );
        }
    }
    let ly = plot_bottom + 38.0;
    let _ = write!(
        svg,
        r##"<rect x="{left:.1}" y="{:.1}" width="14" height="10" fill="#1565c0"/><text x="{:.1}" y="{ly:.1}" font-size="12">Chỉ số năm nay</text><path d="M {:.1} {:.1} l 6 6 l -6 6 l -6 -6 Z" fill="#e65100"/><text x="{:.1}" y="{ly:.1}" font-size="12">Chỉ số năm trước</text>"##,
        ly - 9.0,
        left + 20.0,
        left + 150.0,
        ly - 11.0,
        left + 162.0
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_chart_names_every_unit_and_marks_last_year() {
        let svg = ranking_svg(
            "Chỉ số CCHC năm 2023",
            "Huyện Vĩnh Linh",
            &[
                Bar {
                    rank: 1,
                    name: "Thị trấn Hồ Xá".into(),
                    index: dec!(93.10),
                    previous_index: Some(dec!(91)),
                },
                Bar {
                    rank: 2,
                    name: "Xã <Vĩnh> Long & Co".into(),
                    index: dec!(88.25),
                    previous_index: None,
                },
            ],
            &[RatingBand {
                label: "Tốt".into(),
                min_index: dec!(90),
            }],
            dec!(103),
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("1. Thị trấn Hồ Xá"));
        assert!(
            svg.contains("Xã &lt;Vĩnh&gt; Long &amp; Co"),
            "names are escaped"
        );
        assert!(svg.contains("năm trước: 91"));
        assert!(svg.contains("Tốt ≥ 90"));
        assert_eq!(
            svg.matches("<path").count(),
            2,
            "one marker and the legend's"
        );
    }
}
