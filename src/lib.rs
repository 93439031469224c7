#![doc = include_str!("../README.md")]
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
