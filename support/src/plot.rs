//! Drawing the measured comparison of chapter 6 as an SVG chart, from the CSV rows that
//! `loadgen --csv` writes: one panel per measure (messages per second, p99 latency, memory per
//! connection), concurrency on a logarithmic x axis, one line per model. Plain SVG text, no
//! dependency: a browser, or the book, shows it as it is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One measured run: a CSV row of `loadgen`.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub label: String,
    pub connections: f64,
    pub held: f64,
    pub msg_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: f64,
    pub rss_per_conn_kib: f64,
    pub pss_per_conn_kib: f64,
}

/// Reads `loadgen`'s CSV (header first). Rows that do not parse are reported, not skipped.
pub fn parse(csv: &str) -> Result<Vec<Row>, String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("the file is empty")?
        .split(',')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("no column {name:?} in the header"))
    };
    let cols = [
        "label",
        "connections",
        "held",
        "msg_per_s",
        "p50_us",
        "p99_us",
        "errors",
        "rss_per_conn_kib",
        "pss_per_conn_kib",
    ]
    .map(column);
    let mut at = [0usize; 9];
    for (i, c) in cols.into_iter().enumerate() {
        at[i] = c?;
    }
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let num = |i: usize| -> Result<f64, String> {
            fields
                .get(at[i])
                .and_then(|f| f.trim().parse().ok())
                .ok_or(format!("line {}: bad field {}", n + 2, i))
        };
        rows.push(Row {
            label: fields.get(at[0]).unwrap_or(&"").to_string(),
            connections: num(1)?,
            held: num(2)?,
            msg_per_s: num(3)?,
            p50_us: num(4)?,
            p99_us: num(5)?,
            errors: num(6)?,
            rss_per_conn_kib: num(7)?,
            pss_per_conn_kib: num(8)?,
        });
    }
    Ok(rows)
}

/// Which number of a row a panel shows.
type Measure = fn(&Row) -> f64;

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];
const PANEL_W: f64 = 300.0;
const PANEL_H: f64 = 220.0;
const MARGIN_L: f64 = 60.0;
const MARGIN_T: f64 = 40.0;
const GAP: f64 = 30.0;

/// The chart. Runs with errors are drawn hollow: that model did not serve that load.
pub fn svg(rows: &[Row], title: &str) -> String {
    let mut series: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        series.entry(r.label.as_str()).or_default().push(r);
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.connections.total_cmp(&b.connections));
    }
    let panels: [(&str, Measure); 3] = [
        ("messages per second", |r| r.msg_per_s),
        ("p99 latency (ms)", |r| r.p99_us / 1000.0),
        ("memory per connection (KiB, RSS)", |r| r.rss_per_conn_kib),
    ];
    let width = MARGIN_L + 3.0 * (PANEL_W + MARGIN_L) + GAP;
    let height = MARGIN_T + PANEL_H + 90.0;
    let (xmin, xmax) = rows.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
        (lo.min(r.connections), hi.max(r.connections))
    });
    let (lx0, lx1) = (xmin.max(1.0).log10().floor(), xmax.max(10.0).log10().ceil());
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{:.0}" y="20" font-size="15" text-anchor="middle">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    for (p, (name, value)) in panels.iter().enumerate() {
        let x0 = MARGIN_L + p as f64 * (PANEL_W + MARGIN_L);
        let y0 = MARGIN_T;
        let ymax = rows.iter().map(value).fold(0.0, f64::max).max(1e-9) * 1.1;
        let px = |c: f64| x0 + (c.max(1.0).log10() - lx0) / (lx1 - lx0).max(1e-9) * PANEL_W;
        let py = |v: f64| y0 + PANEL_H - v / ymax * PANEL_H;
        let _ = writeln!(
            s,
            r##"<rect x="{x0:.1}" y="{y0:.1}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x0 + PANEL_W / 2.0,
            y0 - 8.0,
            escape(name)
        );
        let mut decade = lx0;
        while decade <= lx1 {
            let c = 10f64.powf(decade);
            let x = px(c);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{c:.0}</text>"##,
                y0,
                y0 + PANEL_H,
                y0 + PANEL_H + 15.0
            );
            decade += 1.0;
        }
        for t in 0..=4 {
            let v = ymax / 1.1 * t as f64 / 4.0;
            let y = py(v);
            let _ = writeln!(
                s,
                r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                x0 + PANEL_W,
                x0 - 4.0,
                y + 4.0,
                short(v)
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">concurrent connections</text>"#,
            x0 + PANEL_W / 2.0,
            y0 + PANEL_H + 32.0
        );
        for (k, (_, points)) in series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let path: Vec<String> = points
                .iter()
                .map(|r| format!("{:.1},{:.1}", px(r.connections), py(value(r))))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                path.join(" ")
            );
            for r in points {
                let fill = if r.errors > 0.0 { "white" } else { color };
                let _ = writeln!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{fill}" stroke="{color}"/>"#,
                    px(r.connections),
                    py(value(r))
                );
            }
        }
    }
    for (k, label) in series.keys().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let x = MARGIN_L + k as f64 * 160.0;
        let y = height - 14.0;
        let _ = writeln!(
            s,
            r#"<line x1="{x:.0}" y1="{:.0}" x2="{:.0}" y2="{:.0}" stroke="{color}" stroke-width="3"/><text x="{:.0}" y="{y:.0}">{}</text>"#,
            y - 4.0,
            x + 24.0,
            y - 4.0,
            x + 30.0,
            escape(label)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.0}" y="{:.0}" text-anchor="end" fill="#666">hollow point: the run had errors</text>"##,
        width - 10.0,
        height - 14.0
    );
    s.push_str("</svg>\n");
    s
}

fn short(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "label,connections,messages,think_ms,held,conn_per_s,msg_per_s,p50_us,\
        p99_us,max_us,errors,rss_kib,pss_kib,rss_per_conn_kib,pss_per_conn_kib\n\
        poll,100,10,0,100,5000,40000,200,900,1500,0,3000,2000,0.5,0.4\n\
        poll,1000,10,0,1000,5000,38000,300,1900,2500,0,4000,3000,0.6,0.5\n\
        threads,100,10,0,100,5000,30000,250,1200,2000,3,9000,8000,12.0,11.0\n";

    #[test]
    fn reads_the_rows_loadgen_writes() {
        let rows = parse(CSV).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].label, "poll");
        assert_eq!(rows[1].connections, 1000.0);
        assert_eq!(rows[2].errors, 3.0);
        assert!(parse("label\nx").is_err());
    }

    #[test]
    fn draws_a_line_per_model_and_a_point_per_run() {
        let chart = svg(&parse(CSV).unwrap(), "a <test>");
        assert!(chart.starts_with("<svg"));
        assert_eq!(chart.matches("<polyline").count(), 2 * 3);
        assert_eq!(chart.matches("<circle").count(), 3 * 3);
        // The run with errors is hollow in every panel.
        assert_eq!(chart.matches(r#"fill="white" stroke"#).count(), 3);
        assert!(chart.contains("a &lt;test&gt;"));
    }
}
