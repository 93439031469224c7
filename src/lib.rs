//! Context management for multi-round conversations with stateless chat-completion APIs
//! (OpenAI, DeepSeek, Qwen/DashScope and anything OpenAI-compatible).
//!
//! Every request to a chat-completion API carries the whole history. chatctx keeps that
//! history losslessly, decides which part of it the next request carries (a context
//! *policy*), and counts the prompt exactly as the provider bills it: its own vocabulary
//! tables and each family's chat template, offline.
//!
//! # One example
//!
//! ```
//! use chatctx::policy::{Limits, PolicySpec};
//! use chatctx::{Message, Model, Session, Transcript};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> chatctx::Result<()> {
//! let model = Model::resolve("gpt-4o")?; // vocabulary, chat template, window
//! let policy = "token-budget".parse::<PolicySpec>()?.build()?;
//! let transcript = Transcript::new(vec![Message::system("You are a helpful assistant.")]);
//! let mut session = Session::new(transcript, policy, model.prompt_counter(), Limits::new(4_096, 1_024));
//!
//! session.push_user("What's the highest mountain in the world?");
//! let (messages, report) = session.prepare().await?; // send `messages` to the API
//! assert_eq!(messages.len(), 2);
//! assert_eq!(report.tokens_after, 25); // exact: o200k tokens plus OpenAI's framing
//! session.record_reply(Message::assistant("Mount Everest."));
//! // or `session.record_response(&response_json)?`, which also calibrates the counts
//! // against the response's `usage.prompt_tokens`
//! # Ok(())
//! # }
//! ```
//!
//! # The main types
//!
//! | type | what it is |
//! |---|---|
//! | [`Message`], [`ChatRequest`] | the OpenAI-compatible wire format, lossless: unknown fields and number spellings pass through |
//! | [`Transcript`], [`Conversation`], [`Round`] | the full history and its structure: rounds (a user turn and what follows), steps, pins |
//! | [`TokenCounter`], [`Vocabulary`] | exact token counts for `cl100k_base`, `o200k_base`, `qwen2.5`, `qwen3.5`, `deepseek-v3` |
//! | [`PromptCounter`], [`template::Family`] | prompt tokens of messages under a chat template (OpenAI, Qwen ChatML, DeepSeek V3/V4) |
//! | [`ContextPolicy`], [`PolicySpec`], [`Report`] | what to send: pass-through, last rounds, token budget, rolling summary, compaction, recall, tool clearing, caps, chains |
//! | [`Session`] | one conversation under a policy: `push_user`, `prepare`, `record_response`; durable with a [`store`] |
//! | [`Model`] | a model name resolved to its vocabulary, template, window and prices ([`cost`]) |
//! | [`Error`] | the one error type: every variant names what was wrong |
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `all-vocabularies` | yes | all five `vocab-*` features below |
//! | `vocab-cl100k` | via `all-vocabularies` | the embedded `cl100k_base` table (gpt-4, gpt-3.5) |
//! | `vocab-o200k` | via `all-vocabularies` | `o200k_base` (gpt-4o, gpt-4.1, gpt-5, o-series) |
//! | `vocab-qwen2_5` | via `all-vocabularies` | `qwen2.5` (Qwen2/2.5/3, qwen-plus/max/turbo) |
//! | `vocab-qwen3_5` | via `all-vocabularies` | `qwen3.5` (Qwen3.5/3.6) |
//! | `vocab-deepseek-v3` | via `all-vocabularies` | `deepseek-v3` (DeepSeek V3.x and V4) |
//! | `cli` | yes | the `chatctx` command (implies `postgres` and `sqlite`) |
//! | `http` | no | the OpenAI-compatible HTTP summarizer and embedder |
//! | `postgres` | no | PostgreSQL session store and pgvector vector store (TLS with rustls) |
//! | `sqlite` | no | SQLite session store (bundled SQLite) |
//! | `async-openai` | no | `adapters::async_openai`: conversions to and from async-openai's request types |
//! | `tiktoken-rs` | no | `adapters::tiktoken_rs`: a [`TokenCounter`] over a tiktoken-rs `CoreBPE` |
//!
//! A model or tokenizer whose vocabulary feature is off is a typed error naming the feature.
//! `examples/chat_loop.rs` is a complete async-openai chat loop with a session and a tool
//! call. The README (on the repository and in the package) covers every part in detail:
//! models, policies, agent loops, recall, cost and the prompt cache, durable sessions, the
//! replay report, the command line, speed and limits.
#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(clippy::unwrap_used)]

#[cfg(any(feature = "async-openai", feature = "tiktoken-rs"))]
pub mod adapters;
pub mod calibration;
pub mod conversation;
pub mod cost;
pub mod error;
pub mod message;
pub mod model;
#[cfg(feature = "http")]
pub mod openai_compat;
#[cfg(feature = "postgres")]
mod pg_tls;
pub mod policy;
pub mod replay;
pub mod retrieval;
pub mod session;
pub mod store;
pub mod summarizer;
pub mod template;
pub mod tokens;

pub use conversation::{Conversation, Round, Transcript};
pub use error::{Error, Result};
pub use message::{ChatRequest, Content, ContentPart, Message, Role};
pub use model::{Model, ModelSpec};
pub use policy::{ContextPolicy, Limits, PolicySpec, Report};
pub use session::Session;
pub use summarizer::Summarizer;
pub use template::PromptCounter;
pub use tokens::{TokenCounter, Vocabulary};

/// The README, compiled and run as doctests (`cargo test --doc`), so its examples stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
