//! The report's charts, drawn with `plotters` on its SVG backend: one SVG per chart, with one
//! panel per policy side by side, every panel on the same axes so the policies compare at a
//! glance.

use plotters::prelude::*;
use serde::Serialize;

use chatctx::replay::Replay;

/// Width of one policy's panel, in pixels.
const PANEL_WIDTH: u32 = 440;
/// Height of a chart, title included.
const HEIGHT: u32 = 320;

// One colour per series, none of them grey or black (the axes and grid), so that the page's
// check can find a series by its colour.
const MISSES: RGBColor = RGBColor(0xE4, 0x57, 0x2E);
const HITS: RGBColor = RGBColor(0x4C, 0x9F, 0x70);
const SUMMARIZER: RGBColor = RGBColor(0x1F, 0x3A, 0x93);
const COST: RGBColor = RGBColor(0x7B, 0x2C, 0xBF);
const RETAINED: RGBColor = RGBColor(0x2E, 0x86, 0xAB);
const CLEARED: RGBColor = RGBColor(0xF2, 0xA5, 0x41);
const CAPPED: RGBColor = RGBColor(0x8C, 0x56, 0x4B);
const GRID: RGBColor = RGBColor(0xEE, 0xEE, 0xEE);
const GRID_BOLD: RGBColor = RGBColor(0xD8, 0xD8, 0xD8);

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    /// A filled area down to zero (an SVG `polygon`).
    Area,
    /// A line (an SVG `polyline`).
    Line,
    /// One dot per point (SVG `circle`s).
    Marks,
}

/// A series as the page's check expects to find it in the SVG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Expected {
    /// 0-based panel (policy) the series is drawn in.
    pub(crate) panel: usize,
    /// Legend label.
    pub(crate) label: &'static str,
    /// `#RRGGBB`, as the SVG backend writes it.
    pub(crate) color: String,
    /// How it is drawn.
    pub(crate) kind: Kind,
    /// Data points.
    pub(crate) points: usize,
}

/// One chart: its SVG and the series drawn in it.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// File stem of the chart (`prompt`, `cost`, ...).
    pub(crate) name: &'static str,
    /// Title drawn above the panels.
    pub(crate) title: String,
    /// The standalone SVG document.
    pub(crate) svg: String,
    /// Every series drawn, panel by panel, in drawing order.
    pub(crate) series: Vec<Expected>,
}

struct Series {
    label: &'static str,
    color: RGBColor,
    kind: Kind,
    points: Vec<(f64, f64)>,
}

impl Series {
    fn new(label: &'static str, color: RGBColor, kind: Kind, points: Vec<(f64, f64)>) -> Self {
        Series {
            label,
            color,
            kind,
            points,
        }
    }
}

/// What a chart shows of each request of a replay.
struct Spec {
    name: &'static str,
    title: String,
    y_desc: &'static str,
    format: fn(&f64) -> String,
    series: fn(&Replay) -> Vec<Series>,
}

/// The charts of a report: prompt tokens (cache hits and misses, summarizer calls marked),
/// cumulative cost when the model is priced, recent rounds retained, and for agent recordings
/// the tokens cleared or capped.
pub(crate) fn charts(replays: &[Replay], agent: bool) -> Result<Vec<Chart>, String> {
    let mut specs = vec![Spec {
        name: "prompt",
        title: "Prompt tokens per request: cache hits and misses, summarizer calls marked".into(),
        y_desc: "prompt tokens",
        format: count,
        series: prompt_series,
    }];
    let priced = replays
        .iter()
        .all(|replay| replay.turns.iter().all(|turn| turn.cost_usd.is_some()));
    if priced {
        specs.push(Spec {
            name: "cost",
            title: "Cumulative cost (USD)".into(),
            y_desc: "US dollars",
            format: |v| format!("{v:.4}"),
            series: cost_series,
        });
    }
    specs.push(Spec {
        name: "retained",
        title: "Recent rounds sent verbatim".into(),
        y_desc: "rounds",
        format: count,
        series: retained_series,
    });
    if agent {
        specs.push(Spec {
            name: "edits",
            title: "Tokens saved by clearing tool results and capping messages".into(),
            y_desc: "tokens",
            format: count,
            series: edit_series,
        });
    }
    specs.iter().map(|spec| draw(spec, replays)).collect()
}

/// A tick label of a count: whole numbers as such, fractions (on small axes) with one decimal.
fn count(value: &f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn x(turn: &chatctx::replay::Turn) -> f64 {
    turn.turn as f64
}

fn prompt_series(replay: &Replay) -> Vec<Series> {
    let turns = &replay.turns;
    vec![
        // the whole prompt in the misses' colour, the hits drawn over its lower part
        Series::new(
            "cache misses",
            MISSES,
            Kind::Area,
            turns
                .iter()
                .map(|t| (x(t), t.prompt_tokens as f64))
                .collect(),
        ),
        Series::new(
            "cache hits",
            HITS,
            Kind::Area,
            turns
                .iter()
                .map(|t| (x(t), t.cache_hit_tokens as f64))
                .collect(),
        ),
        Series::new(
            "summarizer call",
            SUMMARIZER,
            Kind::Marks,
            turns
                .iter()
                .filter(|t| t.summarizer_called)
                .map(|t| (x(t), t.prompt_tokens as f64))
                .collect(),
        ),
    ]
}

fn cost_series(replay: &Replay) -> Vec<Series> {
    let mut total = 0.0;
    let points = replay
        .turns
        .iter()
        .map(|t| {
            total += t.cost_usd.unwrap_or(0.0);
            (x(t), total)
        })
        .collect();
    vec![Series::new("cumulative cost", COST, Kind::Line, points)]
}

fn retained_series(replay: &Replay) -> Vec<Series> {
    let points = replay
        .turns
        .iter()
        .map(|t| (x(t), t.retained_rounds as f64))
        .collect();
    vec![Series::new("rounds retained", RETAINED, Kind::Line, points)]
}

fn edit_series(replay: &Replay) -> Vec<Series> {
    let turns = &replay.turns;
    vec![
        Series::new(
            "tokens cleared",
            CLEARED,
            Kind::Line,
            turns
                .iter()
                .map(|t| (x(t), t.tokens_cleared as f64))
                .collect(),
        ),
        Series::new(
            "tokens capped",
            CAPPED,
            Kind::Line,
            turns
                .iter()
                .map(|t| (x(t), t.tokens_capped as f64))
                .collect(),
        ),
    ]
}

fn hex(color: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2)
}

fn draw(spec: &Spec, replays: &[Replay]) -> Result<Chart, String> {
    let err = |e: DrawingAreaErrorKind<_>| format!("cannot draw the {} chart: {e}", spec.name);
    let panels: Vec<(String, Vec<Series>)> = replays
        .iter()
        .map(|replay| (replay.totals.policy.clone(), (spec.series)(replay)))
        .collect();
    // every panel on the same axes
    let requests = replays.iter().map(|r| r.turns.len()).max().unwrap_or(0);
    let x_range = 1.0..(requests.max(2) as f64);
    let top = panels
        .iter()
        .flat_map(|(_, series)| series.iter())
        .flat_map(|series| series.points.iter().map(|&(_, y)| y))
        .fold(0.0_f64, f64::max);
    // headroom above the data for the legend
    let y_range = 0.0..if top > 0.0 { top * 1.35 } else { 1.0 };
    let width = PANEL_WIDTH * u32::try_from(panels.len().max(1)).unwrap_or(1);
    let mut svg = String::new();
    let mut expected = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(&spec.title, ("sans-serif", 18)).map_err(err)?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (panel, (area, (policy, series))) in areas.iter().zip(&panels).enumerate() {
            let mut chart = ChartBuilder::on(area)
                .caption(policy, ("sans-serif", 15))
                .margin(8)
                .x_label_area_size(34)
                .y_label_area_size(62)
                .build_cartesian_2d(x_range.clone(), y_range.clone())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("request")
                .y_desc(spec.y_desc)
                .x_labels(6)
                .y_labels(6)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&spec.format)
                .light_line_style(GRID)
                .bold_line_style(GRID_BOLD)
                .draw()
                .map_err(err)?;
            for series in series {
                if series.points.is_empty() {
                    continue;
                }
                let color = series.color;
                let points = series.points.iter().copied();
                let drawn = match series.kind {
                    Kind::Area => chart.draw_series(AreaSeries::new(points, 0.0, color.mix(0.85))),
                    Kind::Line => chart.draw_series(LineSeries::new(points, color.stroke_width(2))),
                    Kind::Marks => {
                        chart.draw_series(points.map(|point| Circle::new(point, 4, color.filled())))
                    }
                }
                .map_err(err)?;
                drawn.label(series.label).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
                expected.push(Expected {
                    panel,
                    label: series.label,
                    color: hex(color),
                    kind: series.kind,
                    points: series.points.len(),
                });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(GRID_BOLD)
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(Chart {
        name: spec.name,
        title: spec.title.clone(),
        svg,
        series: expected,
    })
}
