//! Every README figure that a command reproduces, recomputed by running the command.
//!
//! A figure lives between `<!-- figure NAME: ... -->` and `<!-- end figure NAME -->` lines of
//! README.md. This test runs the `chatctx` commands behind each one, formats their output, and
//! fails when the README says something else: a change in behaviour cannot leave stale prose
//! behind. `scripts/readme_figures.sh` (this test with `CHATCTX_WRITE_README=1`) rewrites the
//! blocks instead.
// Needs the CLI and every vocabulary (the default features).
#![cfg(all(feature = "cli", feature = "all-vocabularies"))]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

/// How a figure's block is computed.
type Figure = fn(&mut Replays) -> String;

/// The README's figures: name and how to compute its block.
const FIGURES: &[(&str, Figure)] = &[
    ("replay-costs", replay_costs),
    ("summarizer-cache", summarizer_cache),
    ("agent-clearing", agent_clearing),
];

/// The model every figure is billed at.
const MODEL: &str = "deepseek-v4-flash";

/// `chatctx replay --json` totals, per (session, window, policy), each command run once.
#[derive(Default)]
struct Replays(BTreeMap<(String, usize, usize, String), Value>);

impl Replays {
    /// The totals of `policy` on `long_session_{session}` with DeepSeek pricing, `window`
    /// tokens and no reply reserve (the command the README quotes).
    fn totals(&mut self, session: u8, window: usize, policies: &[&str], policy: &str) -> &Value {
        let file = format!("fixtures/chitchat/long_session_{session}.json");
        self.replay(&file, window, 0, policies, policy)
    }

    /// The totals of `policy` in `chatctx replay --json --model MODEL --window W --reserve R
    /// --policy ... FILE` (each command run once).
    fn replay(
        &mut self,
        file: &str,
        window: usize,
        reserve: usize,
        policies: &[&str],
        policy: &str,
    ) -> &Value {
        let key = (file.to_string(), window, reserve, policy.to_string());
        if !self.0.contains_key(&key) {
            let window_flag = window.to_string();
            let reserve_flag = reserve.to_string();
            let mut args = vec![
                "replay",
                "--json",
                "--model",
                MODEL,
                "--window",
                &window_flag,
                "--reserve",
                &reserve_flag,
            ];
            for policy in policies {
                args.extend(["--policy", policy]);
            }
            args.push(file);
            let out = common::run_chatctx(&args, b"");
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let json: Value = serde_json::from_slice(&out.stdout).unwrap();
            for totals in json["policies"].as_array().unwrap() {
                let name = totals["policy"].as_str().unwrap().to_string();
                let key = (file.to_string(), window, reserve, name);
                self.0.insert(key, totals.clone());
            }
        }
        &self.0[&key]
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn number(totals: &Value, field: &str) -> u64 {
    totals[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field}: {totals}"))
}

/// The cost table of "Cost and the prompt cache": the sliding window and compaction on every
/// long session, the rolling summary on the first.
fn replay_costs(replays: &mut Replays) -> String {
    let mut rows = vec![
        "| session | policy (window) | prompt tokens | cache hits | cost (USD) | mean recent rounds kept |"
            .to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    for session in 1..=3u8 {
        let mut runs = vec![("token-budget", 3000), ("compact:0.5", 4000)];
        if session == 1 {
            runs.push(("rolling-summary", 4000));
        }
        for (policy, window) in runs {
            let policies: &[&str] = if window == 3000 {
                &["token-budget"]
            } else if session == 1 {
                &["compact:0.5", "rolling-summary"]
            } else {
                &["compact:0.5"]
            };
            let totals = replays.totals(session, window, policies, policy);
            rows.push(format!(
                "| {session} | `{policy}` ({}) | {} | {} | {:.4} | {:.1} |",
                thousands(window as u64),
                thousands(number(totals, "prompt_tokens")),
                thousands(number(totals, "cache_hit_tokens")),
                totals["cost_usd"].as_f64().unwrap(),
                totals["mean_retained_rounds"].as_f64().unwrap(),
            ));
        }
    }
    rows.join("\n")
}

/// The summarizer's prompt-cache hits under the rolling summary on the first long session.
fn summarizer_cache(replays: &mut Replays) -> String {
    let totals = replays.totals(
        1,
        4000,
        &["compact:0.5", "rolling-summary"],
        "rolling-summary",
    );
    format!(
        "On `long_session_1` under `rolling-summary` at a 4,000-token window, \
         `summarizer_cache_hit_tokens` is {} of the {} summarizer tokens ({} calls).",
        thousands(number(totals, "summarizer_cache_hit_tokens")),
        thousands(number(totals, "summarizer_tokens")),
        number(totals, "summarizer_calls"),
    )
}

/// What batching `clear-tools` saves on the committed coding-agent recording: clearing one
/// result per call against clearing in batches of at least 30,000 tokens.
fn agent_clearing(replays: &mut Replays) -> String {
    let every = "clear-tools:1+token-budget";
    let batched = r#"{"chain":[{"clear_tools":{"keep":1,"at_least":30000}},"token-budget"]}"#;
    let mut rows = vec![
        "| clearing | requests | prompt tokens | cache hits | cost (USD) | largest prompt |"
            .to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    for (label, spec) in [
        ("every call (`at_least: 0`)", every),
        ("batches (`at_least: 30000`)", batched),
    ] {
        let name = spec
            .parse::<chatctx::policy::PolicySpec>()
            .unwrap()
            .to_string();
        let totals = replays.replay(
            "fixtures/agent/coding_agent.json",
            48_000,
            4_000,
            &[every, batched],
            &name,
        );
        rows.push(format!(
            "| {label} | {} | {} | {} | {:.4} | {} |",
            number(totals, "turns"),
            thousands(number(totals, "prompt_tokens")),
            thousands(number(totals, "cache_hit_tokens")),
            totals["cost_usd"].as_f64().unwrap(),
            thousands(number(totals, "max_prompt_tokens")),
        ));
    }
    rows.join("\n")
}

/// The lines strictly between the markers of figure `name`: (first line, end line) indices.
fn block(lines: &[&str], name: &str) -> (usize, usize) {
    let begin = format!("<!-- figure {name}:");
    let end = format!("<!-- end figure {name} -->");
    let start = lines
        .iter()
        .position(|line| line.starts_with(&begin))
        .unwrap_or_else(|| panic!("README.md has no `{begin} ... -->` line"));
    let stop = lines[start..]
        .iter()
        .position(|line| line.trim_end() == end)
        .unwrap_or_else(|| panic!("README.md has no `{end}` line after `{begin}`"));
    (start + 1, start + stop)
}

#[test]
fn readme_figures_match_the_commands() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let write = std::env::var_os("CHATCTX_WRITE_README").is_some_and(|v| !v.is_empty());
    let mut replays = Replays::default();
    let mut lines: Vec<String> = readme.lines().map(str::to_string).collect();
    let mut stale = Vec::new();
    for (name, compute) in FIGURES {
        let expected = compute(&mut replays);
        let view: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (first, end) = block(&view, name);
        let found = view[first..end].join("\n");
        if found != expected {
            stale.push(format!(
                "figure {name}: README.md says\n{found}\nbut the commands give\n{expected}\n"
            ));
            lines.splice(first..end, expected.lines().map(str::to_string));
        }
    }
    if write {
        let mut text = lines.join("\n");
        text.push('\n');
        if text != readme {
            std::fs::write(&path, text).unwrap();
            eprintln!("rewrote {} figure(s) in README.md", stale.len());
        }
        return;
    }
    assert!(
        stale.is_empty(),
        "{}\nregenerate with scripts/readme_figures.sh",
        stale.join("\n")
    );
}
