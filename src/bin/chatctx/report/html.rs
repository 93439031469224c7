//! The self-contained HTML page: the totals table and the charts inline, one style sheet and
//! one script (the page's own check), both named by hash in a Content-Security-Policy that
//! allows nothing else, so the page cannot load anything.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use chatctx::replay::Replay;

use super::{About, Chart};

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222}\
table{border-collapse:collapse;margin:12px 0 24px}\
th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #ddd}\
th:first-child,td:first-child{text-align:left}\
figure{margin:0 0 28px;overflow-x:auto}\
#check{color:#666;font-size:small}";

const SCRIPT: &str = include_str!("check.js");

/// `'sha256-...'` of a script or style sheet, as CSP spells it.
fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest.as_slice())
    )
}

/// Text escaped for HTML content and quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document as an element inside HTML: no XML namespace declaration (HTML gives it),
/// so the page holds no URL at all.
fn inline(svg: &str) -> &str {
    let svg = svg.trim_start();
    svg.strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .unwrap_or(svg)
        .trim_start()
}

fn totals_table(replays: &[Replay]) -> String {
    let mut rows = String::new();
    for replay in replays {
        let t = &replay.totals;
        let cost = t
            .cost_usd
            .map_or_else(|| "n/a".to_string(), |usd| format!("{usd:.6}"));
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>\n",
            escape(&t.policy),
            t.turns,
            t.prompt_tokens,
            t.cache_hit_tokens,
            t.summarizer_tokens,
            t.summarizer_calls,
            cost,
            t.mean_retained_rounds,
            t.max_prompt_tokens
        ));
    }
    format!(
        "<table>\n<tr><th>policy</th><th>requests</th><th>prompt tokens</th><th>cache hits</th>\
<th>summarizer tokens</th><th>summarizer calls</th><th>cost (USD)</th>\
<th>mean recent rounds kept</th><th>max prompt</th></tr>\n{rows}</table>\n"
    )
}

/// The whole page.
pub(crate) fn page(about: &About<'_>, replays: &[Replay], charts: &[Chart]) -> String {
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        hash(STYLE),
        hash(SCRIPT)
    );
    let requests = replays.first().map_or(0, |r| r.turns.len());
    let model = about.model.unwrap_or("unknown");
    let mut figures = String::new();
    for chart in charts {
        let series = serde_json::to_string(&chart.series).unwrap_or_else(|_| "[]".into());
        let svg = inline(&chart.svg).replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1);
        figures.push_str(&format!(
            "<figure data-chart=\"{}\" data-series=\"{}\" aria-label=\"{}\">\n{}\n</figure>\n",
            chart.name,
            escape(&series),
            escape(&chart.title),
            svg
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
<title>chatctx replay: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
<h1>chatctx replay</h1>\n\
<p>Recording <code>{title}</code>: rounds {rounds}, requests {requests}; model <code>{model}</code>, \
window {window} tokens. Each panel is one policy; panels of a chart share their axes.</p>\n\
{table}{figures}<p id=\"check\">not checked (scripts are off)</p>\n<script>{SCRIPT}</script>\n\
</body>\n</html>\n",
        title = escape(about.recording),
        rounds = about.rounds,
        model = escape(model),
        window = about.window,
        table = totals_table(replays),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_names_and_hashes_what_it_inlines() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let about = About {
            recording: "<b>session</b>.json",
            model: Some("deepseek-chat"),
            window: 4000,
            rounds: 0,
        };
        let page = page(&about, &[], &[]);
        assert!(page.contains("<code>&lt;b&gt;session&lt;/b&gt;.json</code>"));
        assert!(!page.contains("<b>"));
        // the policy names the very style sheet and script the page holds
        let inline = |open: &str, close: &str| {
            let start = page.find(open).map(|i| i + open.len());
            let text = start.and_then(|s| page[s..].find(close).map(|e| &page[s..s + e]));
            text.map(hash)
        };
        let style = inline("<style>", "</style>");
        let script = inline("<script>", "</script>");
        assert!(page.contains(&format!("style-src {}", style.unwrap_or_default())));
        assert!(page.contains(&format!("script-src {}", script.unwrap_or_default())));
        assert!(page.contains("default-src 'none'"));
    }
}
