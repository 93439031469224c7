//! Runtime-agnostic helpers: run blocking work on a thread, and bound a future by a deadline.
//!
//! chatctx does not pick an async runtime. Both helpers use one plain OS thread and a waker,
//! so they work under tokio, async-std, smol or a hand-written executor alike.

use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// A value handed from a thread to a future.
#[derive(Debug)]
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    done: bool,
}

type Shared<T> = Arc<(Mutex<Slot<T>>, Condvar)>;

fn shared<T>() -> Shared<T> {
    Arc::new((
        Mutex::new(Slot {
            value: None,
            waker: None,
            done: false,
        }),
        Condvar::new(),
    ))
}

fn complete<T>(shared: &Shared<T>, value: Option<T>) {
    let mut slot = shared.0.lock().unwrap_or_else(PoisonError::into_inner);
    slot.value = value;
    slot.done = true;
    if let Some(waker) = slot.waker.take() {
        waker.wake();
    }
}

/// Whether the thread finished; takes its value (or `None` if it panicked) when it did.
fn poll_slot<T>(shared: &Shared<T>, cx: &Context<'_>) -> Poll<Option<T>> {
    let mut slot = shared.0.lock().unwrap_or_else(PoisonError::into_inner);
    if slot.done {
        Poll::Ready(slot.value.take())
    } else {
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Run the blocking `work` on a new thread; the returned future resolves to its result, or to
/// `None` if `work` panicked.
pub(crate) fn run_blocking<T, F>(work: F) -> impl Future<Output = Option<T>> + Send
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = shared();
    let thread_slot = Arc::clone(&slot);
    let spawned = thread::Builder::new()
        .name("chatctx-blocking".into())
        .spawn(move || {
            struct Guard<T>(Shared<T>);
            impl<T> Drop for Guard<T> {
                fn drop(&mut self) {
                    // Reached with a value already set, or by unwinding from a panic.
                    let done = self.0 .0.lock().map(|slot| slot.done).unwrap_or(true);
                    if !done {
                        complete(&self.0, None);
                    }
                }
            }
            let guard = Guard(thread_slot);
            let value = work();
            complete(&guard.0, Some(value));
        });
    if spawned.is_err() {
        complete(&slot, None);
    }
    std::future::poll_fn(move |cx| poll_slot(&slot, cx))
}

/// Resolve to `Some(output)` if `future` finishes within `limit`, else to `None` (the future is
/// then dropped).
pub(crate) async fn timeout<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let timer: Shared<()> = shared();
    let thread_timer = Arc::clone(&timer);
    let spawned = thread::Builder::new()
        .name("chatctx-timer".into())
        .spawn(move || {
            let (lock, condvar) = &*thread_timer;
            let slot = lock.lock().unwrap_or_else(PoisonError::into_inner);
            // Woken early (and `done` set) when the future finished first.
            let (slot, _) = condvar
                .wait_timeout_while(slot, limit, |slot| !slot.done)
                .unwrap_or_else(PoisonError::into_inner);
            drop(slot);
            complete(&thread_timer, Some(()));
        });
    let mut future = Box::pin(future);
    let output = std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if spawned.is_err() {
            return Poll::Pending; // no timer: wait for the future alone
        }
        match poll_slot(&timer, cx) {
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    // Stop the timer thread.
    let (lock, condvar) = &*timer;
    lock.lock().unwrap_or_else(PoisonError::into_inner).done = true;
    condvar.notify_all();
    output
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn blocking_work_resolves_and_panics_become_none() {
        assert_eq!(run_blocking(|| 6 * 7).await, Some(42));
        let panicked: Option<u8> = run_blocking(|| panic!("boom")).await;
        assert_eq!(panicked, None);
    }

    #[tokio::test]
    async fn timeout_lets_fast_futures_through_and_cuts_slow_ones() {
        assert_eq!(timeout(Duration::from_secs(5), async { 1 }).await, Some(1));
        let started = Instant::now();
        let slow = run_blocking(|| thread::sleep(Duration::from_secs(3)));
        assert_eq!(timeout(Duration::from_millis(50), slow).await, None);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
