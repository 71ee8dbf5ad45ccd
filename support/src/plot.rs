//! Drawing the measured comparison of chapter 6, from the CSV rows that `loadgen --csv` writes,
//! as an SVG chart and as a Markdown table. Plain SVG text, no dependency: a browser, or the
//! book, shows it as it is.
//!
//! A point of the comparison (one model, one number of connections, one load) is usually
//! measured several times: its rows are taken together, and the chart and the table show their
//! **median**, with the lowest and the highest as the spread (a bar on the chart, `(low–high)`
//! in the table). The chart has one panel per measure (messages per second, p50 and p99
//! latency, memory per connection as PSS), concurrency on a logarithmic x axis and one line per
//! model. A measure whose values span more than a factor of ten gets a logarithmic y axis too,
//! so that a model a hundred times costlier does not flatten the others into the floor.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One measured run: a CSV row of `loadgen`.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub label: String,
    pub connections: f64,
    pub messages: f64,
    pub think_ms: f64,
    pub held: f64,
    pub msg_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: f64,
    /// The server's RSS with every connection open, in KiB; 0 when it was not measured (no
    /// pid given, or the server never served every connection once).
    pub rss_kib: f64,
    pub rss_per_conn_kib: f64,
    pub pss_per_conn_kib: f64,
    /// Echoes that came back right; `None` in CSV files from before loadgen wrote it.
    pub replies: Option<f64>,
}

/// Reads `loadgen`'s CSV (header first). Rows that do not parse are reported, not skipped.
pub fn parse(csv: &str) -> Result<Vec<Row>, String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("the file is empty")?
        .split(',')
        .map(str::trim)
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("no column {name:?} in the header"))
    };
    const NAMES: [&str; 12] = [
        "label",
        "connections",
        "messages",
        "think_ms",
        "held",
        "msg_per_s",
        "p50_us",
        "p99_us",
        "errors",
        "rss_kib",
        "rss_per_conn_kib",
        "pss_per_conn_kib",
    ];
    let mut at = [0usize; NAMES.len()];
    for (i, name) in NAMES.iter().enumerate() {
        at[i] = column(name)?;
    }
    let replies_at = column("replies").ok();
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let field = |at: usize, name: &str| -> Result<f64, String> {
            let text = fields
                .get(at)
                .ok_or(format!("line {}: no field {name}", n + 2))?;
            text.parse()
                .map_err(|_| format!("line {}: {name} is {text:?}, not a number", n + 2))
        };
        let num = |i: usize| field(at[i], NAMES[i]);
        rows.push(Row {
            label: fields.get(at[0]).unwrap_or(&"").to_string(),
            connections: num(1)?,
            messages: num(2)?,
            think_ms: num(3)?,
            held: num(4)?,
            msg_per_s: num(5)?,
            p50_us: num(6)?,
            p99_us: num(7)?,
            errors: num(8)?,
            rss_kib: num(9)?,
            rss_per_conn_kib: num(10)?,
            pss_per_conn_kib: num(11)?,
            replies: replies_at.map(|at| field(at, "replies")).transpose()?,
        });
    }
    Ok(rows)
}

/// The median, lowest and highest of some runs' values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

impl Spread {
    /// `None` for no values. With an even count, the median is the mean of the middle two.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = values.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Spread {
            median,
            low: v[0],
            high: v[v.len() - 1],
        })
    }
}

/// The runs of one model at one load: one point of the chart, one line of the table.
#[derive(Clone, Debug)]
pub struct Point<'a> {
    /// The model's name, and the load when the file mixes several.
    pub series: String,
    pub label: &'a str,
    pub connections: f64,
    pub messages: f64,
    pub think_ms: f64,
    pub runs: Vec<&'a Row>,
}

impl Point<'_> {
    pub fn spread(&self, measure: impl Fn(&Row) -> f64) -> Spread {
        Spread::of(self.runs.iter().map(|r| measure(r))).expect("a point has runs")
    }

    /// Errors over all runs.
    pub fn errors(&self) -> f64 {
        self.runs.iter().map(|r| r.errors).sum()
    }
}

/// Groups rows by model and load, in the order models first appear, then by think time and
/// connections. Runs with a think time and runs without are different loads: when the file holds
/// both, each model has a series for each, named by its think time. The number of messages per
/// connection may differ from one number of connections to the next (fewer messages on more
/// connections keep every run short), but runs of one point must agree on it.
pub fn points(rows: &[Row]) -> Vec<Point<'_>> {
    let mut thinks: Vec<u64> = rows.iter().map(|r| r.think_ms.to_bits()).collect();
    thinks.sort_unstable();
    thinks.dedup();
    let mixed = thinks.len() > 1;
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<(usize, u64, u64, u64), Point<'_>> = BTreeMap::new();
    for r in rows {
        let model = match order.iter().position(|l| *l == r.label) {
            Some(i) => i,
            None => {
                order.push(&r.label);
                order.len() - 1
            }
        };
        // These are whole numbers, not negative: their bits sort as they do.
        let key = (
            model,
            r.think_ms.to_bits(),
            r.connections.to_bits(),
            r.messages.to_bits(),
        );
        groups
            .entry(key)
            .or_insert_with(|| Point {
                series: if mixed {
                    format!("{} (think {} ms)", r.label, r.think_ms)
                } else {
                    r.label.clone()
                },
                label: &r.label,
                connections: r.connections,
                messages: r.messages,
                think_ms: r.think_ms,
                runs: Vec::new(),
            })
            .runs
            .push(r);
    }
    groups.into_values().collect()
}

/// Which number of a row a panel shows.
type Measure = fn(&Row) -> f64;

/// The panels: title, y axis title, short name, the measure.
const PANELS: [(&str, &str, &str, Measure); 4] = [
    ("Throughput", "messages per second", "messages/s", |r| {
        r.msg_per_s
    }),
    ("Median latency (p50)", "latency (ms)", "p50", |r| {
        r.p50_us / 1000.0
    }),
    ("Tail latency (p99)", "latency (ms)", "p99", |r| {
        r.p99_us / 1000.0
    }),
    (
        "Server memory per connection (PSS)",
        "KiB per connection",
        "memory",
        |r| {
            if r.rss_kib > 0.0 {
                r.pss_per_conn_kib
            } else {
                f64::NAN
            }
        },
    ),
];

/// The models of chapter 6 keep their colours whatever the file holds; others take the rest.
const MODEL_COLORS: [(&str, &str); 4] = [
    ("iterative", "#7f7f7f"),
    ("fork", "#d62728"),
    ("threads", "#1f77b4"),
    ("poll", "#2ca02c"),
];
const OTHER_COLORS: [&str; 4] = ["#9467bd", "#ff7f0e", "#8c564b", "#e377c2"];
const PANEL_W: f64 = 330.0;
const PANEL_H: f64 = 210.0;
const MARGIN_L: f64 = 80.0;
const MARGIN_R: f64 = 30.0;
const TITLE_H: f64 = 50.0;
const PANEL_GAP_V: f64 = 95.0;
const LEGEND_H: f64 = 70.0;

/// A y axis: logarithmic when the values span more than a factor of ten, linear from 0
/// otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Axis {
    /// Decades from 10^lo to 10^hi.
    Log { lo: f64, hi: f64 },
    /// From 0 to `top`, a tick every `step`.
    Linear { top: f64, step: f64 },
}

impl Axis {
    /// For positive values between `min` and `max`.
    fn fit(min: f64, max: f64) -> Axis {
        if min > 0.0 && max / min > 10.0 {
            let lo = min.log10().floor();
            let hi = max.log10().ceil().max(lo + 1.0);
            Axis::Log { lo, hi }
        } else {
            let max = if max > 0.0 { max } else { 1.0 };
            let raw = max / 4.0;
            let magnitude = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 2.5, 5.0, 10.0]
                .iter()
                .map(|m| m * magnitude)
                .find(|s| *s >= raw)
                .unwrap_or(10.0 * magnitude);
            Axis::Linear {
                top: (max / step).ceil() * step,
                step,
            }
        }
    }

    /// Where `v` sits, from 0 (bottom) to 1 (top); `None` for what this axis cannot show (0 or
    /// less on a log scale).
    fn position(&self, v: f64) -> Option<f64> {
        match *self {
            Axis::Log { lo, hi } => (v > 0.0).then(|| (v.log10() - lo) / (hi - lo)),
            Axis::Linear { top, .. } => Some(v / top),
        }
    }

    /// Labelled ticks, then unlabelled ones (2 to 9 times each decade on a log axis).
    fn ticks(&self) -> (Vec<f64>, Vec<f64>) {
        match *self {
            Axis::Log { lo, hi } => {
                let decades: Vec<f64> = (lo as i32..=hi as i32).map(|d| 10f64.powi(d)).collect();
                let minor = decades[..decades.len() - 1]
                    .iter()
                    .flat_map(|d| (2..10).map(move |m| d * m as f64))
                    .collect();
                (decades, minor)
            }
            Axis::Linear { top, step } => {
                let n = (top / step).round() as usize;
                ((0..=n).map(|i| i as f64 * step).collect(), Vec::new())
            }
        }
    }

    fn is_log(&self) -> bool {
        matches!(self, Axis::Log { .. })
    }
}

/// A tick label: 0.01, 0.1, 1, 10, 100, 1k, 10k, 100k, 1M.
fn tick_label(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

/// A number with no trailing zeros: 0.5, 2, 12.5.
fn trim(v: f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn color_of(label: &str, others: &mut Vec<String>) -> String {
    if let Some((_, c)) = MODEL_COLORS.iter().find(|(m, _)| *m == label) {
        return c.to_string();
    }
    let i = match others.iter().position(|o| o == label) {
        Some(i) => i,
        None => {
            others.push(label.to_string());
            others.len() - 1
        }
    };
    OTHER_COLORS[i % OTHER_COLORS.len()].to_string()
}

/// The chart: four panels in a 2 by 2 grid, and a legend. Each point is the median of its
/// runs, with a bar from the lowest to the highest run; a point whose runs had errors is drawn
/// hollow (that model did not serve that load); a value this scale cannot show (0 on a log
/// axis) is left out, and the footnote says so.
pub fn svg(rows: &[Row], title: &str) -> String {
    let points = points(rows);
    let mut series: Vec<(&str, &str, Vec<&Point<'_>>)> = Vec::new();
    for p in &points {
        match series.iter_mut().find(|(s, _, _)| *s == p.series) {
            Some((_, _, v)) => v.push(p),
            None => series.push((&p.series, p.label, vec![p])),
        }
    }
    let mut others = Vec::new();
    let colors: Vec<String> = series
        .iter()
        .map(|(_, label, _)| color_of(label, &mut others))
        .collect();
    let runs_per_point = Spread::of(points.iter().map(|p| p.runs.len() as f64));

    let width = MARGIN_L + 2.0 * (PANEL_W + MARGIN_L) + MARGIN_R - MARGIN_L / 2.0;
    let legend_y = TITLE_H + 2.0 * PANEL_H + PANEL_GAP_V + 40.0;
    let height = legend_y + LEGEND_H;
    let (xmin, xmax) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.connections), hi.max(p.connections))
    });
    // A little room either side, so that no point sits on the frame.
    let lx0 = xmin.max(1.0).log10() - 0.3;
    let lx1 = xmax.max(1.0).log10() + 0.3;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{:.0}" y="24" font-size="16" font-weight="bold" text-anchor="middle">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    // What a log axis could not show: which point, which panels.
    let mut left_out: Vec<(String, Vec<&str>)> = Vec::new();
    for (n, (name, unit, short, value)) in PANELS.iter().enumerate() {
        let x0 = MARGIN_L + (n % 2) as f64 * (PANEL_W + MARGIN_L);
        let y0 = TITLE_H + (n / 2) as f64 * (PANEL_H + PANEL_GAP_V);
        let shown: Vec<f64> = points
            .iter()
            .flat_map(|p| {
                let sp = p.spread(value);
                [sp.low, sp.high]
            })
            .filter(|v| *v > 0.0)
            .collect();
        let min = shown.iter().copied().fold(f64::MAX, f64::min);
        let max = shown.iter().copied().fold(0.0, f64::max);
        let axis = Axis::fit(min, max);
        let px = |c: f64| x0 + (c.max(1.0).log10() - lx0) / (lx1 - lx0) * PANEL_W;
        let py = |v: f64| axis.position(v).map(|f| y0 + PANEL_H - f * PANEL_H);

        let _ = writeln!(s, r#"<g class="panel" data-measure="{}">"#, escape(name));
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle">{}</text>"#,
            x0 + PANEL_W / 2.0,
            y0 - 10.0,
            escape(name)
        );
        // Grid and ticks.
        let (major, minor) = axis.ticks();
        for v in minor {
            if let Some(y) = py(v) {
                let _ = writeln!(
                    s,
                    r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#f0f0f0"/>"##,
                    x0 + PANEL_W
                );
            }
        }
        for v in major {
            if let Some(y) = py(v) {
                let _ = writeln!(
                    s,
                    r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#d8d8d8"/>"##,
                    x0 + PANEL_W
                );
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                    x0 - 6.0,
                    y + 4.0,
                    tick_label(v)
                );
            }
        }
        let mut decade = lx0.ceil();
        while decade <= lx1 {
            let c = 10f64.powf(decade);
            let x = px(c);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{:.1}" stroke="#d8d8d8"/>"##,
                y0 + PANEL_H
            );
            let _ = writeln!(
                s,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                y0 + PANEL_H + 16.0,
                tick_label(c)
            );
            decade += 1.0;
        }
        let _ = writeln!(
            s,
            r##"<rect x="{x0:.1}" y="{y0:.1}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/>"##
        );
        // Axis titles.
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">concurrent connections (log scale)</text>"#,
            x0 + PANEL_W / 2.0,
            y0 + PANEL_H + 34.0
        );
        let (tx, ty) = (x0 - 58.0, y0 + PANEL_H / 2.0);
        let scale = if axis.is_log() { " (log scale)" } else { "" };
        let _ = writeln!(
            s,
            r#"<text x="{tx:.1}" y="{ty:.1}" text-anchor="middle" transform="rotate(-90 {tx:.1} {ty:.1})">{}{scale}</text>"#,
            escape(unit)
        );
        // The series.
        for ((series_name, _, pts), color) in series.iter().zip(&colors) {
            let _ = writeln!(
                s,
                r#"<g class="series" data-model="{}">"#,
                escape(series_name)
            );
            let mut path: Vec<String> = Vec::new();
            let mut segments: Vec<Vec<String>> = Vec::new();
            for p in pts {
                let sp = p.spread(value);
                let x = px(p.connections);
                if sp.median.is_nan() {
                    // Not measured at all: nothing to draw, nothing to say.
                    if !path.is_empty() {
                        segments.push(std::mem::take(&mut path));
                    }
                    continue;
                }
                let Some(y) = py(sp.median) else {
                    let point = format!("{series_name} at {} connections", p.connections);
                    match left_out.iter_mut().find(|(pt, _)| *pt == point) {
                        Some((_, what)) => what.push(short),
                        None => left_out.push((point, vec![short])),
                    }
                    if !path.is_empty() {
                        segments.push(std::mem::take(&mut path));
                    }
                    continue;
                };
                path.push(format!("{x:.1},{y:.1}"));
                if let (Some(ylo), Some(yhi)) = (py(sp.low), py(sp.high))
                    && sp.high > sp.low
                {
                    let _ = writeln!(
                        s,
                        r#"<line x1="{x:.1}" y1="{ylo:.1}" x2="{x:.1}" y2="{yhi:.1}" stroke="{color}" stroke-width="1.5"/>"#
                    );
                    for yy in [ylo, yhi] {
                        let _ = writeln!(
                            s,
                            r#"<line x1="{:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{color}" stroke-width="1.5"/>"#,
                            x - 4.0,
                            x + 4.0
                        );
                    }
                }
                let fill = if p.errors() > 0.0 { "white" } else { color };
                let _ = writeln!(
                    s,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{fill}" stroke="{color}" stroke-width="1.5"><title>{}, {} connections: {} {} (median of {} runs)</title></circle>"#,
                    escape(series_name),
                    p.connections,
                    trim(sp.median),
                    escape(unit),
                    p.runs.len()
                );
            }
            segments.push(path);
            for seg in segments.iter().filter(|seg| seg.len() > 1) {
                let _ = writeln!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                    seg.join(" ")
                );
            }
            let _ = writeln!(s, "</g>");
        }
        let _ = writeln!(s, "</g>");
    }

    // The legend.
    let ly = legend_y;
    let _ = writeln!(s, r#"<g class="legend">"#);
    let mut x = MARGIN_L;
    for ((series_name, _, _), color) in series.iter().zip(&colors) {
        let _ = writeln!(
            s,
            r#"<line x1="{x:.0}" y1="{:.0}" x2="{:.0}" y2="{:.0}" stroke="{color}" stroke-width="3"/><circle cx="{:.0}" cy="{:.0}" r="4" fill="{color}"/><text x="{:.0}" y="{:.0}" font-size="13">{}</text>"#,
            ly + 12.0,
            x + 28.0,
            ly + 12.0,
            x + 14.0,
            ly + 12.0,
            x + 34.0,
            ly + 16.0,
            escape(series_name)
        );
        x += 40.0 + 8.0 * series_name.chars().count() as f64 + 30.0;
    }
    let runs = match runs_per_point {
        Some(r) if r.low == r.high && r.low > 1.0 => format!("the median of {} runs", r.low),
        Some(r) if r.high > 1.0 => format!("the median of {} to {} runs", r.low, r.high),
        _ => "one run".to_string(),
    };
    let bar = if runs_per_point.is_some_and(|r| r.high > 1.0) {
        "; bar: lowest to highest run"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        r##"<text x="{MARGIN_L:.0}" y="{:.0}" fill="#555">point: {runs}{bar}; hollow point: the runs had errors (that model did not serve that load)</text>"##,
        ly + 36.0
    );
    if !left_out.is_empty() {
        let what: Vec<String> = left_out
            .iter()
            .map(|(point, panels)| format!("{point} ({})", panels.join(", ")))
            .collect();
        let _ = writeln!(
            s,
            r##"<text x="{MARGIN_L:.0}" y="{:.0}" fill="#555">not drawn, being 0, which a log scale cannot show: {}</text>"##,
            ly + 54.0,
            escape(&what.join("; "))
        );
    }
    let _ = writeln!(s, "</g>");
    s.push_str("</svg>\n");
    s
}

/// The comparison as a Markdown table, one line per model and load: median and (lowest–highest)
/// of the runs. Messages per second is left out when every run was paced by a think time, since
/// the think time then sets it.
pub fn table(rows: &[Row]) -> String {
    let points = points(rows);
    let paced = points.iter().all(|p| p.think_ms > 0.0);
    let mut t = String::new();
    let _ = write!(
        t,
        "| model | connections | runs | held | echoes right | errors |"
    );
    if !paced {
        let _ = write!(t, " messages per second |");
    }
    let _ = writeln!(
        t,
        " p50 (ms) | p99 (ms) | memory per connection, RSS / PSS (KiB) |"
    );
    let _ = write!(t, "| --- | ---: | ---: | ---: | ---: | ---: |");
    if !paced {
        let _ = write!(t, " ---: |");
    }
    let _ = writeln!(t, " ---: | ---: | ---: |");
    for p in &points {
        let expected = p.connections * p.messages;
        let held = p.spread(|r| r.held);
        let echoes = match p
            .runs
            .iter()
            .map(|r| r.replies)
            .collect::<Option<Vec<f64>>>()
        {
            Some(replies) => {
                let sp = Spread::of(replies).expect("a point has runs");
                format!("{} of {}", range(sp, thousands), thousands(expected))
            }
            None => "—".to_string(),
        };
        let _ = write!(
            t,
            "| {} | {} | {} | {} | {} | {} |",
            p.series,
            thousands(p.connections),
            p.runs.len(),
            range(held, thousands),
            echoes,
            thousands(p.errors()),
        );
        if !paced {
            let msgs = p.spread(|r| r.msg_per_s);
            let _ = write!(t, " {} |", with_spread(msgs, thousands));
        }
        let ms = |us: f64| us / 1000.0;
        // A run that served nothing measured no latency and no memory.
        let served = p.runs.iter().all(|r| r.replies.unwrap_or(1.0) > 0.0);
        let p50 = p.spread(|r| ms(r.p50_us));
        let p99 = p.spread(|r| ms(r.p99_us));
        let rss = p.spread(|r| r.rss_per_conn_kib);
        let pss = p.spread(|r| r.pss_per_conn_kib);
        let memory = if p.runs.iter().all(|r| r.rss_kib > 0.0) {
            format!("{} / {}", with_spread(rss, kib), with_spread(pss, kib))
        } else {
            "—".to_string()
        };
        let (p50, p99) = if served {
            (with_spread(p50, millis), with_spread(p99, millis))
        } else {
            ("—".to_string(), "—".to_string())
        };
        let _ = writeln!(t, " {p50} | {p99} | {memory} |");
    }
    t
}

/// `median (low–high)`, or the one value when every run gave the same.
fn with_spread(sp: Spread, format: fn(f64) -> String) -> String {
    let (m, lo, hi) = (format(sp.median), format(sp.low), format(sp.high));
    if lo == hi {
        m
    } else {
        format!("{m} ({lo}–{hi})")
    }
}

/// `low–high`, or the one value when every run gave the same.
fn range(sp: Spread, format: fn(f64) -> String) -> String {
    let (lo, hi) = (format(sp.low), format(sp.high));
    if lo == hi { lo } else { format!("{lo}–{hi}") }
}

/// A whole number with thousands separated: 82,789.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    if v < -0.5 { format!("-{out}") } else { out }
}

/// Milliseconds with about three significant digits: 0.12, 1.7, 54.1, 1,542.
fn millis(v: f64) -> String {
    if v >= 100.0 {
        thousands(v)
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn kib(v: f64) -> String {
    if v >= 100.0 {
        thousands(v)
    } else {
        format!("{v:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "label,connections,messages,think_ms,held,conn_per_s,msg_per_s,p50_us,\
        p99_us,max_us,errors,rss_kib,pss_kib,rss_per_conn_kib,pss_per_conn_kib,replies\n";
    const ROWS: &str = "\
        poll,100,20,0,100,5000,80000,200,900,1500,0,3000,2000,0.5,0.4,2000\n\
        poll,100,20,0,100,5000,90000,210,950,1500,0,3000,2000,0.5,0.4,2000\n\
        poll,100,20,0,100,5000,70000,190,990,1500,0,3000,2000,0.5,0.4,2000\n\
        poll,1000,20,0,1000,5000,38000,300,1900,2500,0,4000,3000,0.3,0.3,20000\n\
        threads,100,20,0,100,5000,60000,250,1200,2000,0,9000,8000,20.0,20.0,2000\n\
        threads,1000,20,0,1000,5000,41000,18000,54000,60000,0,9000,8000,19.0,19.0,20000\n\
        fork,100,20,0,100,5000,16000,1700,55000,60000,0,90000,8000,880.0,72.0,2000\n\
        iterative,100,20,0,100,5000,0,0,0,0,99,0,0,0,0,1\n";

    fn csv() -> String {
        format!("{HEADER}{ROWS}")
    }

    #[test]
    fn reads_the_rows_loadgen_writes() {
        let rows = parse(&csv()).unwrap();
        assert_eq!(rows.len(), 8);
        assert_eq!(rows[3].label, "poll");
        assert_eq!(rows[3].connections, 1000.0);
        assert_eq!(rows[7].errors, 99.0);
        assert_eq!(rows[7].replies, Some(1.0));
        assert!(parse("label\nx").is_err());
        // The header loadgen actually writes is understood.
        let header = format!("{}\n", crate::loadgen::Report::CSV_HEADER);
        assert!(parse(&header).unwrap().is_empty());
        // Files from before the replies column still read.
        let old = csv()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
            .collect::<String>();
        assert_eq!(parse(&old).unwrap()[0].replies, None);
    }

    #[test]
    fn runs_of_one_point_give_their_median_and_spread() {
        let rows = parse(&csv()).unwrap();
        let points = points(&rows);
        assert_eq!(points.len(), 6);
        assert_eq!(points[0].runs.len(), 3);
        let sp = points[0].spread(|r| r.msg_per_s);
        assert_eq!((sp.median, sp.low, sp.high), (80000.0, 70000.0, 90000.0));
        assert_eq!(Spread::of([1.0, 4.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert_eq!(Spread::of([]), None);
    }

    #[test]
    fn log_axes_for_values_that_span_orders_of_magnitude() {
        assert_eq!(Axis::fit(0.3, 880.0), Axis::Log { lo: -1.0, hi: 3.0 });
        let linear: Vec<String> = Axis::fit(0.25, 0.4)
            .ticks()
            .0
            .into_iter()
            .map(tick_label)
            .collect();
        assert_eq!(linear, ["0", "0.1", "0.2", "0.3", "0.4"]);
        let (major, minor) = Axis::Log { lo: 0.0, hi: 2.0 }.ticks();
        assert_eq!(major, vec![1.0, 10.0, 100.0]);
        assert_eq!(minor.len(), 16);
        assert_eq!(Axis::Log { lo: 0.0, hi: 2.0 }.position(0.0), None);
        let labels: Vec<String> = [0.01, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 2.5e4]
            .into_iter()
            .map(tick_label)
            .collect();
        assert_eq!(
            labels,
            [
                "0.01", "0.1", "1", "10", "100", "1k", "10k", "100k", "1M", "25k"
            ]
        );
    }

    /// A small XML checker: every tag closed in order, attributes quoted, and no stray `<` or
    /// `&` in text or values.
    fn check_well_formed(xml: &str) -> Result<(), String> {
        let mut open: Vec<String> = Vec::new();
        let mut rest = xml;
        let check_text = |text: &str| -> Result<(), String> {
            let mut t = text;
            while let Some(i) = t.find('&') {
                t = &t[i..];
                let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .find(|e| t.starts_with(**e))
                    .ok_or(format!("a bare & in {text:?}"))?;
                t = &t[entity.len()..];
            }
            Ok(())
        };
        while let Some(start) = rest.find('<') {
            check_text(&rest[..start])?;
            let end = rest[start..].find('>').ok_or("a tag that never ends")? + start;
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(o) if o == name => continue,
                    o => return Err(format!("</{name}> closes {o:?}")),
                }
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("a bad tag name in <{tag}>"));
            }
            let mut seen = Vec::new();
            loop {
                attrs = attrs.trim_start();
                if attrs.is_empty() {
                    break;
                }
                let (key, after) = attrs
                    .split_once("=\"")
                    .ok_or(format!("an unquoted attribute in <{tag}>"))?;
                if key.is_empty() || key.contains(|c: char| c.is_whitespace() || c == '"') {
                    return Err(format!("a bad attribute name {key:?} in <{tag}>"));
                }
                if seen.contains(&key) {
                    return Err(format!("attribute {key} twice in <{tag}>"));
                }
                seen.push(key);
                let close = after
                    .find('"')
                    .ok_or(format!("an attribute value that never ends in <{tag}>"))?;
                let value = &after[..close];
                if value.contains('<') {
                    return Err(format!("a < in an attribute value in <{tag}>"));
                }
                check_text(value)?;
                attrs = &after[close + 1..];
            }
            if !self_closing {
                open.push(name.to_string());
            }
        }
        check_text(rest)?;
        if rest.trim().is_empty() && open.is_empty() {
            Ok(())
        } else {
            Err(format!("left open: {open:?}"))
        }
    }

    #[test]
    fn the_checker_catches_what_it_should() {
        assert!(check_well_formed("<a><b x=\"1\"/></a>").is_ok());
        assert!(check_well_formed("<a><b></a>").is_err());
        assert!(check_well_formed("<a x=1></a>").is_err());
        assert!(check_well_formed("<a>x & y</a>").is_err());
        assert!(check_well_formed("<a>").is_err());
    }

    #[test]
    fn the_chart_is_well_formed_svg_with_every_model_in_every_panel() {
        let chart = svg(&parse(&csv()).unwrap(), "a <test> & more");
        check_well_formed(&chart).unwrap();
        assert!(chart.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(chart.contains("a &lt;test&gt; &amp; more"));
        for model in ["poll", "threads", "fork", "iterative"] {
            let series = format!(r#"<g class="series" data-model="{model}">"#);
            assert_eq!(chart.matches(&series).count(), 4, "{model}");
        }
        // One point per model and load in each panel, but for the iterative server: its latency
        // of 0 has no place on a log axis, and the footnote says so; its memory was not
        // measured (a 0 RSS), and is left out. Its 0 messages/s is on a linear axis (16k to 90k
        // is less than a factor of ten), drawn hollow.
        assert_eq!(chart.matches("</circle>").count(), 4 * 6 - 3);
        assert!(chart.contains("iterative at 100 connections (p50, p99)"));
        // poll at 100 has three runs that differ: a bar in every panel where they differ.
        assert!(chart.contains("bar: lowest to highest run"));
        // Memory spans 0.3 to 880 KiB: a log axis, labelled by decades.
        assert!(chart.contains("KiB per connection (log scale)"));
        for label in [">0.1<", ">1<", ">10<", ">100<", ">1k<"] {
            assert!(chart.contains(label), "{label}");
        }
        assert!(chart.contains("concurrent connections (log scale)"));
        // Lines: poll, threads (two points each) in each panel; fork and iterative have one.
        assert_eq!(chart.matches("<polyline").count(), 2 * 4);
    }

    #[test]
    fn the_table_shows_medians_and_spreads() {
        let table = table(&parse(&csv()).unwrap());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + 6, "{table}");
        assert!(lines[0].contains("messages per second"), "{table}");
        assert_eq!(
            lines[2],
            "| poll | 100 | 3 | 100 | 2,000 of 2,000 | 0 | 80,000 (70,000–90,000) | \
             0.20 (0.19–0.21) | 0.95 (0.90–0.99) | 0.5 / 0.4 |"
        );
        assert!(
            lines[7].starts_with("| iterative | 100 | 1 | 100 | 1 of 2,000 | 99 | 0 |"),
            "{table}"
        );
        // Paced runs: messages per second is the think time's, and left out.
        let both = format!("{}{}", csv(), ROWS.replace(",20,0,", ",5,1000,"));
        let both = super::table(&parse(&both).unwrap());
        assert!(both.contains("| poll (think 0 ms) | 100 | 3 |"), "{both}");
        assert!(
            both.contains("| poll (think 1000 ms) | 100 | 3 |"),
            "{both}"
        );
        let paced = csv().replace(",20,0,", ",5,1000,");
        assert!(!super::table(&parse(&paced).unwrap()).contains("messages per second"));
    }
}
