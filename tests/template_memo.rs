//! Incremental counting: across a growing conversation each text is tokenized once.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chatctx::template::Family;
use chatctx::tokens::{TokenCounter, Vocabulary};
use chatctx::Message;

#[derive(Debug)]
struct Instrumented {
    inner: Arc<dyn TokenCounter>,
    calls: Mutex<HashMap<String, usize>>,
}

impl TokenCounter for Instrumented {
    fn name(&self) -> &str {
        "instrumented"
    }
    fn count(&self, text: &str) -> usize {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(text.to_string())
            .or_default() += 1;
        self.inner.count(text)
    }
    fn special_token(&self, _token: &str) -> Option<u32> {
        None
    }
}

#[test]
fn each_text_counted_once_as_the_conversation_grows() {
    for family in Family::ALL {
        let instrumented = Arc::new(Instrumented {
            inner: Vocabulary::Cl100kBase.counter(),
            calls: Mutex::new(HashMap::new()),
        });
        let counter = family.prompt_counter(instrumented.clone());
        let mut messages = vec![Message::system("You are terse.")];
        let mut last = 0;
        for round in 0..20 {
            messages.push(Message::user(format!("question number {round}?")));
            let total = counter.count(&messages);
            assert!(total > last, "{family}: the count grows");
            let _ = counter.overhead(&messages);
            messages.push(Message::assistant(format!("answer number {round}.")));
            last = total;
        }
        let calls = instrumented.calls.lock().unwrap();
        let repeated: Vec<_> = calls.iter().filter(|(_, &n)| n > 1).collect();
        assert!(
            repeated.is_empty(),
            "{family}: counted more than once: {repeated:?}"
        );
        assert!(
            calls.len() < 200,
            "{family}: {} distinct texts",
            calls.len()
        );
    }
}
