//! Every policy on arbitrary parsed conversations and small windows: never panics, and what a
//! policy returns keeps its promises (messages in order and unchanged but the reported
//! placeholders and cuts, pinned messages, the last round's opening message and newest step
//! kept, no step split).
#![no_main]

use chatctx::conversation::Conversation;
use chatctx::policy::{is_summary, Input, Limits, PolicySpec, PolicyState};
use chatctx::Model;
use libfuzzer_sys::fuzz_target;

const SPECS: [&str; 10] = [
    "pass-through",
    "last-rounds:1",
    "last-rounds:3",
    "token-budget",
    "rolling-summary",
    "rolling-summary:0.3",
    "compact:0.5",
    "last-rounds:2+token-budget",
    "clear-tools:1",
    "cap:64+clear-tools:1+token-budget",
];

const MODELS: [&str; 3] = ["gpt-4o", "qwen-plus", "deepseek-chat"];

fuzz_target!(|data: &[u8]| {
    // Two leading bytes choose the window and the reservation; the rest is the request.
    let [window, reserved, rest @ ..] = data else {
        return;
    };
    let Some(messages) = chatctx_fuzz::messages(rest) else {
        return;
    };
    let limits = Limits::new(usize::from(*window) * 8, usize::from(*reserved) % 64);
    let conversation = Conversation::new(&messages);
    let model = MODELS[usize::from(*reserved) % MODELS.len()];
    let Ok(model) = Model::resolve(model) else {
        return;
    };
    let counter = model.prompt_counter();
    for spec in SPECS {
        let Ok(spec) = spec.parse::<PolicySpec>() else {
            continue;
        };
        let Ok(policy) = spec.build() else {
            continue;
        };
        let mut state = PolicyState::default();
        for _ in 0..2 {
            let input = Input::new(&messages, &conversation, limits, counter.as_ref());
            let Ok(outcome) = chatctx_fuzz::block_on(policy.apply(input, &mut state)) else {
                break;
            };
            check(&messages, &conversation, &outcome);
        }
    }
});

fn check(
    messages: &[chatctx::Message],
    conversation: &Conversation,
    outcome: &chatctx::policy::Outcome,
) {
    assert_eq!(outcome.messages.len(), outcome.sources.len());
    let mut last = None;
    for (message, source) in outcome.messages.iter().zip(&outcome.sources) {
        match source {
            Some(index) => {
                let edited =
                    outcome.report.cleared.contains(index) || outcome.report.capped.contains(index);
                if !edited {
                    assert_eq!(
                        Some(message),
                        messages.get(*index),
                        "altered message {index}"
                    );
                }
                assert!(last < Some(*index), "messages out of order");
                last = Some(*index);
            }
            None => assert!(is_summary(message), "unsourced message is not a summary"),
        }
    }
    for &pinned in conversation.pinned() {
        assert!(
            outcome.report.kept.contains(&pinned),
            "pinned {pinned} not kept"
        );
    }
    // the last round's opening message and newest step, and only whole steps
    if let Some(round) = conversation.last_round() {
        assert!(
            outcome.report.kept.contains(&round.start()),
            "last round's opening {} not kept",
            round.start()
        );
    }
    if let Some(step) = conversation.last_steps().last() {
        for index in step.range() {
            assert!(
                outcome.report.kept.contains(&index),
                "newest step {index} not kept"
            );
        }
    }
    for round in 0..conversation.rounds().len() {
        for step in conversation.steps(round) {
            let sent = step
                .range()
                .filter(|i| outcome.report.kept.contains(i))
                .count();
            assert!(
                sent == 0 || sent == step.len(),
                "step {:?} split",
                step.range()
            );
        }
    }
    let mut all: Vec<usize> = outcome
        .report
        .kept
        .iter()
        .chain(&outcome.report.dropped)
        .chain(&outcome.report.summarized)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..messages.len()).collect::<Vec<_>>(),
        "report does not partition"
    );
}
