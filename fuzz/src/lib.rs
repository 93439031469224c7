//! Helpers shared by the fuzz targets: a minimal executor and input decoding.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use chatctx::{ChatRequest, Message};

/// Wakes the thread that blocks on the future.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Run `future` to completion on the current thread (the policies need no runtime).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// The messages of `data` when it is a valid chat request (body or bare array).
pub fn messages(data: &[u8]) -> Option<Vec<Message>> {
    let text = std::str::from_utf8(data).ok()?;
    ChatRequest::from_json(text)
        .ok()
        .map(|request| request.messages)
}

/// The tokens of a rendered prompt: each special token of the vocabulary (`<|im_start|>`,
/// `<｜User｜>`...) or of `extra` (the template's own, e.g. Qwen3's `<think>` over the Qwen2.5
/// vocabulary) is one token; the text between them is counted as ordinary text.
pub fn rendered_tokens(counter: &dyn chatctx::TokenCounter, extra: &[&str], text: &str) -> usize {
    let mut total = 0;
    let mut plain_start = 0;
    let mut at = 0;
    while let Some(offset) = text[at..].find(['<', '｜']) {
        let start = at + offset;
        match special_at(counter, extra, &text[start..]) {
            Some(length) => {
                total += counter.count(&text[plain_start..start]) + 1;
                at = start + length;
                plain_start = at;
            }
            None => at = start + text[start..].chars().next().map_or(1, char::len_utf8),
        }
    }
    total + counter.count(&text[plain_start..])
}

/// Whether `text` holds a special token of `counter`'s vocabulary or of `extra` anywhere.
pub fn has_special(counter: &dyn chatctx::TokenCounter, extra: &[&str], text: &str) -> bool {
    text.match_indices(['<', '｜'])
        .any(|(start, _)| special_at(counter, extra, &text[start..]).is_some())
}

/// The length of the special token `text` starts with, if it does: `<|...|>`, `<｜...｜>`,
/// `<name>` / `</name>` spelled with letters and underscores, or DeepSeek-V4's `｜DSML｜`.
fn special_at(counter: &dyn chatctx::TokenCounter, extra: &[&str], text: &str) -> Option<usize> {
    let candidates = [("<|", "|>"), ("<｜", "｜>"), ("<", ">"), ("｜", "｜")];
    for (open, close) in candidates {
        let Some(rest) = text.strip_prefix(open) else {
            continue;
        };
        let Some(end) = rest.find(close) else {
            continue;
        };
        let inner = &rest[..end];
        let plain_name = inner
            .strip_prefix('/')
            .unwrap_or(inner)
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
        let named = open == "<" || open == "｜";
        if inner.is_empty() || inner.len() > 64 || (named && !plain_name) {
            continue;
        }
        let length = open.len() + end + close.len();
        let token = &text[..length];
        if counter.special_token(token).is_some() || extra.contains(&token) {
            return Some(length);
        }
    }
    None
}
