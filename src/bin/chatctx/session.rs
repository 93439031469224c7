//! `chatctx session`: conversations kept in a store (SQLite file or PostgreSQL).

use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::input::read_input;
use crate::setup::{self, Counting};
use crate::Failure;
use chatctx::message::validate;
use chatctx::store::{self, SessionStore, Version};
use chatctx::{ChatRequest, Error, Message, Session};

/// How many times a write that meets a conflict is retried before giving up.
const ATTEMPTS: usize = 200;

/// Arguments of `chatctx session`.
#[derive(Debug, Args)]
pub(crate) struct SessionArgs {
    /// Where conversations are kept: sqlite:PATH (a file, created when missing) or a
    /// postgres:// URL (TLS with sslmode=require, verify-ca or verify-full).
    #[arg(long, global = true, default_value = "sqlite:chatctx.db")]
    store: String,
    #[command(subcommand)]
    command: SessionCommand,
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// Append one message or a JSON array of messages (or a request body's messages) to a
    /// conversation, creating it when new; prints the new version.
    Append {
        /// The conversation id.
        id: String,
        /// A message, an array of messages or a request body; `-` or nothing for stdin.
        file: Option<String>,
    },
    /// Print the request to send, with the messages chosen by the policy, and save the
    /// policy's state (the rolling summary, where compact cut).
    Prepare(PrepareArgs),
    /// Print the whole transcript as a request body.
    Show {
        /// The conversation id.
        id: String,
    },
    /// Copy a conversation up to (not including) message N into a new id.
    Fork {
        /// The conversation to copy.
        id: String,
        /// How many messages to copy.
        #[arg(long)]
        at: usize,
        /// The new conversation id (must not exist).
        new_id: String,
    },
    /// Remove everything of a conversation.
    Delete {
        /// The conversation id.
        id: String,
    },
    /// List the conversations: one JSON line each, with id, version and message count.
    List,
}

/// Arguments of `chatctx session prepare`.
#[derive(Debug, Args)]
struct PrepareArgs {
    /// The conversation id.
    id: String,
    /// The policy: pass-through, last-rounds:N, token-budget, rolling-summary[:THRESHOLD],
    /// compact:LOW, recall:K, clear-tools[:KEEP], cap:TOKENS, a JSON spec, or a chain A+B.
    #[arg(long)]
    policy: String,
    /// The model: tokenizer, template, window; also the request's `model` field.
    #[arg(long)]
    model: Option<String>,
    /// Context window in tokens (default: the model's).
    #[arg(long)]
    window: Option<usize>,
    /// Tokens reserved for the reply (default: the model's max output, at most window/4).
    #[arg(long)]
    reserve: Option<usize>,
    /// Summarizer for rolling-summary: extractive (offline), command:CMD or http.
    #[arg(long, default_value = "extractive")]
    summarizer: String,
    /// Give up on the summarizer after SECS seconds (default: 120) and fall back to truncation.
    #[arg(long, value_name = "SECS")]
    summarizer_timeout: Option<setup::Seconds>,
}

pub(crate) async fn run(args: SessionArgs) -> Result<(), Failure> {
    let store = store::open(&args.store).await?;
    match args.command {
        SessionCommand::Append { id, file } => {
            let text = read_input(file.as_deref())?;
            let version = append(store.as_ref(), &id, &text).await?;
            println!("{version}");
        }
        SessionCommand::Prepare(prepare_args) => prepare(store, prepare_args).await?,
        SessionCommand::Show { id } => {
            let stored = store
                .load(&id)
                .await?
                .ok_or_else(|| unknown(store.as_ref(), &id))?;
            println!("{}", ChatRequest::new(stored.messages).to_json());
        }
        SessionCommand::Fork { id, at, new_id } => {
            let version = store.fork(&id, at, &new_id).await?;
            println!("{version}");
        }
        SessionCommand::Delete { id } => {
            if !store.delete(&id).await? {
                return Err(unknown(store.as_ref(), &id).into());
            }
        }
        SessionCommand::List => {
            for info in store.list().await? {
                println!("{}", serde_json::to_string(&info).unwrap_or_default());
            }
        }
    }
    Ok(())
}

fn unknown(store: &dyn SessionStore, id: &str) -> Error {
    Error::InvalidConfig {
        setting: "conversation".to_string(),
        reason: format!("{} has no conversation {id:?}", store.name()),
    }
}

/// The messages of `text`: one message object, an array of messages or a request body.
fn parse_messages(text: &str, first_index: usize) -> Result<Vec<Message>, Error> {
    let value: Value = serde_json::from_str(text).map_err(|err| Error::Json {
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })?;
    let items = match value {
        Value::Object(mut object) if !object.contains_key("role") => {
            match object.remove("messages") {
                Some(Value::Array(items)) => items,
                _ => {
                    return Err(Error::Json {
                        line: 0,
                        column: 0,
                        message: "expected a message (with `role`), an array of messages or a request body with `messages`".to_string(),
                    })
                }
            }
        }
        Value::Object(object) => vec![Value::Object(object)],
        Value::Array(items) => items,
        _ => {
            return Err(Error::Json {
                line: 0,
                column: 0,
                message: "expected a message, an array of messages or a request body".to_string(),
            })
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(offset, item)| Message::from_value(item, first_index + offset))
        .collect()
}

/// Append the messages of `text` to `id`, validated after the stored ones; retried on
/// conflict (the stored messages are read again and the whole is validated again).
async fn append(store: &dyn SessionStore, id: &str, text: &str) -> Result<Version, Failure> {
    let mut attempt = 1;
    loop {
        let (version, mut all) = match store.load(id).await? {
            Some(stored) => (stored.version, stored.messages),
            None => (0, Vec::new()),
        };
        let stored = all.len();
        let new = parse_messages(text, stored)?;
        if new.is_empty() {
            return Err(Error::Json {
                line: 0,
                column: 0,
                message: "no message to append".to_string(),
            }
            .into());
        }
        all.extend(new);
        validate(&all)?;
        match store.append(id, version, &all[stored..]).await {
            Err(Error::Conflict { .. }) if attempt < ATTEMPTS => {
                attempt += 1;
                pause(attempt).await;
            }
            other => return Ok(other?),
        }
    }
}

async fn prepare(store: Arc<dyn SessionStore>, args: PrepareArgs) -> Result<(), Failure> {
    let counting = Counting::resolve(args.model.as_deref(), None, None)?;
    let limits = setup::limits(&counting.spec, args.window, args.reserve)?;
    let budget = setup::BudgetArgs {
        model: args.model.clone(),
        window: args.window,
        reserve: args.reserve,
        summarizer: args.summarizer.clone(),
        summarizer_timeout: args.summarizer_timeout,
        store: "memory".to_string(),
        embedder: "ngrams".to_string(),
        embedder_timeout: None,
    };
    let built = setup::policy(&args.policy, &budget, &budget.embedder()?).await?;
    let counter = counting.prompt_counter();
    let id = args.id;
    let mut session = Session::resume(
        Arc::clone(&store),
        id.clone(),
        built.policy,
        counter,
        limits,
    )
    .await?
    .with_model_name(counting.model.clone().unwrap_or_default());
    if session.transcript().messages().is_empty() {
        return Err(unknown(store.as_ref(), &id).into());
    }
    let (messages, _report) = session.prepare_and_save(ATTEMPTS).await?;
    let mut request = ChatRequest::new(Vec::new());
    if let Some(model) = &counting.model {
        request
            .fields
            .insert("model".into(), Value::String(model.clone()));
    }
    println!("{}", request.with_messages(messages).to_json());
    Ok(())
}

/// A pause before retrying, growing with the attempts and different between processes.
async fn pause(attempt: usize) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let seed = u64::from(nanos) ^ u64::from(std::process::id()).rotate_left(17);
    let cap = 1u64 << attempt.min(5); // up to 32 ms
    let millis = seed % cap;
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}
