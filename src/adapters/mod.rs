//! Adapters to the types other Rust chat crates already hold, each behind its cargo feature.
//!
//! - `async_openai` (feature `async-openai`): conversions both ways between
//!   [`Message`](crate::Message) / [`ChatRequest`](crate::ChatRequest) and async-openai's
//!   `ChatCompletionRequestMessage` / `CreateChatCompletionRequest`. Lossless for everything
//!   both sides represent; what async-openai cannot hold is an
//!   [`Error::NotRepresentable`](crate::Error::NotRepresentable), never dropped silently.
//! - `tiktoken_rs` (feature `tiktoken-rs`): `TiktokenCounter`,
//!   a [`TokenCounter`](crate::TokenCounter) over a `tiktoken_rs::CoreBPE`, so a vocabulary
//!   chatctx does not embed drives the prompt counters and every policy.
//!
//! The adapters sit beside the message and token layers: they import those and nothing
//! above them, and nothing in chatctx imports them.

#[cfg(feature = "async-openai")]
pub mod async_openai;
#[cfg(feature = "tiktoken-rs")]
pub mod tiktoken_rs;
