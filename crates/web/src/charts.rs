//! ECharts options built in Rust: a page puts the JSON in a `data-chart` attribute and
//! `assets/charts.js` draws it (no inline scripts under our CSP). Colours follow the
//! CSS accent so charts and pages match.

use serde_json::{Value, json};

const PALETTE: [&str; 6] = [
    "#c0392b", "#2f6690", "#3a7d44", "#d68c45", "#6c5b7b", "#8d99ae",
];

/// A pie of named counts (sessions by form).
pub fn pie(title: &str, data: &[(String, i64)]) -> String {
    json!({
        "color": PALETTE,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"bottom": 0},
        "series": [{
            "type": "pie", "radius": ["35%", "65%"],
            "data": data.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<Value>>()
        }]
    })
    .to_string()
}

/// Horizontal bars of named counts (sessions by topic: long Chinese labels read better
/// across than under a column).
pub fn hbar(title: &str, data: &[(String, i64)]) -> String {
    json!({
        "color": PALETTE,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 24, "bottom": 8, "top": 36, "containLabel": true},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": true,
                  "axisLabel": {"width": 180, "overflow": "truncate", "interval": 0},
                  "data": data.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()},
        "series": [{"type": "bar", "data": data.iter().map(|(_, v)| *v).collect::<Vec<_>>()}]
    })
    .to_string()
}

/// Rates 0–1 per category as percentage columns (attendance by grade or class). The
/// values are percent (72.3 for 0.723) on an axis fixed at 0–100, each bar labelled
/// with the same figure the page prints, so bar and text cannot disagree.
pub fn rate_bars(title: &str, data: &[(String, f64)]) -> String {
    json!({
        "color": PALETTE,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        // ECharts takes a string `formatter` (a `valueFormatter` must be a function).
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}%"},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 36, "containLabel": true},
        "xAxis": {"type": "category", "axisLabel": {"rotate": if data.len() > 8 { 45 } else { 0 }},
                  "data": data.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [{"type": "bar",
                    "label": {"show": true, "position": "top", "formatter": "{c}%"},
                    "data": data.iter().map(|(_, r)| percent_value(*r)).collect::<Vec<_>>()}]
    })
    .to_string()
}

/// A rate 0–1 as a percentage with one decimal, inside 0–100 (a rate is never more
/// than everyone, and a NaN from 0/0 is none).
pub fn percent_value(rate: f64) -> f64 {
    if rate.is_nan() {
        return 0.0;
    }
    ((rate.clamp(0.0, 1.0)) * 1000.0).round() / 10.0
}

/// Months on x with two series: sessions held (bars) and attendances (line).
pub fn monthly(title: &str, labels: [&str; 2], months: &[(String, i64, i64)]) -> String {
    json!({
        "color": PALETTE,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 8, "bottom": 32, "top": 36, "containLabel": true},
        "xAxis": {"type": "category", "data": months.iter().map(|m| m.0.clone()).collect::<Vec<_>>()},
        "yAxis": [{"type": "value", "minInterval": 1}, {"type": "value", "minInterval": 1}],
        "series": [
            {"name": labels[0], "type": "bar", "data": months.iter().map(|m| m.1).collect::<Vec<_>>()},
            {"name": labels[1], "type": "line", "yAxisIndex": 1, "smooth": true,
             "data": months.iter().map(|m| m.2).collect::<Vec<_>>()}
        ]
    })
    .to_string()
}

/// Progress against a yearly target: one bar per school stacked into the total, and a
/// line at the target.
pub fn against_target(title: &str, done_label: &str, done: i64, target: i64) -> String {
    json!({
        "color": PALETTE,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {},
        // Room above the plot for the target line's label under the title, and to the
        // right for the bar's "done / target" (series labels are outside containLabel).
        "grid": {"left": 8, "right": 96, "bottom": 8, "top": 56, "containLabel": true},
        "xAxis": {"type": "value", "max": target.max(done)},
        "yAxis": {"type": "category", "data": [done_label]},
        "series": [{
            "type": "bar", "data": [done], "label": {"show": true, "position": "right",
                "formatter": format!("{done} / {target}")},
            "markLine": {"symbol": "none", "data": [{"xAxis": target}], "lineStyle": {"type": "dashed"}}
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_json_with_the_data() {
        let p: Value = serde_json::from_str(&pie("t", &[("讲座".into(), 3)])).unwrap();
        assert_eq!(p["series"][0]["data"][0]["value"], 3);
        let r: Value = serde_json::from_str(&rate_bars("t", &[("一年级".into(), 0.8765)])).unwrap();
        assert_eq!(r["series"][0]["data"][0], 87.7);
        let t: Value = serde_json::from_str(&against_target("t", "x", 37, 100)).unwrap();
        assert_eq!(t["series"][0]["markLine"]["data"][0]["xAxis"], 100);
    }

    #[test]
    fn rate_bars_are_percent_on_a_0_to_100_axis() {
        // The trainees page says 72.3 %: the bar must be 72.3 on an axis ending at 100,
        // not 0.723 (a fraction) or an axis scaled to something else.
        let data = [
            ("一年级".to_owned(), 0.723),
            ("二年级".to_owned(), 1.0),
            ("三年级".to_owned(), 0.0),
            ("四年级".to_owned(), f64::NAN),
            ("五年级".to_owned(), 1.2),
        ];
        let r: Value = serde_json::from_str(&rate_bars("t", &data)).unwrap();
        assert_eq!(r["yAxis"]["min"], 0);
        assert_eq!(r["yAxis"]["max"], 100);
        let values: Vec<f64> = r["series"][0]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(values, vec![72.3, 100.0, 0.0, 0.0, 100.0]);
        assert_eq!(
            format!("{}%", values[0]),
            crate::i18n::percent(0.723),
            "the bar's label is the page's figure"
        );
        assert_eq!(r["series"][0]["label"]["formatter"], "{c}%");
        assert!(r["tooltip"].get("valueFormatter").is_none());
    }
}
