//! Today's model names, the built-in table's provenance, and models users add themselves
//! (`Model::register`, a `--models` file or `CHATCTX_MODELS` for every command).
// Needs the CLI and every vocabulary (the default features).
#![cfg(all(feature = "cli", feature = "all-vocabularies"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chatctx::cost::{CacheModel, Pricing};
use chatctx::model::{models_from_json, Model, BUILTIN};
use chatctx::template::Family;
use chatctx::ChatRequest;
use serde_json::Value;

fn chatctx(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatctx"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CHATCTX_MODELS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("the binary runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("the binary finishes");
    let _ = writer.join();
    out
}

fn ok_json(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Value {
    let out = chatctx(args, env, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("chatctx-models-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A short recorded conversation: four rounds, system prompt first.
fn recording(model: &str) -> String {
    let mut messages = vec![serde_json::json!({"role": "system", "content": "Be brief."})];
    for i in 0..4 {
        messages.push(serde_json::json!({"role": "user", "content": format!("Question {i}: what is {i} + {i}? Explain the steps in detail please.")}));
        messages.push(serde_json::json!({"role": "assistant", "content": format!("{i} + {i} = {}. Adding a number to itself doubles it.", 2 * i)}));
    }
    messages.push(serde_json::json!({"role": "user", "content": "Thanks!"}));
    serde_json::json!({"model": model, "messages": messages}).to_string()
}

const ACME: &str = r#"{"models": [{"name": "acme-chat-7", "vocabulary": "o200k_base", "template": "openai",
             "window": 5000, "max_output": 1000, "cache": "openai",
             "pricing": {"input": 1.0, "cached_input": 0.1, "output": 2.0}}]}"#;

/// The names providers serve today count, and `replay` has their windows and prices.
#[test]
fn todays_names_count_and_replay_with_prices() {
    let seed = std::fs::read_to_string("fixtures/seeds/deepseek_multi_round.json").unwrap();
    for (model, tokenizer) in [
        ("deepseek-v4-flash", "deepseek-v3"),
        ("deepseek-v4-pro", "deepseek-v3"),
        ("gpt-5", "o200k_base"),
        ("gpt-5-mini", "o200k_base"),
        ("gpt-5.1", "o200k_base"),
        ("qwen3-max", "qwen2.5"),
        ("qwen3.6-plus", "qwen3.5"),
    ] {
        let out = ok_json(&["count", "--model", model, "-"], &[], &seed);
        assert_eq!(out["model"], model);
        assert_eq!(out["tokenizer"], tokenizer, "{model}");
        assert!(out["prompt_tokens"].as_u64().unwrap() > 20, "{model}");

        let out = chatctx(
            &["replay", "--policy", "token-budget", "--model", model, "-"],
            &[],
            "",
        );
        // replay reads a file; give it one
        assert!(!out.status.success());
        let dir = TempDir::new(&model.replace('.', "_"));
        let file = dir.write("session.json", &recording(model));
        let out = ok_json(
            &[
                "replay",
                "--policy",
                "token-budget",
                "--model",
                model,
                "--json",
                &file,
            ],
            &[],
            "",
        );
        let totals = &out["policies"][0];
        assert!(
            totals["cost_usd"].as_f64().unwrap() > 0.0,
            "{model}: {totals}"
        );
        let window = Model::resolve(model).unwrap().spec.window;
        assert!(window >= 262_144, "{model}: {window}");
        let text = String::from_utf8(
            chatctx(
                &[
                    "replay",
                    "--policy",
                    "token-budget",
                    "--model",
                    model,
                    &file,
                ],
                &[],
                "",
            )
            .stdout,
        )
        .unwrap();
        assert!(
            text.contains(&format!("(model {model}, window {window})")),
            "{text}"
        );
    }
}

/// Every built-in model resolves to itself, has a template and a window, and every priced
/// model has a cache model; every entry names a source and the date it was checked.
#[test]
fn builtin_table_is_complete_and_sourced() {
    assert!(BUILTIN.len() >= 25);
    for entry in BUILTIN {
        let name = entry.pattern.trim_end_matches('*');
        let model = Model::resolve(name).unwrap();
        assert_eq!(
            model.spec.name, entry.pattern,
            "{name} resolves to its own entry"
        );
        assert!(Family::ALL.contains(&model.spec.template));
        assert!(model.spec.window >= model.spec.max_output, "{name}");
        assert!(model.spec.max_output > 0, "{name}");
        assert!(entry.source.len() > 20, "{name}: source");
        assert!(
            entry.checked.len() >= 7 && entry.checked.starts_with("20"),
            "{name}: checked"
        );
        if let Some(pricing) = model.spec.pricing {
            let named = CacheModel::NAMES
                .iter()
                .any(|cache| CacheModel::named(cache) == Some(pricing.cache));
            assert!(named, "{name}: cache model");
            if pricing.cache == CacheModel::NONE {
                assert!(name.starts_with("gpt-3.5"), "{name} has no prompt cache");
            }
            assert!(pricing.cached_input <= pricing.input, "{name}");
        }
    }
    for entry in chatctx::cost::PRICES {
        assert!(entry.source.len() > 20, "{}: source", entry.pattern);
        assert!(entry.checked.starts_with("20"), "{}", entry.pattern);
    }
    // today's names are priced
    for model in [
        "deepseek-v4-flash",
        "deepseek-v4-pro",
        "deepseek-chat",
        "deepseek-reasoner",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5.1",
        "qwen3-max",
        "qwen3.6-plus",
    ] {
        assert!(Pricing::for_model(model).is_some(), "{model}");
    }
}

/// The README's model table is generated from the built-in tables (run with
/// `CHATCTX_BLESS=1` to rewrite it).
#[test]
fn readme_model_table_matches_the_code() {
    let mut sources: Vec<&str> = Vec::new();
    let mut cite = |source: &'static str, checked: &str| {
        let n = match sources.iter().position(|known| *known == source) {
            Some(i) => i + 1,
            None => {
                sources.push(source);
                sources.len()
            }
        };
        format!("[{n}] {checked}")
    };
    let mut table = String::from(
        "| model | vocabulary | template | window | max output | USD / 1M: input, cached, output | cache | limits: source, checked | prices: source, checked |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for entry in BUILTIN {
        let name = entry.pattern.trim_end_matches('*');
        let spec = Model::resolve(name).unwrap().spec;
        let limits = cite(entry.source, entry.checked);
        let (prices, cache, price_source) = match (spec.pricing, Pricing::builtin(name)) {
            (Some(p), Some(row)) => (
                format!("{}, {}, {}", p.input, p.cached_input, p.output),
                CacheModel::NAMES
                    .iter()
                    .find(|cache| CacheModel::named(cache) == Some(p.cache))
                    .copied()
                    .unwrap_or("?")
                    .to_string(),
                cite(row.source, row.checked),
            ),
            (None, Some(row)) => (
                "n/a".to_string(),
                String::new(),
                cite(row.source, row.checked),
            ),
            _ => ("n/a".to_string(), String::new(), String::new()),
        };
        let note = if entry.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", entry.note)
        };
        let thinking = match spec.thinking {
            Some(true) => ", thinking",
            Some(false) => ", non-thinking",
            None => "",
        };
        table.push_str(&format!(
            "| `{}`{note} | {} | {}{thinking} | {} | {} | {prices} | {cache} | {limits} | {price_source} |\n",
            entry.pattern,
            spec.vocabulary_name(),
            spec.template,
            spec.window,
            spec.max_output,
        ));
    }
    table.push('\n');
    for (i, source) in sources.iter().enumerate() {
        table.push_str(&format!("{}. {source}\n", i + 1));
    }
    let readme = std::fs::read_to_string("README.md").unwrap();
    let (begin, end) = ("<!-- models:begin -->\n", "<!-- models:end -->");
    let start = readme.find(begin).expect("README has the models table") + begin.len();
    let stop = readme[start..].find(end).unwrap() + start;
    if std::env::var_os("CHATCTX_BLESS").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[stop..]);
        std::fs::write("README.md", updated).unwrap();
        return;
    }
    assert_eq!(
        &readme[start..stop],
        table,
        "README model table is stale: run CHATCTX_BLESS=1 cargo test --test models"
    );
}

/// The request's `thinking` field decides DeepSeek-V4's mode; the retired aliases keep theirs.
#[test]
fn thinking_parameter_decides_the_mode() {
    let seed = std::fs::read_to_string("fixtures/seeds/tool_loop_reasoning.json").unwrap();
    let mut request: Value = serde_json::from_str(&seed).unwrap();
    let count = |request: &Value| {
        ok_json(&["count", "-"], &[], &request.to_string())["prompt_tokens"]
            .as_u64()
            .unwrap()
    };
    request["thinking"] = serde_json::json!({"type": "enabled"});
    let thinking = count(&request);
    request["thinking"] = serde_json::json!({"type": "disabled"});
    let chat = count(&request);
    // with tools, thinking mode keeps every reasoning_content and `</think>` on each reply
    assert!(thinking > chat + 40, "{thinking} vs {chat}");

    // without the field: deepseek-v4-flash thinks, deepseek-chat does not
    request.as_object_mut().unwrap().remove("thinking");
    request["model"] = Value::from("deepseek-v4-flash");
    assert_eq!(count(&request), thinking);
    request["model"] = Value::from("deepseek-chat");
    assert_eq!(count(&request), chat);
    request["model"] = Value::from("deepseek-reasoner");
    assert_eq!(count(&request), thinking);

    request["thinking"] = serde_json::json!({"type": "sometimes"});
    let out = chatctx(&["count", "-"], &[], &request.to_string());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("thinking"));
}

/// A model defined only in a models file is used by `count`, `fit` and `replay`, from
/// `--models` or from `CHATCTX_MODELS`.
#[test]
fn a_models_file_model_works_for_every_command() {
    let dir = TempDir::new("file");
    let models = dir.write("models.json", ACME);
    let session = dir.write("session.json", &recording("acme-chat-7"));

    let out = chatctx(&["count", &session], &[], "");
    assert_eq!(out.status.code(), Some(2), "unknown without the file");

    let counted = ok_json(&["--models", &models, "count", &session], &[], "");
    assert_eq!(counted["model"], "acme-chat-7");
    assert_eq!(counted["tokenizer"], "o200k_base");
    let by_env = ok_json(&["count", &session], &[("CHATCTX_MODELS", &models)], "");
    assert_eq!(by_env["prompt_tokens"], counted["prompt_tokens"]);
    // the flag also goes after the subcommand
    let after = ok_json(&["count", "--models", &models, &session], &[], "");
    assert_eq!(after["prompt_tokens"], counted["prompt_tokens"]);

    let fitted = ok_json(
        &["fit", "--policy", "last-rounds:1", &session],
        &[("CHATCTX_MODELS", &models)],
        "",
    );
    assert_eq!(fitted["model"], "acme-chat-7");
    assert!(fitted["messages"].as_array().unwrap().len() < 10);

    let replayed = ok_json(
        &[
            "--models",
            &models,
            "replay",
            "--policy",
            "pass-through",
            "--json",
            &session,
        ],
        &[],
        "",
    );
    let totals = &replayed["policies"][0];
    // the file's prices: 1.0 / 0.1 / 2.0 USD per million tokens
    let prompt = totals["prompt_tokens"].as_f64().unwrap();
    let cost = totals["cost_usd"].as_f64().unwrap();
    assert!(cost > 0.0 && cost <= prompt * 1.0e-6 + 1.0, "{totals}");
    let text = String::from_utf8(
        chatctx(
            &[
                "--models",
                &models,
                "replay",
                "--policy",
                "pass-through",
                &session,
            ],
            &[],
            "",
        )
        .stdout,
    )
    .unwrap();
    assert!(text.contains("(model acme-chat-7, window 5000)"), "{text}");
}

/// A bad models file is an error naming the entry and the field, exit code 2.
#[test]
fn bad_models_files_name_the_entry_and_field() {
    let dir = TempDir::new("bad");
    let session = dir.write("session.json", &recording("gpt-5"));
    let cases = [
        (
            r#"{"models": [{"name": "a", "vocabulary": "o200k_base", "template": "openai", "window": "big"}]}"#,
            "models[0] (\"a\"): field `window`",
        ),
        (
            r#"{"models": [{"name": "a", "vocabulary": "o200k_base", "template": "openai", "window": 10}, {"name": "b", "vocabulary": "gpt2", "template": "openai", "window": 10}]}"#,
            "models[1] (\"b\"): field `vocabulary`",
        ),
        (
            r#"{"models": [{"name": "c", "vocabulary": "o200k_base", "template": "llama", "window": 10}]}"#,
            "field `template`",
        ),
        (
            r#"{"models": [{"name": "d", "vocabulary": "o200k_base", "template": "openai", "window": 100, "cache": "lru", "pricing": {"input": 1, "output": 2}}]}"#,
            "field `cache`",
        ),
        (
            r#"{"models": [{"name": "e", "vocabulary": "o200k_base", "template": "openai", "window": 100, "pricing": {"input": -1, "output": 2}}]}"#,
            "field `pricing.input`",
        ),
        (
            r#"{"models": [{"name": "f", "vocabulary": "o200k_base", "template": "openai", "windw": 100}]}"#,
            "unknown field `windw`",
        ),
        (
            r#"{"models": [{"name": "g", "vocabulary": "o200k_base", "template": "openai", "window": 100, "max_output": 100}]}"#,
            "field `max_output`",
        ),
        (
            r#"{"models": [{"name": "h*h", "vocabulary": "o200k_base", "template": "openai", "window": 100}]}"#,
            "field `name`",
        ),
        (
            r#"{"models": [{"name": "i", "vocabulary": "missing.tiktoken", "pattern": "\\w+", "template": "openai", "window": 100}]}"#,
            "field `vocabulary`",
        ),
        (r#"{"modells": []}"#, "`models` array"),
        ("{not json", "invalid JSON"),
    ];
    for (i, (text, mentions)) in cases.into_iter().enumerate() {
        let file = dir.write(&format!("bad{i}.json"), text);
        let out = chatctx(
            &["--models", &file, "count", "--model", "gpt-5", &session],
            &[],
            "",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(out.stdout.is_empty());
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(mentions), "{stderr} lacks {mentions}");
        assert!(stderr.contains(&file), "{stderr} names the file");
    }
    let out = chatctx(
        &["count", &session],
        &[("CHATCTX_MODELS", "/nonexistent/models.json")],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/models.json"));
}

/// An unknown model name is an error listing the closest known names.
#[test]
fn unknown_models_list_the_closest_names() {
    let out = chatctx(&["count", "--model", "deepseek-v4-flsh", "-"], &[], "[]");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("closest known: deepseek-v4-flash*"),
        "{stderr}"
    );
}

/// `Model::register` in the library: a registered model resolves, counts with its own
/// vocabulary file, and its prices bill.
#[test]
fn register_a_model_with_a_tiktoken_vocabulary() {
    let vocab = Path::new(env!("CARGO_MANIFEST_DIR")).join("vocab");
    let text = r#"{"models": [{"name": "file-vocab-model", "vocabulary": "cl100k_base.tiktoken",
        "pattern": "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s",
        "template": "chatml", "window": 8000, "max_output": 500, "cache": "qwen",
        "pricing": {"input": 0.5, "output": 1.5}}]}"#;
    let specs = models_from_json(text, &vocab, "inline").unwrap();
    assert_eq!(specs.len(), 1);
    let spec = specs[0].clone();
    Model::register(spec).unwrap();
    let model = Model::resolve("file-vocab-model").unwrap();
    assert!(model
        .spec
        .vocabulary_name()
        .ends_with("cl100k_base.tiktoken"));
    assert_eq!(model.spec.template, Family::Qwen3);
    // the file is cl100k_base: its text counts agree with the built-in table
    let builtin = chatctx::Vocabulary::Cl100kBase.counter();
    for sample in ["hello world", "It's 2026: 你好, мир! 123456"] {
        assert_eq!(
            model.spec.counter().count(sample),
            builtin.count(sample),
            "{sample}"
        );
    }
    let pricing = Pricing::for_model("file-vocab-model").unwrap();
    assert_eq!(
        (pricing.input, pricing.cached_input, pricing.output),
        (0.5, 0.5, 1.5)
    );
    assert_eq!(pricing.cache, CacheModel::QWEN_IMPLICIT);
    let request = ChatRequest::from_json(r#"[{"role":"user","content":"hi"}]"#).unwrap();
    assert!(model.prompt_counter().count(&request.messages) > 2);
}
