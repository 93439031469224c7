//! Summarizers by name, as the CLI spells them.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{CommandSummarizer, Extractive, Summarizer};
use crate::error::{Error, Result};

/// A summarizer configuration: `extractive`, `command:CMD` or `http`.
///
/// ```
/// use chatctx::summarizer::SummarizerSpec;
///
/// let spec: SummarizerSpec = "command:llm -m mini".parse().unwrap();
/// assert_eq!(spec, SummarizerSpec::Command("llm -m mini".into()));
/// assert_eq!(spec.to_string(), "command:llm -m mini");
/// assert!("telepathy".parse::<SummarizerSpec>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SummarizerSpec {
    /// [`Extractive`] with its defaults.
    Extractive,
    /// [`CommandSummarizer`] running the given shell command.
    Command(String),
    /// The OpenAI-compatible HTTP summarizer configured from the environment (feature `http`).
    Http,
}

const VALID: &str = "extractive, command:CMD, http";

impl SummarizerSpec {
    /// Build the summarizer.
    pub fn build(&self) -> Result<Arc<dyn Summarizer>> {
        match self {
            SummarizerSpec::Extractive => Ok(Arc::new(Extractive::new())),
            SummarizerSpec::Command(command) => {
                Ok(Arc::new(CommandSummarizer::new(command.clone())))
            }
            #[cfg(feature = "http")]
            SummarizerSpec::Http => Ok(Arc::new(super::HttpSummarizer::from_env()?)),
            #[cfg(not(feature = "http"))]
            SummarizerSpec::Http => Err(Error::config(
                "summarizer",
                "`http` needs chatctx built with the `http` cargo feature",
            )),
        }
    }
}

impl FromStr for SummarizerSpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        match spec.split_once(':') {
            None if spec == "extractive" => Ok(SummarizerSpec::Extractive),
            None if spec == "http" => Ok(SummarizerSpec::Http),
            Some(("command", command)) if !command.trim().is_empty() => {
                Ok(SummarizerSpec::Command(command.to_string()))
            }
            _ => Err(Error::config(
                "summarizer",
                format!("unknown summarizer {spec:?}; valid: {VALID}"),
            )),
        }
    }
}

impl fmt::Display for SummarizerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SummarizerSpec::Extractive => f.write_str("extractive"),
            SummarizerSpec::Command(command) => write!(f, "command:{command}"),
            SummarizerSpec::Http => f.write_str("http"),
        }
    }
}
