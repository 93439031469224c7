//! Session stores under load: p50 and p99 of `append` and of `prepare`, and the bytes stored
//! per message beyond its JSON, on SQLite and on PostgreSQL.
//!
//! ```text
//! cargo run --release --features sqlite,postgres --example store_bench -- [--full]
//!     [--conversations N] [--messages M] [--postgres URL] [--dir DIR]
//! ```
//!
//! The issue's size is 1,000 conversations x 100 messages (`--full`); the default is 200 x 100,
//! which takes a fraction of the time. Appends go round-robin over the conversations, one
//! message per append, each based on the version the previous one returned (as a server
//! would). `prepare` is what `chatctx session prepare` does for one conversation: resume it
//! (load the messages and state), apply token-budget with deepseek-chat's exact counter and a
//! 2,000-token window, and save the state (a write only when the state changed); once per
//! conversation. PostgreSQL runs when `--postgres` or `CHATCTX_TEST_POSTGRES_URL` names a
//! server; the benchmark creates its own database there and drops it afterwards. SQLite is a
//! new file (WAL, `synchronous = FULL`) in `--dir` (default: the temporary directory).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatctx::model::Model;
use chatctx::policy::{Limits, PolicySpec};
use chatctx::store::{PostgresStore, SessionStore, SqliteStore};
use chatctx::{Message, Session};

struct Options {
    conversations: usize,
    messages: usize,
    postgres: Option<String>,
    dir: std::path::PathBuf,
}

fn options() -> Options {
    let mut options = Options {
        conversations: 200,
        messages: 100,
        postgres: std::env::var("CHATCTX_TEST_POSTGRES_URL").ok(),
        dir: std::env::temp_dir(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--full" => options.conversations = 1000,
            "--conversations" => options.conversations = value().parse().expect("a number"),
            "--messages" => options.messages = value().parse().expect("a number"),
            "--postgres" => options.postgres = Some(value()),
            "--dir" => options.dir = value().into(),
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// The chitchat fixture's messages (without the system prompt), to cycle through.
fn corpus() -> (Message, Vec<Message>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/chitchat/long_session_1.json"
    ))
    .expect("fixture");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let messages = Message::list_from_value(value["messages"].clone()).expect("messages");
    (messages[0].clone(), messages[1..].to_vec())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn show(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    println!(
        "  {what:<8} n={:<7} p50={:>9.3} ms  p99={:>9.3} ms",
        samples.len(),
        percentile(&samples, 50.0).as_secs_f64() * 1000.0,
        percentile(&samples, 99.0).as_secs_f64() * 1000.0,
    );
}

/// Append and prepare on `store`; returns the total JSON bytes of the messages stored.
async fn run(store: Arc<dyn SessionStore>, options: &Options) -> usize {
    let (system, corpus) = corpus();
    let ids: Vec<String> = (0..options.conversations)
        .map(|c| format!("bench-{c}"))
        .collect();
    let mut versions = vec![0; ids.len()];
    let mut json_bytes = 0;
    let mut appends = Vec::with_capacity(ids.len() * options.messages);
    let started = Instant::now();
    for n in 0..options.messages {
        for (c, id) in ids.iter().enumerate() {
            // message 0 is the system prompt; then the chitchat rounds, a different start
            // per conversation so that conversations differ
            let message = if n == 0 {
                system.clone()
            } else {
                let start = (c * 2) % (corpus.len() - options.messages - 1);
                corpus[start + n - 1].clone()
            };
            json_bytes += serde_json::to_string(&message).expect("JSON").len();
            let at = Instant::now();
            versions[c] = store
                .append(id, versions[c], &[message])
                .await
                .expect("append");
            appends.push(at.elapsed());
        }
    }
    let append_total = started.elapsed();
    let model = Model::resolve("deepseek-chat").expect("model");
    let counter = model.prompt_counter();
    let spec: PolicySpec = "token-budget".parse().expect("policy");
    let mut prepares = Vec::with_capacity(ids.len());
    let started = Instant::now();
    for id in &ids {
        let at = Instant::now();
        let mut session = Session::resume(
            Arc::clone(&store),
            id.clone(),
            spec.build().expect("policy"),
            Arc::clone(&counter),
            Limits::new(2000, 200),
        )
        .await
        .expect("resume");
        let (request, _) = session.prepare_and_save(3).await.expect("prepare");
        prepares.push(at.elapsed());
        assert!(!request.is_empty());
    }
    let prepare_total = started.elapsed();
    println!(
        "  {} appends in {:.1} s, {} prepares in {:.1} s",
        appends.len(),
        append_total.as_secs_f64(),
        prepares.len(),
        prepare_total.as_secs_f64()
    );
    show("append", appends);
    show("prepare", prepares);
    json_bytes
}

fn report_bytes(total: u64, json_bytes: usize, messages: usize) {
    let beyond = total as f64 - json_bytes as f64;
    println!(
        "  stored {total} bytes for {messages} messages of {json_bytes} JSON bytes: {:.1} bytes per message beyond its JSON ({:.1} per message in all)",
        beyond / messages as f64,
        total as f64 / messages as f64
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = options();
    let messages = options.conversations * options.messages;
    println!(
        "{} conversations x {} messages = {messages} messages",
        options.conversations, options.messages
    );

    let path = options
        .dir
        .join(format!("chatctx-store-bench-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    println!("SQLite ({})", path.display());
    let sqlite = Arc::new(SqliteStore::open(&path).expect("open"));
    let json_bytes = run(sqlite.clone(), &options).await;
    drop(sqlite);
    // the database's pages in use, once the write-ahead log is folded in
    let connection = rusqlite::Connection::open(&path).expect("reopen");
    connection
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    let pages: i64 = connection
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .expect("page_count");
    let free: i64 = connection
        .query_row("PRAGMA freelist_count", [], |row| row.get(0))
        .expect("freelist_count");
    let page_size: i64 = connection
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .expect("page_size");
    drop(connection);
    report_bytes(((pages - free) * page_size) as u64, json_bytes, messages);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }

    let Some(url) = options.postgres.clone() else {
        println!("PostgreSQL: skipped (pass --postgres URL or set CHATCTX_TEST_POSTGRES_URL)");
        return;
    };
    let database = format!("chatctx_bench_{}", std::process::id());
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .expect("create the benchmark database");
    let (base, _) = url
        .split_once('?')
        .map_or((url.as_str(), ""), |(b, q)| (b, q));
    let (server, _) = base.rsplit_once('/').expect("a URL ending in /DATABASE");
    let bench_url = format!("{server}/{database}");
    println!("PostgreSQL (database {database})");
    let postgres = Arc::new(PostgresStore::connect(&bench_url).await.expect("connect"));
    let json_bytes = run(postgres.clone(), &options).await;
    drop(postgres);
    let (client, connection) = tokio_postgres::connect(&bench_url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let handle = tokio::spawn(connection);
    client
        .batch_execute("VACUUM ANALYZE")
        .await
        .expect("vacuum");
    let row = client
        .query_one(
            "SELECT pg_total_relation_size('chatctx_messages') + pg_total_relation_size('chatctx_conversations')",
            &[],
        )
        .await
        .expect("sizes");
    let total: i64 = row.get(0);
    drop(client);
    let _ = handle.await;
    report_bytes(total as u64, json_bytes, messages);
    admin
        .batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .await
        .expect("drop the benchmark database");
}
