//! `chatctx replay`'s output: the totals by default, `--turns`, `--svg DIR`, and `--html FILE`
//! rendered in a real headless browser (Debian's `chromium`, which `.ci/run` installs).
//!
//! The browser test fails under `CI=true` when chromium is missing; elsewhere it is skipped
//! with a message. `CHATCTX_CHROMIUM` names another browser binary.
// Needs the CLI and every vocabulary (the default features).
#![cfg(all(feature = "cli", feature = "all-vocabularies"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("chatctx-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> String {
    let out = common::run_chatctx(args, b"");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The arguments of the README's main-job command (`cargo run --release -- replay ...`).
fn readme_main_job() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = readme
        .lines()
        .take(20)
        .find(|line| line.starts_with("cargo run --release -- replay"))
        .expect("the README opens with the main-job command");
    let args: Vec<String> = line
        .trim_start_matches("cargo run --release --")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(args.iter().all(|arg| !arg.contains(['\'', '"'])), "{line}");
    args
}

const AGENT: [&str; 12] = [
    "replay",
    "--policy",
    "pass-through",
    "--policy",
    "cap:8000+clear-tools:3+token-budget",
    "--model",
    "deepseek-v4-flash",
    "--window",
    "32000",
    "--reserve",
    "4000",
    "fixtures/agent/coding_agent.json",
];

#[test]
fn default_output_is_the_totals_table_and_turns_adds_the_requests() {
    let args = readme_main_job();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = run(&args);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 10, "{} lines:\n{text}", lines.len());
    assert!(lines[0].starts_with("totals (model deepseek-v4-flash, window 4000)"));
    let policies: Vec<&str> = args
        .windows(2)
        .filter(|pair| pair[0] == "--policy")
        .map(|pair| pair[1])
        .collect();
    assert_eq!(policies.len(), 3);
    assert_eq!(lines.len(), 2 + policies.len(), "{text}");
    for (line, policy) in lines[2..].iter().zip(&policies) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[0], *policy);
        assert_eq!(fields[1], "320", "one request per round: {line}");
    }

    // --turns: one table per policy with a row per request, then the same totals
    let mut with_turns = args.clone();
    with_turns.insert(1, "--turns");
    let full = run(&with_turns);
    assert!(full.ends_with(&text), "the totals close the output");
    for policy in &policies {
        assert!(full.contains(&format!("policy {policy}\n")), "{policy}");
    }
    assert_eq!(
        full.lines().count(),
        text.lines().count() + policies.len() * (320 + 3)
    );
}

/// The README's chart (`docs/replay/prompt.svg`, made by `scripts/replay_charts.sh`) is the
/// prompt chart of the README's main job: its three policies, 320 requests each.
#[test]
fn readme_chart_is_the_main_job_prompt_chart() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains("](docs/replay/prompt.svg)"));
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/replay_charts.sh"),
    )
    .unwrap();
    let svg = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/replay/prompt.svg"),
    )
    .unwrap();
    let args = readme_main_job();
    let policies: Vec<&String> = args
        .windows(2)
        .filter(|pair| pair[0] == "--policy")
        .map(|pair| &pair[1])
        .collect();
    for policy in &policies {
        assert!(script.contains(&format!("--policy {policy}")), "{policy}");
        assert!(svg.contains(&format!("\n{policy}\n</text>")), "{policy}");
    }
    assert!(script.contains(args.last().unwrap()));
    // per panel: the misses (whole prompt) and hits areas, each 320 points closed to the axis
    let areas: Vec<usize> = svg
        .split("<polygon ")
        .skip(1)
        .map(|rest| {
            let points = rest.split("points=\"").nth(1).unwrap();
            points[..points.find('"').unwrap()]
                .split_whitespace()
                .count()
        })
        .collect();
    assert_eq!(areas, vec![322; 2 * policies.len()]);
}

#[test]
fn svg_dir_holds_one_chart_per_file() {
    let dir = TempDir::new("svg");
    let charts = dir.path("charts");
    let charts_arg = charts.display().to_string();
    let mut args = AGENT.to_vec();
    args.insert(1, "--svg");
    args.insert(2, &charts_arg);
    run(&args);
    let mut names: Vec<String> = std::fs::read_dir(&charts)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    // an agent recording has the cleared/capped chart too
    assert_eq!(
        names,
        ["cost.svg", "edits.svg", "prompt.svg", "retained.svg"]
    );
    for name in &names {
        let svg = std::fs::read_to_string(charts.join(name)).unwrap();
        assert!(svg.starts_with("<svg "), "{name}");
        assert!(svg.trim_end().ends_with("</svg>"), "{name}");
        // both policies are drawn, each as a panel with its caption
        assert!(svg.contains("\npass-through\n</text>"), "{name}");
        assert!(
            svg.contains("\ncap:8000+clear-tools:3+token-budget\n</text>"),
            "{name}"
        );
    }
    // two lines per panel: tokens cleared and tokens capped
    let edits = std::fs::read_to_string(charts.join("edits.svg")).unwrap();
    for color in ["#F2A541", "#8C564B"] {
        assert_eq!(
            edits
                .matches(&format!("stroke=\"{color}\" stroke-width=\"2\" points="))
                .count(),
            2,
            "{color}"
        );
    }

    // a chat recording has no such chart; an unpriced model has no cost chart
    let chat = dir.path("chat");
    let chat_arg = chat.display().to_string();
    let models = dir.path("models.json");
    std::fs::write(
        &models,
        r#"{"models": [{"name": "unpriced-chat", "vocabulary": "o200k_base", "template": "openai", "window": 8000, "max_output": 1000}]}"#,
    )
    .unwrap();
    let models_arg = models.display().to_string();
    run(&[
        "--models",
        &models_arg,
        "replay",
        "--policy",
        "last-rounds:3",
        "--model",
        "unpriced-chat",
        "--svg",
        &chat_arg,
        "fixtures/chitchat/recall_fact.json",
    ]);
    let mut names: Vec<String> = std::fs::read_dir(&chat)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["prompt.svg", "retained.svg"]);
}

/// Each request of an agent replay carries what the policy cleared and capped: nothing under
/// `pass-through`; under the chain, placeholders and cuts whose savings are part of the tokens
/// left out.
#[tokio::test]
async fn agent_turns_carry_the_tokens_cleared_and_capped() {
    let request =
        chatctx::ChatRequest::from_json(&common::read("agent/coding_agent.json")).unwrap();
    let counter = chatctx::Model::resolve("deepseek-v4-flash")
        .unwrap()
        .prompt_counter();
    let billing = chatctx::replay::Billing::for_model("deepseek-v4-flash");
    let mut replays = Vec::new();
    for spec in ["pass-through", "cap:8000+clear-tools:3+token-budget"] {
        let policy = spec
            .parse::<chatctx::policy::PolicySpec>()
            .unwrap()
            .build()
            .unwrap();
        let replay = chatctx::replay::replay(
            &request,
            spec,
            policy,
            counter.clone(),
            chatctx::policy::Limits::new(32_000, 4_000),
            &billing,
            |_, _| {},
        )
        .await
        .unwrap();
        replays.push(replay);
    }
    for turn in &replays[0].turns {
        assert_eq!(
            (
                turn.cleared,
                turn.tokens_cleared,
                turn.capped,
                turn.tokens_capped
            ),
            (0, 0, 0, 0)
        );
    }
    let chain = &replays[1].turns;
    assert!(chain.iter().any(|t| t.tokens_cleared > 0));
    assert!(chain.iter().any(|t| t.tokens_capped > 0));
    for turn in chain {
        assert_eq!(turn.cleared > 0, turn.tokens_cleared > 0, "{turn:?}");
        assert_eq!(turn.capped > 0, turn.tokens_capped > 0, "{turn:?}");
        assert!(
            turn.tokens_left_out >= turn.tokens_cleared + turn.tokens_capped,
            "{turn:?}"
        );
        assert!(turn.prompt_tokens <= 28_000, "{turn:?}");
    }
}

#[test]
fn html_report_cannot_be_written_to_a_missing_directory() {
    let out = common::run_chatctx(
        &[
            "replay",
            "--policy",
            "last-rounds:3",
            "--model",
            "deepseek-chat",
            "--html",
            "no/such/dir/report.html",
            "fixtures/chitchat/recall_fact.json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no/such/dir/report.html"), "{stderr}");
}

// ---- the browser test ----

/// The browser, or `None` (after saying why) when it is missing outside CI.
fn chromium() -> Option<PathBuf> {
    let named = std::env::var_os("CHATCTX_CHROMIUM").map(PathBuf::from);
    let found = named.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("chromium"))
                .find(|path| path.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is missing: .ci/run installs Debian's chromium (or set CHATCTX_CHROMIUM)"
        );
        eprintln!(
            "skipping the browser test: chromium is not installed (apt-get install chromium)"
        );
    }
    found
}

/// What the browser made of a page: the DOM after its scripts ran, and the URLs that the page
/// itself (not the browser's own services) asked the network stack for.
struct Rendered {
    dom: String,
    page_requests: Vec<String>,
}

fn render(browser: &Path, page: &Path, scratch: &TempDir, name: &str) -> Rendered {
    let profile = scratch.path(&format!("{name}-profile"));
    std::fs::create_dir_all(&profile).unwrap();
    let net_log = scratch.path(&format!("{name}-netlog.json"));
    let child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let pid = child.id();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    // a guard against a hung browser, not a timing assertion
    let Ok(out) = receive.recv_timeout(Duration::from_secs(180)) else {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        panic!("chromium did not finish rendering {}", page.display());
    };
    let out = out.expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Rendered {
        dom: String::from_utf8_lossy(&out.stdout).to_string(),
        page_requests: page_requests(&net_log),
    }
}

/// The URL requests in a Chromium net log made on behalf of a page: the browser's own
/// background requests have no initiator ("not an origin"); a `file://` page's requests have
/// its opaque origin ("null").
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("chromium wrote its net log");
    let log: Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .expect("the net log is JSON");
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names its event types");
    let events = log["events"].as_array().expect("the net log has events");
    assert!(!events.is_empty());
    events
        .iter()
        .filter(|event| event["type"].as_u64() == Some(start))
        .filter(|event| {
            event["params"]["initiator"]
                .as_str()
                .is_some_and(|initiator| initiator == "null" || initiator.starts_with("file:"))
        })
        .map(|event| event["params"]["url"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// The page's own verdict: the `data-check` attribute and the `#check` line.
fn verdict(dom: &str) -> (String, String) {
    let attribute = dom
        .split("data-check=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("missing")
        .to_string();
    let line = dom
        .split("<p id=\"check\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or("missing")
        .to_string();
    (attribute, line)
}

/// Series the page declares (`data-series` entries), as the report wrote them.
fn declared_series(html: &str) -> usize {
    html.matches("&quot;label&quot;").count()
}

fn charts_in(html: &str) -> usize {
    html.matches("<figure data-chart=").count()
}

#[test]
fn html_report_draws_every_series_in_chromium_without_network() {
    let Some(browser) = chromium() else {
        return;
    };
    let scratch = TempDir::new("html");

    // the README's main job: a committed 320-round recording under three policies
    let chat = scratch.path("chat.html");
    let chat_arg = chat.display().to_string();
    let mut args = readme_main_job();
    args.insert(1, "--html".into());
    args.insert(2, chat_arg);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args);
    let html = std::fs::read_to_string(&chat).unwrap();
    // nothing in the page names another resource: no URL at all, and a policy forbidding loads
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("content=\"default-src 'none';"));
    assert_eq!(charts_in(&html), 3, "prompt, cost, retained");
    // per policy: misses and hits areas, cost and retained lines; marks for the summarizer
    let series = declared_series(&html);
    assert!(series > 3 * 4, "{series}");
    let rendered = render(&browser, &chat, &scratch, "chat");
    let (attribute, line) = verdict(&rendered.dom);
    assert_eq!(attribute, "ok", "{line}");
    assert_eq!(
        line,
        format!("check ok: 3 charts, {series} series, 0 resources fetched")
    );
    assert!(
        rendered.page_requests.is_empty(),
        "{:?}",
        rendered.page_requests
    );

    // an agent recording: its fourth chart (tokens cleared and capped) draws too
    let agent = scratch.path("agent.html");
    let agent_arg = agent.display().to_string();
    let mut args = AGENT.to_vec();
    args.insert(1, "--html");
    args.insert(2, &agent_arg);
    run(&args);
    let html = std::fs::read_to_string(&agent).unwrap();
    assert_eq!(charts_in(&html), 4);
    let rendered = render(&browser, &agent, &scratch, "agent");
    let (attribute, line) = verdict(&rendered.dom);
    assert_eq!(attribute, "ok", "{line}");
    assert!(
        line.starts_with(&format!(
            "check ok: 4 charts, {} series",
            declared_series(&html)
        )),
        "{line}"
    );
    assert!(rendered.page_requests.is_empty());

    // the checks can fail: a series (the first panel's cost line) drawn with fewer points
    // than its data...
    let first = html
        .find("<polyline fill=\"none\" opacity=\"1\" stroke=\"#7B2CBF\"")
        .unwrap();
    let points = first + html[first..].find("points=\"").unwrap() + "points=\"".len();
    let end = points + html[points..].find('"').unwrap();
    let shortened: String = html[points..end]
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    let broken = format!("{}{}{}", &html[..points], shortened, &html[end..]);
    let broken_path = scratch.path("broken.html");
    std::fs::write(&broken_path, broken).unwrap();
    let (attribute, line) = verdict(&render(&browser, &broken_path, &scratch, "broken").dom);
    assert_eq!(attribute, "failed", "{line}");
    assert!(line.contains("points"), "{line}");

    // ...and a page that does fetch something is seen fetching it (a loopback port that
    // refuses the connection)
    let fetching = scratch.path("fetching.html");
    std::fs::write(
        &fetching,
        "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/none.png\"></body></html>",
    )
    .unwrap();
    let rendered = render(&browser, &fetching, &scratch, "fetching");
    assert_eq!(rendered.page_requests, ["http://127.0.0.1:9/none.png"]);
}
