//! Per-model prices.

use std::sync::RwLock;

use serde::Serialize;

use super::CacheModel;

/// Prices in US dollars per million tokens, plus how the provider caches prompts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pricing {
    /// Input tokens that miss the cache.
    pub input: f64,
    /// Input tokens served from the prompt cache.
    pub cached_input: f64,
    /// Output tokens.
    pub output: f64,
    /// How the provider caches prompt prefixes.
    pub cache: CacheModel,
}

/// One row of the built-in price table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceEntry {
    /// A model name, or a prefix ending in `*` (`gpt-5-*`).
    pub pattern: &'static str,
    /// The prices, or `None` where no price could be confirmed (the row keeps a shorter
    /// pattern from pricing the model wrongly).
    pub pricing: Option<Pricing>,
    /// Where the prices come from.
    pub source: &'static str,
    /// When they were last checked (ISO date).
    pub checked: &'static str,
}

const fn row(
    pattern: &'static str,
    prices: (f64, f64, f64),
    cache: CacheModel,
    source: &'static str,
    checked: &'static str,
) -> PriceEntry {
    PriceEntry {
        pattern,
        pricing: Some(Pricing {
            input: prices.0,
            cached_input: prices.1,
            output: prices.2,
            cache,
        }),
        source,
        checked,
    }
}

const fn unpriced(
    pattern: &'static str,
    source: &'static str,
    checked: &'static str,
) -> PriceEntry {
    PriceEntry {
        pattern,
        pricing: None,
        source,
        checked,
    }
}

const DEEPSEEK_PAGE: &str = "DeepSeek \"Models & Pricing\" (api-docs.deepseek.com/quick_start/pricing), read through full copies of the page (bittide.aicompass.dev; tokenmix.ai 2026-05-23; devtk.ai): V4-Flash $0.0028 hit / $0.14 miss / $0.28 out; cache-hit prices cut to 1/10 from 2026-04-26; V4-Pro's 75% discount permanent after 2026-05-31. The page itself is not reachable from the build machine";
const OPENAI_PAGES: &str = "OpenAI model pages (developers.openai.com/api/docs/models/gpt-5-nano, gpt-5.1, gpt-5-codex; their quick-comparison rows give gpt-5 and gpt-5-mini)";
const OPENAI_2026: &str = "OpenAI pricing page as quoted by tokenmix.ai (data verified 2026-06-04) and the adk-model crate's OpenAI table (March 2026); not read on openai.com itself";
const CARRIED: &str =
    "carried over from chatctx's first price table (provider pricing pages, 2025); not re-checked";

/// The built-in prices: US dollars per million tokens (lowest context tier where a provider
/// tiers by prompt length), each row with its source and the date it was checked. Patterns
/// ending in `*` are prefixes; the longest matching pattern wins, an exact name beats a
/// prefix.
pub const PRICES: &[PriceEntry] = &[
    row("deepseek-v4-flash*", (0.14, 0.0028, 0.28), CacheModel::DEEPSEEK, DEEPSEEK_PAGE, "2026-11-30"),
    row("deepseek-v4-pro*", (0.435, 0.003625, 0.87), CacheModel::DEEPSEEK, DEEPSEEK_PAGE, "2026-11-30"),
    row("deepseek-chat*", (0.14, 0.0028, 0.28), CacheModel::DEEPSEEK, "retired alias (after 2026-07-24) billed as deepseek-v4-flash; same page", "2026-11-30"),
    row("deepseek-reasoner*", (0.14, 0.0028, 0.28), CacheModel::DEEPSEEK, "retired alias (after 2026-07-24) billed as deepseek-v4-flash; same page", "2026-11-30"),
    row("qwen3-max*", (1.2, 0.24, 6.0), CacheModel::QWEN_IMPLICIT, "Vercel AI Gateway model page for alibaba/qwen3-max ($1.2 / $6.0, 0-32K tier, as Alibaba's international list); cached = 20% of input per Model Studio \"Context Cache\" (2026-10-11)", "2026-11-30"),
    row("qwen3.6-plus*", (0.5, 0.1, 3.0), CacheModel::QWEN_IMPLICIT, "NOT confirmed on Alibaba Cloud's own page: $0.50 / $3.00 (input up to 256K) as listed by the reseller shortapi.ai; cached = 20% of input per Model Studio \"Context Cache\" (2026-10-11)", "2026-11-30"),
    row("qwen-max*", (1.6, 0.32, 6.4), CacheModel::QWEN_IMPLICIT, CARRIED, "2025-09"),
    row("qwen-plus*", (0.4, 0.08, 1.2), CacheModel::QWEN_IMPLICIT, CARRIED, "2025-09"),
    row("qwen-turbo*", (0.05, 0.01, 0.2), CacheModel::QWEN_IMPLICIT, CARRIED, "2025-09"),
    row("qwen-flash*", (0.05, 0.01, 0.4), CacheModel::QWEN_IMPLICIT, CARRIED, "2025-09"),
    row("gpt-5", (1.25, 0.125, 10.0), CacheModel::OPENAI, OPENAI_PAGES, "2026-11-30"),
    row("gpt-5-*", (1.25, 0.125, 10.0), CacheModel::OPENAI, OPENAI_PAGES, "2026-11-30"),
    unpriced("gpt-5-pro*", "no price confirmed (GPT-5 pro is priced apart from gpt-5)", "2026-11-30"),
    row("gpt-5-mini*", (0.25, 0.025, 2.0), CacheModel::OPENAI, OPENAI_PAGES, "2026-11-30"),
    row("gpt-5-nano*", (0.05, 0.005, 0.4), CacheModel::OPENAI, "OpenAI model page gpt-5-nano (developers.openai.com)", "2026-11-30"),
    row("gpt-5.1*", (1.25, 0.125, 10.0), CacheModel::OPENAI, "OpenAI model page gpt-5.1 (developers.openai.com)", "2026-11-30"),
    row("gpt-5.2*", (1.75, 0.175, 14.0), CacheModel::OPENAI, "NOT read on openai.com: the ShellPilot price table (effective 2026-06-01)", "2026-11-30"),
    row("gpt-5.4*", (2.5, 0.25, 15.0), CacheModel::OPENAI, OPENAI_2026, "2026-11-30"),
    row("gpt-5.4-mini*", (0.75, 0.075, 4.5), CacheModel::OPENAI, OPENAI_2026, "2026-11-30"),
    row("gpt-5.4-nano*", (0.2, 0.02, 1.25), CacheModel::OPENAI, OPENAI_2026, "2026-11-30"),
    row("gpt-5.5*", (5.0, 0.5, 30.0), CacheModel::OPENAI, OPENAI_2026, "2026-11-30"),
    row("gpt-4o-mini*", (0.15, 0.075, 0.6), CacheModel::OPENAI, CARRIED, "2025-09"),
    row("gpt-4o*", (2.5, 1.25, 10.0), CacheModel::OPENAI, CARRIED, "2025-09"),
    row("gpt-4.1-nano*", (0.1, 0.025, 0.4), CacheModel::OPENAI, CARRIED, "2025-09"),
    row("gpt-4.1-mini*", (0.4, 0.1, 1.6), CacheModel::OPENAI, CARRIED, "2025-09"),
    row("gpt-4.1*", (2.0, 0.5, 8.0), CacheModel::OPENAI, CARRIED, "2025-09"),
    row("gpt-3.5-turbo*", (0.5, 0.5, 1.5), CacheModel::NONE, "carried over (no prompt caching for gpt-3.5-turbo); not re-checked", "2025-09"),
    row("o4-mini*", (1.1, 0.275, 4.4), CacheModel::OPENAI, CARRIED, "2025-09"),
    row("o3*", (2.0, 0.5, 8.0), CacheModel::OPENAI, CARRIED, "2025-09"),
];

/// Prices registered at run time ([`Pricing::register`]), checked before [`PRICES`].
static REGISTERED: RwLock<Vec<(String, Pricing)>> = RwLock::new(Vec::new());

/// Whether `name` (lowercase) matches `pattern`: exactly, or by prefix for `prefix*`.
/// Returns the match's rank: exact matches beat any prefix, longer prefixes beat shorter.
pub(crate) fn pattern_rank(pattern: &str, name: &str) -> Option<usize> {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix).then_some(prefix.len()),
        None => (pattern == name).then_some(usize::MAX),
    }
}

impl Pricing {
    /// DeepSeek-V4-Flash list prices (see [`PRICES`]).
    pub const DEEPSEEK: Pricing = Pricing {
        input: 0.14,
        cached_input: 0.0028,
        output: 0.28,
        cache: CacheModel::DEEPSEEK,
    };

    /// The prices of `model`: registered ones first, then the built-in table.
    ///
    /// ```
    /// use chatctx::cost::Pricing;
    /// let flash = Pricing::for_model("deepseek-v4-flash").unwrap();
    /// assert_eq!(flash.cached_input, 0.0028);
    /// assert!(Pricing::for_model("my-local-llama").is_none());
    /// ```
    pub fn for_model(model: &str) -> Option<Pricing> {
        let model = model.to_ascii_lowercase();
        if let Ok(registered) = REGISTERED.read() {
            let best = registered
                .iter()
                .filter_map(|(pattern, pricing)| {
                    pattern_rank(pattern, &model).map(|rank| (rank, *pricing))
                })
                .max_by_key(|(rank, _)| *rank);
            if let Some((_, pricing)) = best {
                return Some(pricing);
            }
        }
        Pricing::builtin(&model).and_then(|entry| entry.pricing)
    }

    /// The built-in row that prices `model`, if any.
    pub fn builtin(model: &str) -> Option<&'static PriceEntry> {
        let model = model.to_ascii_lowercase();
        PRICES
            .iter()
            .filter_map(|entry| pattern_rank(entry.pattern, &model).map(|rank| (rank, entry)))
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, entry)| entry)
    }

    /// Prices for a model name or `prefix*` pattern, used by [`Pricing::for_model`] before the
    /// built-in table (a later registration of the same pattern replaces an earlier one).
    pub fn register(pattern: &str, pricing: Pricing) {
        if let Ok(mut registered) = REGISTERED.write() {
            registered.retain(|(known, _)| !known.eq_ignore_ascii_case(pattern));
            registered.push((pattern.to_string(), pricing));
        }
    }

    /// Remove the prices registered for `pattern` (the built-in table is untouched).
    pub fn unregister(pattern: &str) {
        if let Ok(mut registered) = REGISTERED.write() {
            registered.retain(|(known, _)| !known.eq_ignore_ascii_case(pattern));
        }
    }

    /// The model patterns the built-in table prices.
    pub fn known_models() -> Vec<&'static str> {
        PRICES
            .iter()
            .filter(|entry| entry.pricing.is_some())
            .map(|entry| entry.pattern)
            .collect()
    }

    /// The bill for `prompt` input tokens of which `cached` hit the cache, and `output` tokens.
    pub fn bill(&self, prompt: usize, cached: usize, output: usize) -> Bill {
        let cached = cached.min(prompt);
        let per_token = |price: f64| price / 1_000_000.0;
        Bill {
            prompt_tokens: prompt,
            cached_tokens: cached,
            output_tokens: output,
            usd: (prompt - cached) as f64 * per_token(self.input)
                + cached as f64 * per_token(self.cached_input)
                + output as f64 * per_token(self.output),
        }
    }
}

/// Tokens and dollars of one request or a sum of requests.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Bill {
    /// Input tokens.
    pub prompt_tokens: usize,
    /// Input tokens that hit the cache.
    pub cached_tokens: usize,
    /// Output tokens.
    pub output_tokens: usize,
    /// Cost in US dollars.
    pub usd: f64,
}

impl std::ops::AddAssign for Bill {
    fn add_assign(&mut self, other: Bill) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_tokens += other.cached_tokens;
        self.output_tokens += other.output_tokens;
        self.usd += other.usd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepseek_bill_by_hand() {
        // 10,000 prompt tokens, 6,400 cached, 500 output (V4-Flash):
        // 3,600 * 0.14e-6 + 6,400 * 0.0028e-6 + 500 * 0.28e-6 = 0.000504 + 0.00001792 + 0.00014
        let bill = Pricing::DEEPSEEK.bill(10_000, 6_400, 500);
        assert!((bill.usd - 0.00066192).abs() < 1e-12, "{}", bill.usd);
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(
            Pricing::for_model("gpt-4o-mini-2024").map(|p| p.input),
            Some(0.15)
        );
        assert_eq!(Pricing::for_model("GPT-4o").map(|p| p.input), Some(2.5));
        assert_eq!(
            Pricing::for_model("gpt-5-mini").map(|p| p.input),
            Some(0.25)
        );
        assert_eq!(
            Pricing::for_model("gpt-5.4-nano").map(|p| p.input),
            Some(0.2)
        );
    }

    #[test]
    fn exact_names_do_not_price_newer_models() {
        assert_eq!(Pricing::for_model("gpt-5").map(|p| p.output), Some(10.0));
        assert_eq!(
            Pricing::for_model("gpt-5-2025-08-07").map(|p| p.output),
            Some(10.0)
        );
        // a later generation is not priced as gpt-5 by accident
        assert_eq!(Pricing::for_model("gpt-5.6-luna"), None);
        assert_eq!(Pricing::for_model("gpt-5-pro"), None);
    }

    #[test]
    fn registered_prices_come_first() {
        let mine = Pricing {
            input: 9.0,
            cached_input: 0.9,
            output: 18.0,
            cache: CacheModel::OPENAI,
        };
        Pricing::register("pricing-test-model-*", mine);
        assert_eq!(Pricing::for_model("pricing-test-model-7"), Some(mine));
        assert_eq!(Pricing::for_model("pricing-test-other"), None);
    }
}
