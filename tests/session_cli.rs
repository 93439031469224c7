#![cfg(all(
    feature = "cli",
    feature = "sqlite",
    feature = "postgres",
    feature = "all-vocabularies"
))]
//! `chatctx session --store STORE <command>` on SQLite and PostgreSQL: every command, exit
//! codes, 16 writer processes on one conversation, and passwords never printed.

#[path = "common/session_stores.rs"]
mod session_stores;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use session_stores::{specs, temp_dir, unique_id};

fn chatctx(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatctx"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chatctx runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("chatctx finishes")
}

fn ok(args: &[&str], stdin: &str) -> String {
    let out = chatctx(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A failure: exit `code`, one line on stderr mentioning `mentions`, nothing on stdout.
fn fails(args: &[&str], stdin: &str, code: i32, mentions: &str) -> String {
    let out = chatctx(args, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(mentions),
        "{args:?}: {stderr} lacks {mentions:?}"
    );
    stderr
}

/// What one in-memory session prepares twice in a row over `messages` (as the test's
/// `prepare` command asks), and how many of the two prepares changed the policy's state.
async fn twice(messages: &[Value]) -> (Vec<Value>, u64) {
    use chatctx::policy::{Limits, PolicySpec};
    let messages =
        chatctx::Message::list_from_value(Value::Array(messages.to_vec())).expect("messages");
    let counter = chatctx::Model::resolve("deepseek-chat")
        .expect("model")
        .prompt_counter();
    let policy = "rolling-summary"
        .parse::<PolicySpec>()
        .expect("spec")
        .build()
        .expect("policy");
    let mut session = chatctx::Session::new(
        chatctx::Transcript::new(messages),
        policy,
        counter,
        Limits::new(1500, 200),
    );
    let mut requests = Vec::new();
    let mut changes = 0;
    let mut state = session.state().clone();
    for _ in 0..2 {
        let (request, _) = session.prepare().await.expect("prepare");
        requests.push(serde_json::to_value(&request).expect("JSON"));
        if session.state() != &state {
            changes += 1;
            state = session.state().clone();
        }
    }
    (requests, changes)
}

#[tokio::test]
async fn every_command_on_every_store() {
    let dir = temp_dir("cli-session");
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/chitchat/long_session_1.json"
    ))
    .expect("fixture");
    let fixture: Value = serde_json::from_str(&fixture).expect("JSON");
    let messages = fixture["messages"].as_array().expect("messages");
    for spec in specs("every_command_on_every_store", &dir) {
        let store = spec.as_str();
        let id = unique_id("cli it's; DROP TABLE x");
        // a request body, then single messages, then an array
        let body =
            serde_json::json!({"model": "deepseek-chat", "messages": messages[..21]}).to_string();
        assert_eq!(
            ok(&["session", "--store", store, "append", &id, "-"], &body).trim(),
            "1"
        );
        for (n, message) in messages[21..41].iter().enumerate() {
            let version = ok(
                &["session", "--store", store, "append", &id],
                &message.to_string(),
            );
            assert_eq!(version.trim(), (n + 2).to_string());
        }
        let rest = Value::Array(messages[41..61].to_vec()).to_string();
        let file = dir.join("rest.json");
        std::fs::write(&file, &rest).expect("write");
        assert_eq!(
            ok(
                &[
                    "session",
                    "append",
                    &id,
                    file.to_str().expect("path"),
                    "--store",
                    store
                ],
                ""
            )
            .trim(),
            "22"
        );

        // show: the whole transcript, exactly as appended
        let shown: Value =
            serde_json::from_str(&ok(&["session", "--store", store, "show", &id], ""))
                .expect("JSON");
        assert_eq!(shown["messages"], Value::Array(messages[..61].to_vec()));

        // prepare: as `fit` prints it, and the policy's state is saved
        let args = [
            "session",
            "--store",
            store,
            "prepare",
            &id,
            "--policy",
            "rolling-summary",
            "--model",
            "deepseek-chat",
            "--window",
            "1500",
            "--reserve",
            "200",
        ];
        let first: Value = serde_json::from_str(&ok(&args, "")).expect("JSON");
        assert_eq!(first["model"], "deepseek-chat");
        let sent = first["messages"].as_array().expect("messages");
        assert!(sent.len() < 61, "the policy summarized");
        assert!(
            sent.iter().any(|m| m["name"] == "chatctx_summary"),
            "{first}"
        );
        let second: Value = serde_json::from_str(&ok(&args, "")).expect("JSON");
        // the same as one library session preparing twice: the state saved by the first
        // prepare is what the second starts from
        let (expected, changes) = twice(&messages[..61]).await;
        assert_eq!(first["messages"], expected[0]);
        assert_eq!(second["messages"], expected[1]);
        let listed = ok(&["session", "--store", store, "list"], "");
        let mine: Value = listed
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("JSON line"))
            .find(|info| info["id"] == id.as_str())
            .expect("listed");
        assert_eq!(mine["messages"], 61);
        assert_eq!(
            mine["version"],
            22 + changes,
            "prepare saves the state when it changes: {mine}"
        );

        // fork, delete
        let fork = unique_id("cli-fork");
        assert_eq!(
            ok(
                &["session", "--store", store, "fork", &id, "--at", "5", &fork],
                ""
            )
            .trim(),
            "1"
        );
        let forked: Value =
            serde_json::from_str(&ok(&["session", "--store", store, "show", &fork], ""))
                .expect("JSON");
        assert_eq!(forked["messages"], Value::Array(messages[..5].to_vec()));
        fails(
            &["session", "--store", store, "fork", &id, "--at", "5", &fork],
            "",
            1,
            "conflict",
        );
        fails(
            &[
                "session",
                "--store",
                store,
                "fork",
                &id,
                "--at",
                "99",
                &unique_id("f"),
            ],
            "",
            2,
            "it has 61 messages",
        );
        assert_eq!(ok(&["session", "--store", store, "delete", &id], ""), "");
        fails(
            &["session", "--store", store, "show", &id],
            "",
            2,
            "has no conversation",
        );
        fails(
            &["session", "--store", store, "delete", &id],
            "",
            2,
            "has no conversation",
        );
        fails(
            &[
                "session",
                "--store",
                store,
                "prepare",
                &id,
                "--policy",
                "token-budget",
                "--model",
                "deepseek-chat",
            ],
            "",
            2,
            "has no conversation",
        );
        ok(&["session", "--store", store, "delete", &fork], "");

        // bad input: validated as `fit` validates, nothing stored
        let bad = unique_id("bad");
        fails(
            &["session", "--store", store, "append", &bad],
            "{\"role\":\"wizard\",\"content\":\"x\"}",
            2,
            "unknown role",
        );
        fails(
            &["session", "--store", store, "append", &bad],
            "{\"role\":\"tool\",\"tool_call_id\":\"nope\",\"content\":\"x\"}",
            2,
            "tool_call_id",
        );
        fails(
            &["session", "--store", store, "append", &bad],
            "[1, 2",
            2,
            "invalid JSON",
        );
        fails(
            &["session", "--store", store, "append", &bad],
            "[]",
            2,
            "no message to append",
        );
        fails(
            &["session", "--store", store, "append", "a\u{1}b"],
            "{\"role\":\"user\",\"content\":\"x\"}",
            2,
            "control character",
        );
        fails(
            &["session", "--store", store, "show", &bad],
            "",
            2,
            "has no conversation",
        );
        // a tool result answering a call stored earlier is valid
        let tools = unique_id("tools");
        ok(
            &["session", "--store", store, "append", &tools],
            r#"[{"role":"user","content":"2+2?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"add","arguments":"{}"}}]}]"#,
        );
        ok(
            &["session", "--store", store, "append", &tools],
            r#"{"role":"tool","tool_call_id":"c1","content":"4"}"#,
        );
        ok(&["session", "--store", store, "delete", &tools], "");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn default_store_is_a_sqlite_file_in_the_working_directory() {
    let dir = temp_dir("cli-default");
    let out = Command::new(env!("CARGO_BIN_EXE_chatctx"))
        .args(["session", "append", "c1", "-"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(br#"{"role":"user","content":"hi"}"#)?;
            child.wait_with_output()
        })
        .expect("runs");
    assert!(out.status.success());
    assert!(dir.join("chatctx.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_stores_and_passwords() {
    fails(
        &["session", "--store", "redis://x", "list"],
        "",
        2,
        "unknown session store \"redis\"",
    );
    fails(
        &["session", "--store", "sqlite:", "list"],
        "",
        2,
        "needs a path",
    );
    // a server that does not answer (exit 1), a bad setting and a misspelled scheme (exit 2):
    // the password is never printed
    for (url, code, needle) in [
        (
            "postgres://app:hunter2secret@127.0.0.1:1/chat?connect_timeout=5",
            1,
            "postgres://app@127.0.0.1:1/chat",
        ),
        (
            "postgres://app:hunter2secret@127.0.0.1:1/chat?sslmode=maybe",
            2,
            "sslmode",
        ),
        (
            "postgress://app:hunter2secret@h/db",
            2,
            "unknown session store",
        ),
    ] {
        let stderr = fails(&["session", "--store", url, "list"], "", code, needle);
        assert!(!stderr.contains("hunter2secret"), "{stderr}");
    }
    // a real server: the password (ignored under trust authentication) is not printed either
    if let Some(url) = session_stores::postgres_url("bad_stores_and_passwords") {
        let with_password = url.replacen(
            "postgres://postgres@",
            "postgres://postgres:hunter2secret@",
            1,
        );
        assert_ne!(
            with_password, url,
            "the test URL has the form postgres://postgres@..."
        );
        let id = unique_id("pw");
        let out = chatctx(
            &["session", "--store", &with_password, "append", &id],
            r#"{"role":"user","content":"hi"}"#,
        );
        assert!(out.status.success());
        for args in [
            vec!["list"],
            vec!["show", id.as_str()],
            vec!["show", "missing-id"],
        ] {
            let mut all = vec!["session", "--store", with_password.as_str()];
            all.extend(args);
            let out = chatctx(&all, "");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!text.contains("hunter2secret"), "{text}");
        }
        ok(&["session", "--store", &with_password, "delete", &id], "");
    }
}

/// 16 separate processes, 5 appends each, on one conversation: every acknowledged message is
/// stored exactly once, each process's in its own order.
#[test]
fn sixteen_writer_processes() {
    const WRITERS: usize = 16;
    const EACH: usize = 5;
    let dir = temp_dir("cli-writers");
    for spec in specs("sixteen_writer_processes", &dir) {
        let id = unique_id("processes");
        ok(
            &["session", "--store", &spec, "append", &id],
            r#"{"role":"system","content":"Many processes."}"#,
        );
        let threads: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (spec, id) = (spec.clone(), id.clone());
                std::thread::spawn(move || {
                    let mut versions = Vec::new();
                    for n in 0..EACH {
                        let message = serde_json::json!({"role": "user", "content": format!("writer {writer} message {n}")});
                        let out = ok(&["session", "--store", &spec, "append", &id], &message.to_string());
                        versions.push(out.trim().parse::<u64>().expect("a version"));
                    }
                    versions
                })
            })
            .collect();
        let mut versions: Vec<u64> = threads
            .into_iter()
            .flat_map(|thread| thread.join().expect("writer thread"))
            .collect();
        versions.sort_unstable();
        assert_eq!(
            versions,
            (2..2 + (WRITERS * EACH) as u64).collect::<Vec<_>>(),
            "each version acknowledged once"
        );
        let shown: Value =
            serde_json::from_str(&ok(&["session", "--store", &spec, "show", &id], ""))
                .expect("JSON");
        let messages = shown["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 1 + WRITERS * EACH);
        let mut seen = vec![Vec::new(); WRITERS];
        for message in &messages[1..] {
            let text = message["content"].as_str().expect("text");
            let words: Vec<&str> = text.split(' ').collect();
            seen[words[1].parse::<usize>().expect("writer")]
                .push(words[3].parse::<usize>().expect("n"));
        }
        for (writer, ns) in seen.iter().enumerate() {
            assert_eq!(
                ns,
                &(0..EACH).collect::<Vec<_>>(),
                "writer {writer} on {spec}"
            );
        }
        ok(&["session", "--store", &spec, "delete", &id], "");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
