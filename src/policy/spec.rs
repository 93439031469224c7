//! Policies by name: the serializable [`PolicySpec`] and its CLI spelling.

use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    Cap, Chain, ClearTools, Compact, ContextPolicy, LastRounds, PassThrough, Recall,
    RollingSummary, TokenBudget,
};
use crate::error::{Error, Result};
use crate::retrieval::Index;
use crate::summarizer::{Extractive, Summarizer};

/// A policy configuration, as written in config files (serde) or on the command line.
///
/// | Spelling | Policy |
/// |---|---|
/// | `pass-through` | [`PassThrough`] |
/// | `last-rounds:N` | [`LastRounds`] keeping N ≥ 1 rounds |
/// | `token-budget` | [`TokenBudget`] |
/// | `rolling-summary`, `rolling-summary:0.7` | [`RollingSummary`] with that threshold |
/// | `compact:LOW` | [`Compact`]: cut to LOW × usable when full, then grow untouched |
/// | `recall:K` | [`Recall`] of at most K ≥ 1 rounds |
/// | `clear-tools[:KEEP]` | [`ClearTools`] keeping the newest KEEP results (default 3) |
/// | `cap:TOKENS` | [`Cap`] of every message at TOKENS ≥ 32 tokens |
/// | `A+B` | [`Chain`] of A then B |
///
/// A spec may also be written as its JSON (serde) form, which is how [`ClearTools`] takes
/// all its settings: `{"clear_tools": {"keep": 3, "at_least": 20000}}`. Unknown keys are
/// errors.
///
/// ```
/// use chatctx::policy::PolicySpec;
///
/// let spec: PolicySpec = "last-rounds:8+token-budget".parse().unwrap();
/// assert_eq!(spec.to_string(), "last-rounds:8+token-budget");
/// let error = "newest".parse::<PolicySpec>().unwrap_err();
/// assert!(error.to_string().contains("unknown policy spec \"newest\""));
/// let policy = spec.build().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicySpec {
    /// `pass-through`.
    PassThrough,
    /// `last-rounds:N`.
    LastRounds(NonZeroUsize),
    /// `token-budget`.
    TokenBudget,
    /// `rolling-summary[:THRESHOLD]`.
    RollingSummary {
        /// Share of the usable tokens at which to summarize.
        threshold: f64,
    },
    /// `compact:LOW`.
    Compact {
        /// Share of the usable tokens to cut down to.
        low: f64,
    },
    /// `recall:K`: at most K recalled rounds, then the newest rounds.
    Recall(NonZeroUsize),
    /// `clear-tools[:KEEP]` or `{"clear_tools": {...}}`.
    #[serde(rename = "clear_tools")]
    ClearTools(ClearTools),
    /// `cap:TOKENS`.
    Cap(usize),
    /// `A+B+...`: the policies one after the other.
    Chain(Vec<PolicySpec>),
}

/// One spelling: its name, its syntax for help texts, and how to read its argument.
struct Entry {
    name: &'static str,
    syntax: &'static str,
    parse: fn(Option<&str>) -> std::result::Result<PolicySpec, String>,
}

/// Every spelling `FromStr` accepts. Adding a policy is one entry here and one arm in
/// `Display` and `build`.
const TABLE: &[Entry] = &[
    Entry {
        name: "pass-through",
        syntax: "pass-through",
        parse: |arg| no_argument(arg, PolicySpec::PassThrough),
    },
    Entry {
        name: "last-rounds",
        syntax: "last-rounds:N",
        parse: |arg| {
            let arg = arg.ok_or("needs the number of rounds, e.g. last-rounds:8")?;
            arg.parse::<NonZeroUsize>()
                .map(PolicySpec::LastRounds)
                .map_err(|_| format!("{arg:?} is not a number of rounds >= 1"))
        },
    },
    Entry {
        name: "token-budget",
        syntax: "token-budget",
        parse: |arg| no_argument(arg, PolicySpec::TokenBudget),
    },
    Entry {
        name: "rolling-summary",
        syntax: "rolling-summary[:THRESHOLD]",
        parse: |arg| {
            let threshold = match arg {
                None => RollingSummary::DEFAULT_THRESHOLD,
                Some(arg) => arg
                    .parse::<f64>()
                    .ok()
                    .filter(|t| *t > 0.0 && *t <= 1.0)
                    .ok_or_else(|| format!("{arg:?} is not a threshold in (0, 1]"))?,
            };
            Ok(PolicySpec::RollingSummary { threshold })
        },
    },
    Entry {
        name: "compact",
        syntax: "compact:LOW",
        parse: |arg| {
            let arg = arg.ok_or("needs the low watermark, e.g. compact:0.5")?;
            arg.parse::<f64>()
                .ok()
                .filter(|low| *low > 0.0 && *low <= 1.0)
                .map(|low| PolicySpec::Compact { low })
                .ok_or_else(|| format!("{arg:?} is not a share in (0, 1]"))
        },
    },
    Entry {
        name: "recall",
        syntax: "recall:K",
        parse: |arg| {
            let arg = arg.ok_or("needs the most rounds to recall, e.g. recall:4")?;
            arg.parse::<NonZeroUsize>()
                .map(PolicySpec::Recall)
                .map_err(|_| format!("{arg:?} is not a number of rounds >= 1"))
        },
    },
    Entry {
        name: "clear-tools",
        syntax: "clear-tools[:KEEP]",
        parse: |arg| {
            let keep = match arg {
                None => ClearTools::DEFAULT_KEEP,
                Some(arg) => arg
                    .parse::<usize>()
                    .map_err(|_| format!("{arg:?} is not a number of results to keep >= 0"))?,
            };
            Ok(PolicySpec::ClearTools(ClearTools::new(keep)))
        },
    },
    Entry {
        name: "cap",
        syntax: "cap:TOKENS",
        parse: |arg| {
            let arg = arg.ok_or("needs the most tokens a message keeps, e.g. cap:8000")?;
            let tokens = arg
                .parse::<usize>()
                .map_err(|_| format!("{arg:?} is not a number of tokens"))?;
            Cap::new(tokens).map_err(|err| match err {
                Error::InvalidConfig { reason, .. } => reason,
                other => other.to_string(),
            })?;
            Ok(PolicySpec::Cap(tokens))
        },
    },
];

fn no_argument(arg: Option<&str>, spec: PolicySpec) -> std::result::Result<PolicySpec, String> {
    match arg {
        None => Ok(spec),
        Some(arg) => Err(format!("takes no argument, got {arg:?}")),
    }
}

/// The valid spellings, for error messages and help texts.
pub(crate) fn valid_specs() -> String {
    let mut specs: Vec<&str> = TABLE.iter().map(|entry| entry.syntax).collect();
    specs.push("A+B (chain)");
    specs.join(", ")
}

impl PolicySpec {
    /// Build the policy; a rolling summary uses the offline [`Extractive`] summarizer, and
    /// recall a fresh in-memory index ([`Index::in_memory`]).
    pub fn build(&self) -> Result<Box<dyn ContextPolicy>> {
        self.build_with(Arc::new(Extractive::new()))
    }

    /// Build the policy; a rolling summary uses `summarizer`, and recall a fresh in-memory
    /// index ([`Index::in_memory`]).
    pub fn build_with(&self, summarizer: Arc<dyn Summarizer>) -> Result<Box<dyn ContextPolicy>> {
        self.build_with_index(summarizer, &Index::in_memory("default"))
    }

    /// Build the policy; a rolling summary uses `summarizer`, and recall uses `index` (its
    /// embedder, its store and its conversation id).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chatctx::policy::PolicySpec;
    /// use chatctx::retrieval::{Index, InMemory, NGrams};
    /// use chatctx::summarizer::Extractive;
    ///
    /// let index = Index::new(Arc::new(NGrams::new()), Arc::new(InMemory::new(512)), "chat-42")?;
    /// let spec: PolicySpec = "recall:4".parse()?;
    /// let policy = spec.build_with_index(Arc::new(Extractive::new()), &index)?;
    /// # Ok::<(), chatctx::Error>(())
    /// ```
    pub fn build_with_index(
        &self,
        summarizer: Arc<dyn Summarizer>,
        index: &Index,
    ) -> Result<Box<dyn ContextPolicy>> {
        self.build_inner(summarizer, index, None)
    }

    /// Like [`PolicySpec::build_with_index`], with every rolling summary giving up on its
    /// summarizer after `timeout` ([`RollingSummary::with_timeout`]; the CLI's
    /// `--summarizer-timeout`).
    pub fn build_with_summarizer_timeout(
        &self,
        summarizer: Arc<dyn Summarizer>,
        index: &Index,
        timeout: Duration,
    ) -> Result<Box<dyn ContextPolicy>> {
        self.build_inner(summarizer, index, Some(timeout))
    }

    fn build_inner(
        &self,
        summarizer: Arc<dyn Summarizer>,
        index: &Index,
        timeout: Option<Duration>,
    ) -> Result<Box<dyn ContextPolicy>> {
        Ok(match self {
            PolicySpec::PassThrough => Box::new(PassThrough),
            PolicySpec::LastRounds(rounds) => Box::new(LastRounds::new(*rounds)),
            PolicySpec::TokenBudget => Box::new(TokenBudget),
            PolicySpec::RollingSummary { threshold } => {
                if !(*threshold > 0.0 && *threshold <= 1.0) {
                    return Err(Error::config(
                        "threshold",
                        format!("{threshold} is not a share in (0, 1]"),
                    ));
                }
                let policy = RollingSummary::new(summarizer).with_threshold(*threshold);
                Box::new(match timeout {
                    Some(timeout) => policy.with_timeout(timeout),
                    None => policy,
                })
            }
            PolicySpec::Compact { low } => Box::new(Compact::new(*low)?),
            PolicySpec::Recall(rounds) => Box::new(Recall::new(index.clone(), *rounds)),
            PolicySpec::ClearTools(policy) => {
                policy.check()?;
                Box::new(policy.clone())
            }
            PolicySpec::Cap(tokens) => Box::new(Cap::new(*tokens)?),
            PolicySpec::Chain(specs) => Box::new(Chain::from_boxed(
                specs
                    .iter()
                    .map(|spec| spec.build_inner(Arc::clone(&summarizer), index, timeout))
                    .collect::<Result<_>>()?,
            )),
        })
    }
}

impl PolicySpec {
    /// Check settings that the JSON form can carry out of range.
    fn check(&self) -> Result<()> {
        match self {
            PolicySpec::ClearTools(policy) => policy.check(),
            PolicySpec::Cap(tokens) => Cap::new(*tokens).map(|_| ()),
            PolicySpec::Chain(specs) => specs.iter().try_for_each(PolicySpec::check),
            _ => Ok(()),
        }
    }
}

impl FromStr for PolicySpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        if spec.trim_start().starts_with('{') {
            let parsed: PolicySpec = serde_json::from_str(spec).map_err(|err| {
                Error::config("policy", format!("{spec:?}: not a JSON policy spec: {err}"))
            })?;
            parsed.check().map_err(|err| match err {
                Error::InvalidConfig { setting, reason } => {
                    Error::config("policy", format!("{spec:?}: {setting}: {reason}"))
                }
                other => other,
            })?;
            return Ok(parsed);
        }
        if spec.contains('+') {
            return spec
                .split('+')
                .map(str::parse)
                .collect::<Result<_>>()
                .map(PolicySpec::Chain);
        }
        let (name, arg) = match spec.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (spec, None),
        };
        let entry = TABLE
            .iter()
            .find(|entry| entry.name == name.trim())
            .ok_or_else(|| {
                Error::config(
                    "policy",
                    format!("unknown policy spec {spec:?}; valid: {}", valid_specs()),
                )
            })?;
        (entry.parse)(arg.map(str::trim)).map_err(|reason| {
            Error::config("policy", format!("{spec:?}: {}: {reason}", entry.syntax))
        })
    }
}

impl fmt::Display for PolicySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySpec::PassThrough => f.write_str("pass-through"),
            PolicySpec::LastRounds(rounds) => write!(f, "last-rounds:{rounds}"),
            PolicySpec::TokenBudget => f.write_str("token-budget"),
            PolicySpec::Recall(rounds) => write!(f, "recall:{rounds}"),
            PolicySpec::RollingSummary { threshold } => {
                if *threshold == RollingSummary::DEFAULT_THRESHOLD {
                    f.write_str("rolling-summary")
                } else {
                    write!(f, "rolling-summary:{threshold}")
                }
            }
            PolicySpec::Compact { low } => write!(f, "compact:{low}"),
            PolicySpec::ClearTools(policy) => write!(f, "{policy}"),
            PolicySpec::Cap(tokens) => write!(f, "cap:{tokens}"),
            PolicySpec::Chain(specs) => {
                for (position, spec) in specs.iter().enumerate() {
                    if position > 0 {
                        f.write_str("+")?;
                    }
                    write!(f, "{spec}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// (spelling, spec, display).
    const ROUND_TRIPS: &[(&str, &str)] = &[
        ("pass-through", "pass-through"),
        ("last-rounds:8", "last-rounds:8"),
        ("token-budget", "token-budget"),
        ("rolling-summary", "rolling-summary"),
        ("rolling-summary:0.7", "rolling-summary"),
        ("rolling-summary:0.5", "rolling-summary:0.5"),
        ("last-rounds:20+token-budget", "last-rounds:20+token-budget"),
        ("compact:0.5", "compact:0.5"),
        ("recall:4", "recall:4"),
        ("recall:2+token-budget", "recall:2+token-budget"),
        ("clear-tools", "clear-tools:3"),
        ("clear-tools:0", "clear-tools:0"),
        (
            "cap:8000+clear-tools:3+token-budget",
            "cap:8000+clear-tools:3+token-budget",
        ),
        (
            r#"{"clear_tools": {"keep": 2, "at_least": 30000}}"#,
            r#"{"clear_tools":{"keep":2,"at_least":30000,"exclude":[],"trigger":1.0,"clear_inputs":false}}"#,
        ),
    ];

    #[test]
    fn spellings_round_trip() {
        for &(spelling, display) in ROUND_TRIPS {
            let spec: PolicySpec = spelling.parse().unwrap();
            assert_eq!(spec.to_string(), display);
            assert_eq!(display.parse::<PolicySpec>().unwrap(), spec);
            assert!(spec.build().is_ok());
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(
                serde_json::from_str::<PolicySpec>(&json).unwrap(),
                spec,
                "{json}"
            );
        }
        assert_eq!(
            serde_json::to_string(&"rolling-summary:0.5".parse::<PolicySpec>().unwrap()).unwrap(),
            r#"{"rolling-summary":{"threshold":0.5}}"#
        );
    }

    #[test]
    fn bad_spellings_name_the_spec_and_the_valid_ones() {
        for bad in [
            "newest",
            "last-rounds",
            "last-rounds:0",
            "last-rounds:x",
            "token-budget:3",
            "rolling-summary:1.5",
            "rolling-summary:0",
            "pass-through+",
            "compact:1.3",
            "recall",
            "recall:0",
            "recall:many",
            "cap:0",
            "cap",
            "cap:31",
            "clear-tools:-1",
            r#"{"clear_tools": {"keep": 2, "keepp": 1}}"#,
            r#"{"clear_tools": {"trigger": 2.0}}"#,
            r#"{"nonsense": 1}"#,
        ] {
            let Err(Error::InvalidConfig { setting, reason }) = bad.parse::<PolicySpec>() else {
                panic!("{bad} parsed");
            };
            assert_eq!(setting, "policy");
            assert!(reason.contains('"'), "{reason}");
        }
        let error = "newest".parse::<PolicySpec>().unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid policy: unknown policy spec \"newest\"; valid: pass-through, last-rounds:N, \
             token-budget, rolling-summary[:THRESHOLD], compact:LOW, recall:K, \
             clear-tools[:KEEP], cap:TOKENS, A+B (chain)"
        );
    }
}
