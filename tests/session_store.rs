#![cfg(all(feature = "sqlite", feature = "postgres", feature = "all-vocabularies"))]
//! Durable sessions (issue 22) on SQLite and PostgreSQL: versions and conflicts, lossless and
//! hostile contents, 16 concurrent writers, a writer killed with SIGKILL, and resumed sessions
//! that prepare byte-identical requests over a 300-round conversation.

#[path = "common/session_stores.rs"]
mod session_stores;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};

use chatctx::message::Message;
use chatctx::model::Model;
use chatctx::policy::{Limits, PassThrough, PolicySpec};
use chatctx::store::{SessionState, SessionStore};
use chatctx::summarizer::{Extractive, Summarizer, Summary, SummaryInput};
use chatctx::{Error, PromptCounter, Session, Transcript};

use session_stores::{open, specs, temp_dir, unique_id};

/// Four tokens per message plus one per word.
#[derive(Debug)]
struct Words;

impl PromptCounter for Words {
    fn message_tokens(&self, message: &Message, _: bool) -> usize {
        4 + message.content.text().split_whitespace().count()
    }
    fn overhead(&self, _: &[Message]) -> usize {
        3
    }
}

/// The extractive summarizer, counting its calls.
#[derive(Debug, Default)]
struct Counting {
    calls: AtomicUsize,
    inner: Extractive,
}

#[async_trait]
impl Summarizer for Counting {
    async fn summarize(&self, input: SummaryInput) -> chatctx::Result<Summary> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.summarize(input).await
    }
}

fn to_json(messages: &[Message]) -> String {
    serde_json::to_string(messages).expect("messages serialize")
}

#[tokio::test]
async fn versions_conflicts_fork_delete_and_list() {
    let dir = temp_dir("store-basics");
    for spec in specs("versions_conflicts_fork_delete_and_list", &dir) {
        let store = open(&spec).await;
        let id = unique_id("basics");
        assert_eq!(store.version(&id).await.expect("version"), 0);
        assert_eq!(store.load(&id).await.expect("load"), None);
        // a write based on a version that does not exist yet
        let err = store
            .append(&id, 3, &[Message::user("x")])
            .await
            .unwrap_err();
        assert_eq!(
            err,
            Error::Conflict {
                conversation: id.clone(),
                expected: 3,
                found: 0
            },
            "{spec}"
        );
        let v1 = store
            .append(&id, 0, &[Message::system("Be brief."), Message::user("Hi")])
            .await
            .expect("create");
        assert_eq!(v1, 1);
        // creating it again is a conflict
        let err = store
            .append(&id, 0, &[Message::user("x")])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Conflict {
                    expected: 0,
                    found: 1,
                    ..
                }
            ),
            "{err}"
        );
        let v2 = store
            .append(
                &id,
                v1,
                &[Message::assistant("Hello!"), Message::user("Weather?")],
            )
            .await
            .expect("append");
        assert_eq!(v2, 2);
        let mut state = SessionState::default();
        state.pins = vec![1];
        state.policy.compact_from = Some(3);
        state.reasoning.insert(2, "The user greets.".into());
        let v3 = store.save_state(&id, v2, &state).await.expect("state");
        assert_eq!(v3, 3);
        // stale writes change nothing
        for stale in [v1, v2] {
            let err = store
                .append(&id, stale, &[Message::user("lost")])
                .await
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("conflict on conversation {id:?}: the write was based on version {stale} but the store holds version 3; nothing was written")
            );
            let err = store
                .save_state(&id, stale, &SessionState::default())
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Conflict { found: 3, .. }));
        }
        let stored = store.load(&id).await.expect("load").expect("exists");
        assert_eq!(stored.version, 3);
        assert_eq!(stored.messages.len(), 4);
        assert_eq!(stored.messages[3].content.text(), "Weather?");
        assert_eq!(stored.state, state);

        // fork: the first 3 messages, the state of those
        let fork = unique_id("fork");
        assert_eq!(store.fork(&id, 3, &fork).await.expect("fork"), 1);
        let forked = store.load(&fork).await.expect("load").expect("fork exists");
        assert_eq!(forked.messages, stored.messages[..3]);
        assert_eq!(forked.state.pins, vec![1]);
        assert_eq!(forked.state.policy.compact_from, Some(3));
        let fork2 = unique_id("fork");
        store.fork(&id, 2, &fork2).await.expect("fork at 2");
        let forked2 = store.load(&fork2).await.expect("load").expect("exists");
        assert_eq!(forked2.messages.len(), 2);
        assert_eq!(forked2.state.policy.compact_from, None);
        assert!(forked2.state.reasoning.is_empty());
        // forking onto an existing id, past the end, or from nothing
        assert!(matches!(
            store.fork(&id, 1, &fork).await,
            Err(Error::Conflict {
                expected: 0,
                found: 1,
                ..
            })
        ));
        let err = store.fork(&id, 5, &unique_id("f")).await.unwrap_err();
        assert!(err.to_string().contains("it has 4 messages"), "{err}");
        let err = store
            .fork(&unique_id("none"), 0, &unique_id("f"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");

        let listed = store.list().await.expect("list");
        let mine: Vec<_> = listed
            .iter()
            .filter(|info| info.id == id || info.id == fork)
            .map(|info| (info.id.clone(), info.version, info.messages))
            .collect();
        let mut expected = vec![(id.clone(), 3, 4), (fork.clone(), 1, 3)];
        expected.sort();
        assert_eq!(mine, expected);

        // the fork is independent: appending to it leaves the original alone
        store
            .append(&fork, 1, &[Message::user("Other")])
            .await
            .expect("append to fork");
        assert_eq!(
            store.load(&id).await.expect("load").expect("exists"),
            stored
        );

        assert!(store.delete(&id).await.expect("delete"));
        assert!(!store.delete(&id).await.expect("delete again"));
        assert_eq!(store.load(&id).await.expect("load"), None);
        assert_eq!(store.version(&id).await.expect("version"), 0);
        assert_eq!(
            store
                .load(&fork)
                .await
                .expect("load")
                .map(|c| c.messages.len()),
            Some(4)
        );
        for cleanup in [&fork, &fork2] {
            store.delete(cleanup).await.expect("cleanup");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn messages_round_trip_losslessly_and_hostile_input_is_handled() {
    let dir = temp_dir("store-hostile");
    let raw = [
        r#"{"role":"system","content":"Be brief.","x_vendor":{"deep":[1,2.50,1e400,-0.0]},"name":"sys"}"#,
        r#"{"role":"user","content":[{"type":"text","text":"a \"quoted\" word and a NUL \u0000 here"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}],"big":123456789012345678901234567890}"#,
        r#"{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\": 1.000}"}}],"reasoning_content":"Let me think'); DROP TABLE chatctx_messages; --"}"#,
        r#"{"role":"tool","tool_call_id":"call_1","content":"Robert'); DROP TABLE chatctx_conversations;-- \\ \n \t 日本語 🎉"}"#,
    ];
    let messages: Vec<Message> = raw
        .iter()
        .map(|text| serde_json::from_str(text).expect("fixture message"))
        .collect();
    let ten_mb = Message::user("x".repeat(10 * 1024 * 1024));
    for spec in specs("messages_round_trip_losslessly", &dir) {
        let store = open(&spec).await;
        for id in [
            unique_id("it's \"quoted\""),
            unique_id("x'); DELETE FROM chatctx_messages; --"),
            unique_id("日本語 id with spaces %s $1 ?"),
        ] {
            let version = store.append(&id, 0, &messages).await.expect("append");
            let version = store
                .append(&id, version, std::slice::from_ref(&ten_mb))
                .await
                .expect("10 MB");
            let stored = store.load(&id).await.expect("load").expect("exists");
            assert_eq!(stored.version, version);
            // the same messages, serializing to the same JSON: unknown fields, the numbers as
            // written (precision, trailing zeros, negative zero), the escapes
            assert_eq!(stored.messages[..4], messages[..], "{spec}");
            for (original, message) in messages.iter().zip(&stored.messages) {
                assert_eq!(
                    serde_json::to_string(message).expect("serializes"),
                    serde_json::to_string(original).expect("serializes"),
                    "{spec}"
                );
            }
            let text = serde_json::to_string(&stored.messages).expect("serializes");
            for kept in [
                "2.50",
                "-0.0",
                "1e+400",
                "123456789012345678901234567890",
                "\\u0000",
                "x_vendor",
                "🎉",
            ] {
                assert!(text.contains(kept), "{kept} in {text}");
            }
            assert_eq!(stored.messages[4], ten_mb);
            assert!(store
                .list()
                .await
                .expect("list")
                .iter()
                .any(|info| info.id == id));
            assert!(store.delete(&id).await.expect("delete"));
        }
        // ids that cannot be stored are refused, naming the problem
        let long = "a".repeat(600);
        for (id, reason) in [
            ("", "it is empty"),
            ("nul\0byte", "control character"),
            ("line\nbreak", "control character"),
            (long.as_str(), "more than 512"),
        ] {
            let err = store.append(id, 0, &messages).await.unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
            assert!(err.to_string().contains(reason), "{err}");
            assert!(store.load(id).await.is_err());
        }
        // the tables are intact after all of that
        let id = unique_id("after");
        store.append(&id, 0, &messages).await.expect("append");
        store.delete(&id).await.expect("delete");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two servers prepare the same conversation at once under rolling-summary: both summarize,
/// the first to save wins, the other is refused, reloads, and prepares from the winner's
/// summary without summarizing again.
#[tokio::test]
async fn two_servers_never_both_keep_a_summary() {
    let dir = temp_dir("store-race");
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/chitchat/long_session_1.json"
        ))
        .expect("fixture"),
    )
    .expect("fixture JSON");
    let messages = Message::list_from_value(fixture["messages"].clone()).expect("messages");
    let history = &messages[..81]; // system + 40 rounds, ending with a user turn
    for spec in specs("two_servers_never_both_keep_a_summary", &dir) {
        let id = unique_id("race");
        let seed = open(&spec).await;
        seed.append(&id, 0, history).await.expect("seed");
        let policy = || {
            let summarizer = Arc::new(Counting::default());
            let policy = PolicySpec::RollingSummary { threshold: 0.5 }
                .build_with(summarizer.clone())
                .expect("policy");
            (policy, summarizer)
        };
        let limits = Limits::new(2000, 100);
        let (policy_a, calls_a) = policy();
        let (policy_b, calls_b) = policy();
        let mut a = Session::resume(
            open(&spec).await,
            id.clone(),
            policy_a,
            Arc::new(Words),
            limits,
        )
        .await
        .expect("resume a");
        let mut b = Session::resume(
            open(&spec).await,
            id.clone(),
            policy_b,
            Arc::new(Words),
            limits,
        )
        .await
        .expect("resume b");
        let (_request_a, _) = a.prepare().await.expect("prepare a");
        let (_request_b, _) = b.prepare().await.expect("prepare b");
        assert_eq!(calls_a.calls.load(Ordering::SeqCst), 1);
        assert_eq!(calls_b.calls.load(Ordering::SeqCst), 1);
        assert!(a.state().summary.is_some());
        assert_eq!(a.save().await.expect("a saves"), 2);
        let err = b.save().await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Conflict {
                    expected: 1,
                    found: 2,
                    ..
                }
            ),
            "{err}"
        );
        let stored = seed.load(&id).await.expect("load").expect("exists");
        assert_eq!(
            stored.state.policy,
            a.state().clone(),
            "the winner's summary is kept"
        );
        // the loser reloads: its own summary is gone, the winner's is its state, and from it
        // both prepare the same request
        b.reload().await.expect("reload");
        assert_eq!(b.state(), a.state());
        assert_eq!(b.transcript().messages(), a.transcript().messages());
        let (again_a, _) = a.prepare().await.expect("prepare a again");
        let (request_b, _) = b.prepare().await.expect("prepare b again");
        assert_eq!(to_json(&request_b), to_json(&again_a));
        assert_eq!(
            calls_b.calls.load(Ordering::SeqCst),
            calls_a.calls.load(Ordering::SeqCst)
        );
        assert_eq!(b.state(), a.state());
        drop(b);

        // with the helper: both prepare again after a new turn; both succeed, one summary kept
        let (policy_c, calls_c) = policy();
        let mut c = Session::resume(
            open(&spec).await,
            id.clone(),
            policy_c,
            Arc::new(Words),
            limits,
        )
        .await
        .expect("resume c");
        a.record_reply(messages[81].clone());
        a.push_message(messages[82].clone());
        a.prepare_and_save(3).await.expect("a");
        c.record_reply(messages[81].clone());
        c.push_message(messages[82].clone());
        let (request_c, _) = c.prepare_and_save(3).await.expect("c retries");
        // c's first prepare was refused; its unsaved messages were appended after a's
        let stored = seed.load(&id).await.expect("load").expect("exists");
        assert_eq!(stored.messages.len(), 85);
        assert_eq!(stored.state.policy, c.state().clone());
        assert!(calls_c.calls.load(Ordering::SeqCst) >= 1);
        assert!(!request_c.is_empty());
        seed.delete(&id).await.expect("cleanup");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// 16 writers, each with its own connection, append 10 messages each to one conversation
/// through `Session::save_retrying`: every message is stored exactly once, each writer's in
/// its own order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_writers_store_every_message_once_in_order() {
    const WRITERS: usize = 16;
    const EACH: usize = 10;
    let dir = temp_dir("store-writers");
    for spec in specs("sixteen_concurrent_writers", &dir) {
        let id = unique_id("writers");
        open(&spec)
            .await
            .append(&id, 0, &[Message::system("Many writers.")])
            .await
            .expect("create");
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let (spec, id) = (spec.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let store = open(&spec).await;
                let mut session = Session::resume(
                    store,
                    id,
                    PassThrough,
                    Arc::new(Words),
                    Limits::new(100_000, 10),
                )
                .await
                .expect("resume");
                let mut acknowledged = Vec::new();
                for n in 0..EACH {
                    session.push_user(format!("writer {writer} message {n}"));
                    session.save_retrying(100_000).await.expect("save");
                    acknowledged.push(n);
                }
                acknowledged
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("writer task").len(), EACH);
        }
        let stored = open(&spec)
            .await
            .load(&id)
            .await
            .expect("load")
            .expect("exists");
        assert_eq!(stored.messages.len(), 1 + WRITERS * EACH, "{spec}");
        let mut seen = vec![Vec::new(); WRITERS];
        for message in &stored.messages[1..] {
            let text = message.content.text();
            let words: Vec<&str> = text.split(' ').collect();
            let writer: usize = words[1].parse().expect("writer");
            let n: usize = words[3].parse().expect("n");
            seen[writer].push(n);
        }
        for (writer, ns) in seen.iter().enumerate() {
            assert_eq!(
                ns,
                &(0..EACH).collect::<Vec<_>>(),
                "writer {writer} on {spec}"
            );
        }
        open(&spec).await.delete(&id).await.expect("cleanup");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child of `a_writer_killed_mid_append_loses_nothing`: appends 256 KiB messages in a loop,
/// printing `ack N` after each acknowledged append, until it is killed.
#[tokio::test]
#[ignore = "run by a_writer_killed_mid_append_loses_nothing as its child process"]
async fn sigkill_child() {
    let (Ok(spec), Ok(id)) = (
        std::env::var("CHATCTX_SIGKILL_STORE"),
        std::env::var("CHATCTX_SIGKILL_ID"),
    ) else {
        // run directly (e.g. with --include-ignored): nothing to do without the parent
        eprintln!(
            "sigkill_child: runs only as the child of a_writer_killed_mid_append_loses_nothing"
        );
        return;
    };
    use std::io::Write;
    let store = open(&spec).await;
    let mut version = 0;
    let padding = "p".repeat(256 * 1024);
    for n in 0.. {
        version = store
            .append(&id, version, &[Message::user(format!("m{n} {padding}"))])
            .await
            .expect("append");
        let mut out = std::io::stdout().lock();
        writeln!(out, "ack {n}").expect("stdout");
        out.flush().expect("flush");
    }
}

#[tokio::test]
async fn a_writer_killed_mid_append_loses_nothing() {
    let dir = temp_dir("store-sigkill");
    for spec in specs("a_writer_killed_mid_append_loses_nothing", &dir) {
        let id = unique_id("killed");
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "sigkill_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CHATCTX_SIGKILL_STORE", &spec)
            .env("CHATCTX_SIGKILL_ID", &id)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().expect("stdout");
        let (send, receive) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("ack ") {
                    let _ = send.send(n.parse::<usize>().expect("ack number"));
                }
            }
        });
        let started = Instant::now();
        let mut acknowledged = 0;
        while acknowledged < 20 {
            match receive.recv_timeout(Duration::from_secs(120)) {
                Ok(n) => acknowledged = n + 1,
                Err(err) => panic!(
                    "the child stopped acknowledging ({err}) after {:?}",
                    started.elapsed()
                ),
            }
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(!status.success(), "killed");
        reader.join().expect("reader");
        while let Ok(n) = receive.try_recv() {
            acknowledged = n + 1;
        }
        // the store opens, is consistent, and holds every acknowledged message
        let store = open(&spec).await;
        if let Some(path) = spec.strip_prefix("sqlite:") {
            chatctx::store::SqliteStore::open(path)
                .expect("reopen")
                .verify()
                .await
                .expect("consistent after SIGKILL");
        } else {
            chatctx::store::PostgresStore::connect(&spec)
                .await
                .expect("reconnect")
                .verify()
                .await
                .expect("consistent after SIGKILL");
        }
        let stored = store.load(&id).await.expect("load").expect("exists");
        let count = stored.messages.len();
        assert!(
            count == acknowledged || count == acknowledged + 1,
            "{count} messages stored, {acknowledged} acknowledged ({spec})"
        );
        assert_eq!(stored.version as usize, count);
        for (n, message) in stored.messages.iter().enumerate() {
            let text = message.content.text();
            assert!(text.starts_with(&format!("m{n} ")), "message {n}");
            assert_eq!(
                text.len(),
                format!("m{n} ").len() + 256 * 1024,
                "message {n} is whole"
            );
        }
        // and takes the next write
        store
            .append(&id, stored.version, &[Message::user("after the crash")])
            .await
            .expect("append after the crash");
        store.delete(&id).await.expect("cleanup");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Replays the 300-round fixture turn by turn, once in one uninterrupted session and once
/// restarting everything (store connection, policy, session) before every turn: the requests
/// are byte-identical and the summarizer is called as often.
async fn resume_matches_uninterrupted(policy: &str, spec: &str) {
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/chitchat/long_session_1.json"
        ))
        .expect("fixture"),
    )
    .expect("fixture JSON");
    let messages = Message::list_from_value(fixture["messages"].clone()).expect("messages");
    let model = Model::resolve("deepseek-chat").expect("model");
    let counter = model.prompt_counter();
    let limits = Limits::new(3000, 500);
    let spec_policy: PolicySpec = policy.parse().expect("policy");
    let rounds = (messages.len() - 1) / 2;
    assert!(rounds >= 300, "{rounds} rounds");

    let plain_calls = Arc::new(Counting::default());
    let mut plain = Session::new(
        Transcript::new(vec![messages[0].clone()]),
        spec_policy.build_with(plain_calls.clone()).expect("policy"),
        counter.clone(),
        limits,
    );
    let mut expected = Vec::new();
    for round in 0..rounds {
        plain.push_message(messages[1 + 2 * round].clone());
        let (request, _) = plain.prepare().await.expect("prepare");
        expected.push(to_json(&request));
        plain.record_reply(messages[2 + 2 * round].clone());
    }

    let id = unique_id("resume");
    let durable_calls = Arc::new(Counting::default());
    {
        let mut first = Session::resume(
            open(spec).await,
            id.clone(),
            spec_policy
                .build_with(durable_calls.clone())
                .expect("policy"),
            counter.clone(),
            limits,
        )
        .await
        .expect("resume");
        first.push_message(messages[0].clone());
        first.save().await.expect("save");
    }
    for (round, expected) in expected.iter().enumerate() {
        // a restart: a new connection, a new policy object, a new session
        let mut session = Session::resume(
            open(spec).await,
            id.clone(),
            spec_policy
                .build_with(durable_calls.clone())
                .expect("policy"),
            counter.clone(),
            limits,
        )
        .await
        .expect("resume");
        session.push_message(messages[1 + 2 * round].clone());
        let (request, _) = session.prepare_and_save(1).await.expect("prepare");
        assert_eq!(
            &to_json(&request),
            expected,
            "{policy} round {round} on {spec}"
        );
        session.record_reply(messages[2 + 2 * round].clone());
        session.save().await.expect("save");
    }
    let calls = plain_calls.calls.load(Ordering::SeqCst);
    assert_eq!(
        durable_calls.calls.load(Ordering::SeqCst),
        calls,
        "{policy}"
    );
    if policy.starts_with("rolling-summary") {
        assert!(calls >= 5, "the fixture summarizes often ({calls} calls)");
    }
    let store = open(spec).await;
    let stored = store.load(&id).await.expect("load").expect("exists");
    assert_eq!(stored.messages, plain.transcript().messages());
    assert_eq!(stored.state.policy, plain.state().clone());
    store.delete(&id).await.expect("cleanup");
}

#[tokio::test]
async fn resumed_sessions_prepare_identical_requests_rolling_summary() {
    let dir = temp_dir("store-resume-rs");
    for spec in specs("resumed_sessions_rolling_summary", &dir) {
        resume_matches_uninterrupted("rolling-summary", &spec).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn resumed_sessions_prepare_identical_requests_compact() {
    let dir = temp_dir("store-resume-compact");
    for spec in specs("resumed_sessions_compact", &dir) {
        resume_matches_uninterrupted("compact:0.5", &spec).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PostgreSQL database whose schema is newer than this chatctx's is refused.
#[tokio::test]
async fn postgres_refuses_a_newer_schema() {
    let Some(url) = session_stores::postgres_url("postgres_refuses_a_newer_schema") else {
        return;
    };
    let database = format!("chatctx_schema_{}", std::process::id());
    let admin = chatctx::store::PostgresStore::connect(&url)
        .await
        .expect("connect");
    drop(admin);
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .await
        .expect("drop database");
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .expect("create database");
    let (base, _) = url.rsplit_once('/').expect("URL with a database");
    let other = format!("{base}/{database}");
    let store = chatctx::store::PostgresStore::connect(&other)
        .await
        .expect("new schema");
    store
        .append("c", 0, &[Message::user("hi")])
        .await
        .expect("append");
    drop(store);
    {
        let (inner, connection) = tokio_postgres::connect(&other, tokio_postgres::NoTls)
            .await
            .expect("connection");
        let handle = tokio::spawn(connection);
        inner
            .batch_execute("UPDATE chatctx_meta SET value = '2' WHERE key = 'schema_version'")
            .await
            .expect("bump the schema version");
        drop(inner);
        let _ = handle.await;
    }
    let err = chatctx::store::PostgresStore::connect(&other)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SessionStore { .. }), "{err}");
    assert!(err.to_string().contains("schema version 2"), "{err}");
    client
        .batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .await
        .expect("drop database");
}

#[test]
fn stored_state_json_is_versioned() {
    let state = SessionState::default();
    let value: Value = serde_json::from_str(&state.to_json()).expect("JSON");
    assert_eq!(value["format"], json!(1));
}
