//! Charts rendered by plotters as SVG strings: the same picture on the wall, in a browser and in
//! exported reports, and snapshot-testable in `cargo test`.
//!
//! Styled for a wall seen from 5 m: dark ground, thick marks, labels of 26 px and more.

use plotters::prelude::*;

use crate::store::{Counts, MinuteCounts};

pub const BG: RGBColor = RGBColor(11, 16, 32);
const FG: RGBColor = RGBColor(214, 222, 235);
const GRID: RGBColor = RGBColor(40, 50, 72);
pub const NEG: RGBColor = RGBColor(255, 93, 93);
pub const NEU: RGBColor = RGBColor(138, 148, 166);
pub const POS: RGBColor = RGBColor(61, 220, 151);
/// Indexed by [`Counts::stacked`]'s label index.
const LABEL_COLORS: [RGBColor; 3] = [NEG, NEU, POS];
const LINE: RGBColor = RGBColor(76, 201, 240);

#[derive(Debug, thiserror::Error)]
#[error("chart could not be drawn: {0}")]
pub struct ChartError(String);

fn err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("{e:?}"))
}

/// Size limits: a wall is at most 8K wide; anything bigger is a mistake, not a chart.
fn clamp_size(w: u32, h: u32) -> (u32, u32) {
    (w.clamp(200, 7680), h.clamp(120, 4320))
}

/// `HH:MM` of a millisecond timestamp in the given offset (seconds east of UTC).
pub fn hhmm(ms: i64, offset_secs: i32) -> String {
    let t = ms.div_euclid(1000) + offset_secs as i64;
    let m = t.div_euclid(60).rem_euclid(24 * 60);
    format!("{:02}:{:02}", m / 60, m % 60)
}

pub use crate::store::bucketize_counts as bucketize;

/// Stacked bars per bucket: negative at the bottom (it matters most), then neutral, positive.
pub fn volume_svg(
    series: &[MinuteCounts],
    width: u32,
    height: u32,
    offset_secs: i32,
) -> Result<String, ChartError> {
    let (width, height) = clamp_size(width, height);
    let n = series.len().max(1) as i64;
    let max = series
        .iter()
        .map(|m| m.counts.total)
        .max()
        .unwrap_or(0)
        .max(4);
    let y_max = max + max / 8 + 1;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&BG).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(90)
            .build_cartesian_2d(0..n, 0..y_max)
            .map_err(err)?;
        let times: Vec<i64> = series.iter().map(|m| m.t).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(GRID.stroke_width(2))
            .label_style(("sans-serif", 30).into_font().color(&FG))
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|i| {
                times
                    .get(*i as usize)
                    .map(|t| hhmm(*t, offset_secs))
                    .unwrap_or_default()
            })
            .y_label_formatter(&|v| format!("{v}"))
            .draw()
            .map_err(err)?;
        for (i, m) in series.iter().enumerate() {
            let x = i as i64;
            chart
                .draw_series(m.counts.stacked().map(|(a, b, l)| {
                    let mut r = Rectangle::new([(x, a), (x + 1, b)], LABEL_COLORS[l].filled());
                    r.set_margin(0, 0, 1, 1);
                    r
                }))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// Net sentiment (-100..100) over time, with the zero line drawn.
pub fn sentiment_svg(
    trend: &[(i64, f64)],
    width: u32,
    height: u32,
    offset_secs: i32,
) -> Result<String, ChartError> {
    let (width, height) = clamp_size(width, height);
    let n = trend.len().max(2) as i64;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&BG).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(90)
            .build_cartesian_2d(0..n - 1, -100.0..100.0)
            .map_err(err)?;
        let times: Vec<i64> = trend.iter().map(|p| p.0).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(GRID.stroke_width(2))
            .label_style(("sans-serif", 30).into_font().color(&FG))
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|i| {
                times
                    .get(*i as usize)
                    .map(|t| hhmm(*t, offset_secs))
                    .unwrap_or_default()
            })
            .y_label_formatter(&|v| format!("{v:+.0}"))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                [(0, 0.0), (n - 1, 0.0)],
                NEU.stroke_width(2),
            ))
            .map_err(err)?;
        let points: Vec<(i64, f64)> = trend
            .iter()
            .enumerate()
            .map(|(i, p)| (i as i64, p.1.clamp(-100.0, 100.0)))
            .collect();
        chart
            .draw_series(
                AreaSeries::new(points.iter().copied(), 0.0, LINE.mix(0.18))
                    .border_style(LINE.stroke_width(5)),
            )
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// Horizontal bars, one per row (channel or topic), split by label.
pub fn bars_svg(rows: &[(String, Counts)], width: u32, height: u32) -> Result<String, ChartError> {
    let (width, height) = clamp_size(width, height);
    let rows: Vec<&(String, Counts)> = rows.iter().take(10).collect();
    let n = rows.len().max(1) as i64;
    let max = rows.iter().map(|r| r.1.total).max().unwrap_or(0).max(1);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&BG).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(200)
            .build_cartesian_2d(0..max + max / 10 + 1, 0..n)
            .map_err(err)?;
        let names: Vec<String> = rows.iter().map(|r| truncate(&r.0, 14)).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(GRID.stroke_width(2))
            .label_style(("sans-serif", 30).into_font().color(&FG))
            .y_labels(n as usize + 1)
            .x_labels(5)
            .y_label_formatter(&|i| {
                names
                    .get((n - 1 - *i) as usize)
                    .cloned()
                    .unwrap_or_default()
            })
            .draw()
            .map_err(err)?;
        for (i, (_, c)) in rows.iter().enumerate() {
            let y = n - 1 - i as i64;
            chart
                .draw_series(c.stacked().map(|(a, b, l)| {
                    let mut r = Rectangle::new([(a, y), (b, y + 1)], LABEL_COLORS[l].filled());
                    r.set_margin(6, 6, 0, 0);
                    r
                }))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// Horizontal bars of one measure per row (a KPI per brand, agent or reason), with the
/// measure's name and unit in a caption, e.g. "First response, median (min)". Rows beyond 12
/// are left out (a wall reads a dozen bars, not fifty); values must be finite and >= 0.
pub fn value_bars_svg(
    caption: &str,
    rows: &[(String, f64)],
    width: u32,
    height: u32,
) -> Result<String, ChartError> {
    let (width, height) = clamp_size(width, height);
    let rows: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.1.is_finite() && r.1 >= 0.0)
        .take(12)
        .cloned()
        .collect();
    let n = rows.len().max(1) as i64;
    let max = rows.iter().map(|r| r.1).fold(0.0f64, f64::max).max(1e-9);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&BG).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 32).into_font().color(&FG))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(220)
            // Segmented rows: each label sits in the middle of its bar.
            .build_cartesian_2d(0.0..max * 1.1, (0..n).into_segmented())
            .map_err(err)?;
        let names: Vec<String> = rows.iter().map(|r| truncate(&r.0, 16)).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(GRID.stroke_width(2))
            .label_style(("sans-serif", 28).into_font().color(&FG))
            .y_labels(n as usize + 1)
            .x_labels(5)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names
                    .get((n - 1 - *i) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|x| {
                if max >= 10.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.1}")
                }
            })
            .draw()
            .map_err(err)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
                let y = n - 1 - i as i64;
                let mut r = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (*v, SegmentValue::Exact(y + 1)),
                    ],
                    LINE.filled(),
                );
                r.set_margin(6, 6, 0, 0);
                r
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Vec<MinuteCounts> {
        (0..60)
            .map(|i| MinuteCounts {
                t: 1_700_000_000_000 + i * 60_000,
                counts: Counts {
                    total: i * 3,
                    negative: i,
                    neutral: i,
                    positive: i,
                },
            })
            .collect()
    }

    #[test]
    fn volume_chart_is_svg_with_one_bar_layer_per_nonzero_count() {
        let svg = volume_svg(&series(), 1200, 500, 0).expect("chart");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        // 59 non-empty minutes x 3 labels, each a filled rect, plus the background.
        let rects = svg.matches("<rect").count();
        assert!(rects >= 59 * 3, "{rects} rects");
        assert!(
            svg.contains("fill=\"#FF5D5D\"") || svg.contains("#ff5d5d"),
            "negative colour missing"
        );
    }

    #[test]
    fn hostile_topic_names_are_escaped_in_svg() {
        let rows = vec![(
            "<script>x</script>".to_string(),
            Counts {
                total: 3,
                negative: 1,
                neutral: 1,
                positive: 1,
            },
        )];
        let svg = bars_svg(&rows, 800, 400).expect("chart");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn empty_series_still_draw() {
        assert!(volume_svg(&[], 800, 400, 0).is_ok());
        assert!(sentiment_svg(&[], 800, 400, 0).is_ok());
        assert!(bars_svg(&[], 800, 400).is_ok());
    }

    #[test]
    fn buckets_sum_minutes() {
        let b = bucketize(&series(), 15);
        assert_eq!(b.len(), 4);
        assert_eq!(b[0].counts.total, (0..15).map(|i| i * 3).sum::<i64>());
        assert_eq!(b[1].t, 1_700_000_000_000 + 15 * 60_000);
    }

    #[test]
    fn hhmm_wraps_days_and_offsets() {
        assert_eq!(hhmm(0, 0), "00:00");
        assert_eq!(hhmm(0, 5 * 3600 + 1800), "05:30");
        assert_eq!(hhmm(-60_000, 0), "23:59");
    }

    #[test]
    fn value_bars_label_every_row_and_skip_values_that_are_not_numbers() {
        let rows = vec![
            ("AskPayPal".to_string(), 4.5),
            ("<script>x</script>".to_string(), 12.0),
            ("nan".to_string(), f64::NAN),
            ("negative".to_string(), -1.0),
        ];
        let svg = value_bars_svg("First response, median (min)", &rows, 800, 400).unwrap();
        assert!(svg.contains("AskPayPal"));
        assert!(svg.contains("First response, median (min)"));
        assert!(!svg.contains("<script>"), "labels are escaped text");
        assert!(!svg.contains(">nan<") && !svg.contains(">negative<"));
        assert!(value_bars_svg("empty", &[], 800, 400).is_ok());
    }
}
