//! The merge loops: the same BPE (merge the lowest-priority adjacent pair, leftmost first,
//! until none merges) in four forms, for pieces of different shapes (see `mod.rs`).

use std::cmp::Reverse;

use super::{pair, Scratch, NO_MERGE};
use crate::tokens::table::{Tables, EMPTY};

/// `count` adjacent parts with the same token id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    id: u32,
    count: u32,
}

/// tiktoken's scan: find the lowest pair, merge it, update its two neighbours.
pub(super) fn count_scan(t: &Tables, s: &mut Scratch) -> usize {
    let Scratch { ids, prios, .. } = s;
    prios.clear();
    for w in ids.windows(2) {
        t.merges.prefetch(w[0], w[1]);
    }
    prios.extend(ids.windows(2).map(|w| pair(t, w[0], w[1])));
    loop {
        let mut best = NO_MERGE;
        let mut at = 0;
        for (i, &p) in prios.iter().enumerate() {
            if p < best {
                best = p;
                at = i;
            }
        }
        if best == NO_MERGE {
            break;
        }
        ids[at] = best as u32;
        ids.remove(at + 1);
        prios.remove(at);
        if at < prios.len() {
            prios[at] = pair(t, ids[at], ids[at + 1]);
        }
        if at > 0 {
            prios[at - 1] = pair(t, ids[at - 1], ids[at]);
        }
    }
    ids.len()
}

/// Run-length merge (see `merges.rs`): while the products are settled, a merge only creates
/// candidates of a later priority, so the lowest candidate pair is merged everywhere in one
/// left-to-right sweep: inside a run of `k` equal parts (`V V -> U`) it leaves `k / 2` `U`s
/// and one `V` when `k` is odd; across two runs (`V W -> U`) it moves one part of each into a
/// new run of one `U`. `None` (with `s.ids` untouched) when a product is not settled.
pub(super) fn count_runs(t: &Tables, s: &mut Scratch) -> Option<usize> {
    let Scratch { ids, runs, .. } = s;
    runs.clear();
    for &id in ids.iter() {
        push_run(runs, id, 1);
    }
    loop {
        let mut best = NO_MERGE;
        let mut pair_ids = (EMPTY, EMPTY);
        for (i, r) in runs.iter().enumerate() {
            if r.count >= 2 {
                let p = pair(t, r.id, r.id);
                if p < best {
                    (best, pair_ids) = (p, (r.id, r.id));
                }
            }
            if let Some(next) = runs.get(i + 1) {
                let p = pair(t, r.id, next.id);
                if p < best {
                    (best, pair_ids) = (p, (r.id, next.id));
                }
            }
        }
        if best == NO_MERGE {
            break;
        }
        let new_id = best as u32;
        if !t.merges.settles(new_id) {
            return None;
        }
        let old = std::mem::take(runs);
        let (left, right) = pair_ids;
        let mut iter = old.into_iter().peekable();
        while let Some(r) = iter.next() {
            if left == right && r.id == left {
                push_run(runs, new_id, r.count / 2);
                push_run(runs, left, r.count % 2);
            } else if r.id == left && iter.peek().is_some_and(|n| n.id == right) {
                push_run(runs, left, r.count - 1);
                push_run(runs, new_id, 1);
                if let Some(n) = iter.peek_mut() {
                    n.count -= 1;
                }
            } else {
                push_run(runs, r.id, r.count);
            }
        }
    }
    Some(runs.iter().map(|r| r.count as usize).sum())
}

/// Appends `count` parts `id`, joining the last run when it has the same id.
#[inline]
fn push_run(runs: &mut Vec<Run>, id: u32, count: u32) {
    if count == 0 {
        return;
    }
    match runs.last_mut() {
        Some(last) if last.id == id => last.count += count,
        _ => runs.push(Run { id, count }),
    }
}

/// The parts of a long piece as a doubly linked list over `ids`, for the queue-driven loops.
#[derive(Debug, Default)]
pub(super) struct Links {
    next: Vec<u32>,
    prev: Vec<u32>,
}

/// No neighbour.
const NONE: u32 = u32::MAX;
/// The `prev` of a part merged away.
const DEAD: u32 = NONE - 1;

impl Links {
    /// Links `n` parts in order; calls `candidate(pair, position)` for every adjacent pair
    /// that merges.
    fn reset(&mut self, t: &Tables, ids: &[u32], mut candidate: impl FnMut(u64, u32)) {
        let n = ids.len();
        self.next.clear();
        self.prev.clear();
        for i in 0..n {
            self.next.push(if i + 1 < n { i as u32 + 1 } else { NONE });
            self.prev.push(if i > 0 { i as u32 - 1 } else { NONE });
        }
        for (i, w) in ids.windows(2).enumerate() {
            let p = pair(t, w[0], w[1]);
            if p != NO_MERGE {
                candidate(p, i as u32);
            }
        }
    }

    /// After a merge loop over `n > 0` parts: the index of the live part after the `k`-th
    /// live one (counting from 1), `None` when fewer than `k + 1` parts are alive. Part 0 is
    /// always alive (a merge keeps the left part).
    pub(super) fn after_nth_live(&self, k: usize) -> Option<u32> {
        let mut part = if self.next.is_empty() { NONE } else { 0 };
        for _ in 0..k {
            part = *self.next.get(part as usize)?;
        }
        (part != NONE).then_some(part)
    }

    /// The pair at live part `pos` with its right neighbour, if `pos` is alive and has one.
    fn pair_at(&self, t: &Tables, ids: &[u32], pos: u32) -> Option<u64> {
        let i = pos as usize;
        let j = *self.next.get(i)?;
        if j == NONE || self.prev.get(i) == Some(&DEAD) {
            return None;
        }
        Some(pair(t, *ids.get(i)?, *ids.get(j as usize)?)).filter(|&p| p != NO_MERGE)
    }

    /// Merges the part after `pos` into `pos`, which becomes `merged`, and calls
    /// `candidate(pair, position)` for the new pairs with its neighbours.
    fn merge_at(
        &mut self,
        t: &Tables,
        ids: &mut [u32],
        pos: u32,
        merged: u32,
        mut candidate: impl FnMut(u64, u32),
    ) {
        let i = pos as usize;
        let j = self.next[i] as usize;
        ids[i] = merged;
        let after = self.next[j];
        self.next[i] = after;
        if after != NONE {
            self.prev[after as usize] = pos;
        }
        self.prev[j] = DEAD;
        if after != NONE {
            let q = pair(t, merged, ids[after as usize]);
            if q != NO_MERGE {
                candidate(q, pos);
            }
        }
        let before = self.prev[i];
        if before != NONE {
            let q = pair(t, ids[before as usize], merged);
            if q != NO_MERGE {
                candidate(q, before);
            }
        }
    }
}

/// The heap merge with a bucket queue (`bucket_queue.rs`) in place of the heap, for very long
/// pieces: each priority's candidates are merged left to right, which is BPE's order while
/// the products are settled (a merge then only creates candidates of later priorities).
/// `None`, with `s.ids` as it was, when a product is not settled.
pub(super) fn count_buckets(t: &Tables, s: &mut Scratch) -> Option<usize> {
    let Scratch {
        ids,
        links,
        queue,
        batch,
        side: original,
        ..
    } = s;
    original.clear();
    original.extend_from_slice(ids);
    queue.clear();
    links.reset(t, ids, |p, pos| queue.push((p >> 32) as u32, pos));
    let mut count = ids.len();
    while let Some(priority) = queue.pop_lowest(batch) {
        for &pos in batch.iter() {
            let Some(current) = links.pair_at(t, ids, pos) else {
                continue;
            };
            if (current >> 32) as u32 != priority {
                continue;
            }
            let merged = current as u32;
            if !t.merges.settles(merged) {
                ids.clear();
                ids.extend_from_slice(original);
                return None;
            }
            links.merge_at(t, ids, pos, merged, |q, at| {
                queue.push((q >> 32) as u32, at);
            });
            count -= 1;
        }
    }
    Some(count)
}

/// Heap merge over a linked list: O(n log n) for long pieces.
pub(super) fn count_heap(t: &Tables, s: &mut Scratch) -> usize {
    let Scratch {
        ids, links, heap, ..
    } = s;
    heap.clear();
    links.reset(t, ids, |p, pos| heap.push(Reverse((p, pos))));
    let mut count = ids.len();
    while let Some(Reverse((p, pos))) = heap.pop() {
        // Hugging Face re-checks only the produced token; for tiktoken the rank is the token.
        if links.pair_at(t, ids, pos).map(|q| q as u32) != Some(p as u32) {
            continue;
        }
        links.merge_at(t, ids, pos, p as u32, |q, at| heap.push(Reverse((q, at))));
        count -= 1;
    }
    count
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tokens::Vocabulary;

    /// Every merge loop must agree on every piece, whichever is used in production.
    fn all_loops(t: &Tables, piece: &[u8]) -> [usize; 4] {
        let mut s = Scratch::default();
        let prepare = |s: &mut Scratch| {
            s.ids.clear();
            s.ids
                .extend(piece.iter().map(|&b| t.merges.byte_ids[usize::from(b)]));
        };
        prepare(&mut s);
        let scan = count_scan(t, &mut s);
        prepare(&mut s);
        let heap = count_heap(t, &mut s);
        prepare(&mut s);
        let runs = count_runs(t, &mut s).unwrap_or(heap);
        prepare(&mut s);
        let buckets = count_buckets(t, &mut s).unwrap_or(heap);
        [scan, heap, runs, buckets]
    }

    #[test]
    fn scan_heap_and_runs_agree() {
        let mut pieces: Vec<Vec<u8>> = vec![
            b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec(),
            "的的的的的的的的的的的的的的的的的的的的的的的的的"
                .as_bytes()
                .to_vec(),
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"supercalifragilisticexpialidocious_antidisestablishmentarianism".to_vec(),
            "👍🏽👨‍👩‍👧‍👦🇨🇳🇺🇸❤️‍🔥🙂🙃😀😂🤖".as_bytes().to_vec(),
            b"=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-".to_vec(),
            "和和和和和和和和和和和和和和和和和和和和和和和和和和和和和和和和和和和"
                .as_bytes()
                .to_vec(),
        ];
        // Pseudo-random letters, digits and text in several scripts: many priorities, many
        // stale candidates.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let alphabet: Vec<char> =
            "abcdefghijklmnopqrstuvwxyzABC0123 的是一人了我不ーンスル한국어éà"
                .chars()
                .collect();
        for n in [60, 300, 2000, 5000] {
            let piece: String = (0..n)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    alphabet[(rng % alphabet.len() as u64) as usize]
                })
                .collect();
            pieces.push(piece.into_bytes());
        }
        for n in [2, 3, 7, 16, 17, 31, 64, 100, 129, 255, 1000] {
            for b in [b' ', b'a', b'\n', b'-', b'0', b'\t', b'z', b'='] {
                pieces.push(vec![b; n]);
                let mut mixed = vec![b; n];
                mixed.extend_from_slice(b"ab");
                mixed.resize(mixed.len() + n / 3, b' ');
                mixed.push(b'x');
                pieces.push(mixed);
            }
        }
        for v in Vocabulary::ALL {
            let t = v.build().tables;
            assert!(t.merges.unique_products, "{v}");
            for p in &pieces {
                let [scan, heap, runs, buckets] = all_loops(&t, p);
                let text = String::from_utf8_lossy(p);
                assert_eq!(scan, heap, "{v}: {text:?}");
                assert_eq!(scan, runs, "{v}: {text:?}");
                assert_eq!(scan, buckets, "{v}: {text:?}");
            }
        }
    }
}
