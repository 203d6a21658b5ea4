//! The brief's one chart: volume as stacked bars (negative at the bottom) with net sentiment
//! as a line on a second axis, over the brief's window. SVG through plotters in the style of
//! src/charts.rs; PNG drawn into a pixel buffer (no fonts needed: the PNG carries the picture,
//! the Markdown around it carries the words).

use plotters::prelude::*;

use super::model::Point;
use crate::charts::{hhmm, BG, NEG, NEU, POS};

#[derive(Debug, thiserror::Error)]
#[error("the handoff chart could not be drawn: {0}")]
pub struct ChartError(String);

const FG: RGBColor = RGBColor(214, 222, 235);
const GRID: RGBColor = RGBColor(40, 50, 72);
const LINE: RGBColor = RGBColor(76, 201, 240);

fn err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("{e:?}"))
}

fn y_max(series: &[Point]) -> i64 {
    let m = series.iter().map(|p| p.total).max().unwrap_or(0).max(4);
    m + m / 8 + 1
}

/// Volume bars and the net sentiment line, labelled in the site's UTC offset.
pub fn svg(
    series: &[Point],
    width: u32,
    height: u32,
    offset_secs: i32,
) -> Result<String, ChartError> {
    let (width, height) = (width.clamp(300, 4000), height.clamp(160, 2400));
    let n = series.len().max(1) as i64;
    let top = y_max(series);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&BG).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .right_y_label_area_size(70)
            .build_cartesian_2d(0..n, 0..top)
            .map_err(err)?
            .set_secondary_coord(0..n, -100.0..100.0);
        let times: Vec<i64> = series.iter().map(|p| p.t).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(GRID.stroke_width(2))
            .label_style(("sans-serif", 22).into_font().color(&FG))
            .x_labels(7)
            .y_labels(5)
            .y_desc("mentions")
            .x_label_formatter(&|i| {
                times
                    .get(*i as usize)
                    .map(|t| hhmm(*t, offset_secs))
                    .unwrap_or_default()
            })
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .axis_style(GRID.stroke_width(2))
            .label_style(("sans-serif", 22).into_font().color(&LINE))
            .y_labels(5)
            .y_desc("net sentiment")
            .y_label_formatter(&|v| format!("{v:+.0}"))
            .draw()
            .map_err(err)?;
        for (i, p) in series.iter().enumerate() {
            let x = i as i64;
            let mut base = 0;
            for (v, color) in [(p.negative, NEG), (p.neutral, NEU), (p.positive, POS)] {
                if v > 0 {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x, base), (x + 1, base + v)],
                            color.filled(),
                        )))
                        .map_err(err)?;
                    base += v;
                }
            }
        }
        chart
            .draw_secondary_series(LineSeries::new(
                [(0, 0.0), (n, 0.0)],
                NEU.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_secondary_series(LineSeries::new(
                series
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.total > 0)
                    .map(|(i, p)| (i as i64, p.net.clamp(-100.0, 100.0))),
                LINE.stroke_width(4),
            ))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// The same picture as a PNG (RGB, 8 bit): bars, the zero line and the net sentiment line.
pub fn png(series: &[Point], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let (w, h) = (
        width.clamp(300, 4000) as i64,
        height.clamp(160, 2400) as i64,
    );
    let mut px = vec![0u8; (w * h * 3) as usize];
    let mut put = |x: i64, y: i64, c: RGBColor| {
        if (0..w).contains(&x) && (0..h).contains(&y) {
            let i = ((y * w + x) * 3) as usize;
            px[i..i + 3].copy_from_slice(&[c.0, c.1, c.2]);
        }
    };
    for y in 0..h {
        for x in 0..w {
            put(x, y, BG);
        }
    }
    let (l, r, t, b) = (24, w - 24, 24, h - 24);
    let n = series.len().max(1) as i64;
    let top = y_max(series) as f64;
    let bar_w = ((r - l) / n).max(1);
    let y_of = |v: f64| b - ((v / top) * (b - t) as f64).round() as i64;
    for k in 0..=4 {
        let y = t + (b - t) * k / 4;
        for x in l..r {
            put(x, y, GRID);
        }
    }
    for (i, p) in series.iter().enumerate() {
        let x0 = l + i as i64 * bar_w;
        let mut base = 0.0;
        for (v, color) in [(p.negative, NEG), (p.neutral, NEU), (p.positive, POS)] {
            if v <= 0 {
                continue;
            }
            let (y1, y0) = (y_of(base + v as f64), y_of(base));
            for y in y1..y0 {
                for x in x0..(x0 + bar_w - 1).max(x0 + 1) {
                    put(x, y, color);
                }
            }
            base += v as f64;
        }
    }
    // Net sentiment on its own scale: -100 at the bottom, +100 at the top.
    let y_net = |v: f64| t + (((100.0 - v.clamp(-100.0, 100.0)) / 200.0) * (b - t) as f64) as i64;
    for x in l..r {
        put(x, y_net(0.0), NEU);
    }
    let pts: Vec<(i64, i64)> = series
        .iter()
        .enumerate()
        .filter(|(_, p)| p.total > 0)
        .map(|(i, p)| (l + i as i64 * bar_w + bar_w / 2, y_net(p.net)))
        .collect();
    for seg in pts.windows(2) {
        let ((x0, y0), (x1, y1)) = (seg[0], seg[1]);
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        for s in 0..=steps {
            let x = x0 + (x1 - x0) * s / steps;
            let y = y0 + (y1 - y0) * s / steps;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    put(x + dx, y + dy, LINE);
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(err)?;
        wr.write_image_data(&px).map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Vec<Point> {
        (0..12)
            .map(|i| Point {
                t: 1_700_000_000_000 + i * 900_000,
                total: 10 + i,
                negative: 3,
                neutral: 5,
                positive: 2 + i,
                net: (i as f64 - 1.0) * 5.0,
            })
            .collect()
    }

    #[test]
    fn svg_and_png_are_drawn() {
        let s = svg(&series(), 900, 360, 0).unwrap();
        assert!(s.starts_with("<svg") && s.contains("net sentiment"));
        let p = png(&series(), 900, 360).unwrap();
        assert_eq!(&p[1..4], b"PNG");
        // An empty window still draws (a quiet night is not an error).
        assert!(svg(&[], 900, 360, 0).is_ok());
        assert!(png(&[], 900, 360).is_ok());
    }
}
