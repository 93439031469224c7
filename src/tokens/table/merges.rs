//! The merge table: which two adjacent parts merge, at what priority, into which token.
//!
//! Counting works on token ids only. A Hugging Face vocabulary lists its merges; a tiktoken
//! vocabulary only ranks byte strings (any two adjacent parts whose concatenation is a token
//! may merge, the lowest rank first). [`canonical_merges`] turns the second form into the
//! first: every part tiktoken ever forms is a token `T` that BPE over `T`'s own bytes turns
//! back into `T`, and it is formed from exactly the two parts that form it in that isolated
//! run. (Parts never split, so the merges inside `T`'s span run as they would on `T` alone;
//! a pair that is not `T`'s own last merge is therefore never the lowest candidate.) So the
//! pairs `(left, right)` of those last merges, with priority `rank(T)`, give the same counts
//! as byte-string lookups, for a hash of two integers instead of a hash of bytes.
//!
//! When every token is produced by at most one merge (`unique_products`), a product `U` is
//! *settled* unless some merge taking `U` as an input has a priority below `U`'s own. Merging
//! into a settled `U` only creates candidates of a later priority, so while the products are
//! settled BPE applies priorities in increasing order and all occurrences of one pair in one
//! left-to-right sweep, which the run-length merge in `bpe/` relies on. BPE training adds
//! merges in that order, so every product of the built-in vocabularies is settled except 27 in
//! Qwen3.5's extended vocabulary (such as "人力"+"资源", ranked before "资源"); `build.rs`
//! records which.

use std::collections::HashMap;

use super::bit_filter::BitFilter;
use super::hash::hash_pair;
use super::slot_table::SlotTable;

/// One merge: `left` followed by `right` becomes `new_id`; lower `priority` merges first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Merge {
    pub(crate) left: u32,
    pub(crate) right: u32,
    pub(crate) priority: u32,
    pub(crate) new_id: u32,
}

/// The merges of a vocabulary, looked up by pair of ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct Merges {
    /// Number of merges.
    pub(crate) len: usize,
    /// `[left, right, priority, new id]` keyed by [`hash_pair`] (`slot_table.rs`): keeping
    /// the pair in the slot makes most lookups one cache line.
    slots: SlotTable,
    /// The pairs in `slots`.
    filter: BitFilter,
    /// The merges of two parts with ids below [`LOW`], indexed by `left * LOW + right`, as
    /// [`Merges::packed`] gives them: the first merges of every piece are of single bytes,
    /// whose ids are below 256 in the built-in vocabularies, and this table of 512 KB stays
    /// in the CPU cache where `slots` (megabytes) does not. Built at load time.
    low_pairs: LowPairs,
    /// Id of each single byte (`EMPTY` when the vocabulary lacks it).
    pub(crate) byte_ids: Vec<u32>,
    /// Whether every token is produced by at most one merge (see the module docs).
    pub(crate) unique_products: bool,
    /// Sorted products that are not settled (see the module docs).
    pub(crate) unsettled: Vec<u32>,
}

/// Ids below this have their pairs in [`Merges`]' direct table.
const LOW: u32 = 256;

/// [`Merges::packed`] of a pair that does not merge.
pub(crate) const NO_MERGE: u64 = u64::MAX;

/// The direct table of the merges of two ids below [`LOW`] (see [`Merges`]), filled one slot
/// of the merge table at a time, as the table is read or built.
#[derive(Debug, Clone)]
pub(crate) struct LowPairs(Vec<u64>);

impl Default for LowPairs {
    fn default() -> LowPairs {
        LowPairs(vec![NO_MERGE; (LOW * LOW) as usize])
    }
}

impl LowPairs {
    /// Takes in the merge-table slot `[left, right, priority, new id]` if both ids are low (an
    /// empty slot, whose first word is `EMPTY`, never is).
    #[inline]
    pub(crate) fn note(&mut self, slot: &[u32]) {
        if let &[left, right, priority, new_id] = slot {
            if left < LOW && right < LOW {
                if let Some(p) = self.0.get_mut((left * LOW + right) as usize) {
                    *p = pack(priority, new_id);
                }
            }
        }
    }
}

/// A merge's priority and new id as one word, ordered by priority.
#[inline]
fn pack(priority: u32, new_id: u32) -> u64 {
    (u64::from(priority) << 32) | u64::from(new_id)
}

/// What [`Merges::new`] would compute about the order of a list: `unique_products` and
/// `unsettled`.
pub(crate) type Order = (bool, Vec<u32>);

impl Merges {
    /// Indexes `list` (in priority order). A pair listed twice keeps its first (lowest
    /// priority) entry, as Hugging Face does. `order` is `None` to compute it.
    pub(crate) fn new(list: &[Merge], byte_ids: Vec<u32>, order: Option<Order>) -> Merges {
        let mut slots = SlotTable::for_keys(list.len());
        let mut low_pairs = LowPairs::default();
        for m in list {
            low_pairs.note(&[m.left, m.right, m.priority, m.new_id]);
            slots.insert(
                hash_pair(m.left, m.right),
                [m.left, m.right, m.priority, m.new_id],
                |s| s[0] == m.left && s[1] == m.right,
            );
        }
        let (unique_products, unsettled) = order.unwrap_or_else(|| order_of(list));
        let filter = BitFilter::new(list.iter().map(|m| hash_pair(m.left, m.right)));
        Merges {
            len: list.len(),
            low_pairs,
            slots,
            filter,
            byte_ids,
            unique_products,
            unsettled,
        }
    }

    /// The lookup structures as `u32` arrays (the serialized form): the slots, the filter,
    /// the byte ids, `[unique_products, len]` and the unsettled products.
    pub(crate) fn to_arrays(&self) -> [Vec<u32>; 5] {
        [
            self.slots.to_u32s(),
            self.filter.to_u32s(),
            self.byte_ids.clone(),
            vec![u32::from(self.unique_products), self.len as u32],
            self.unsettled.clone(),
        ]
    }

    /// Reads what [`Merges::to_arrays`] wrote, the slots already read back (straight into
    /// buckets, `SlotTable::read`: a counter is built without a second copy of its largest
    /// table; a table without a free slot, whose probes would loop forever, is refused there).
    /// `low_pairs` noted every slot of `slots` as it was read.
    pub(crate) fn from_arrays(
        slots: SlotTable,
        low_pairs: LowPairs,
        arrays: [Vec<u32>; 4],
    ) -> Result<Merges, String> {
        let [filter, byte_ids, flags, unsettled] = arrays;
        let (&[unique, len], true) = (flags.as_slice(), byte_ids.len() == 256) else {
            return Err("inconsistent merge table".into());
        };
        Ok(Merges {
            len: len as usize,
            low_pairs,
            slots,
            filter: BitFilter::from_u32s(&filter).ok_or("inconsistent merge filter")?,
            byte_ids,
            unique_products: unique == 1,
            unsettled,
        })
    }

    /// Whether merging into `product` only creates candidates of a later priority (see the
    /// module docs).
    #[inline]
    pub(crate) fn settles(&self, product: u32) -> bool {
        self.unique_products
            && (self.unsettled.is_empty() || self.unsettled.binary_search(&product).is_err())
    }

    /// Starts loading what [`Merges::packed`] of `left` and `right` reads, for a run of
    /// lookups whose keys are all known before the first: the tables are megabytes, and
    /// loads started together overlap.
    #[inline]
    pub(crate) fn prefetch(&self, left: u32, right: u32) {
        if left < LOW && right < LOW {
            return;
        }
        let hash = hash_pair(left, right);
        self.filter.prefetch(hash);
        self.slots.prefetch(hash);
    }

    /// The priority and new id of merging `left` with `right` packed into one word (priority
    /// high, so that comparing words compares priorities), or [`NO_MERGE`].
    #[inline]
    pub(crate) fn packed(&self, left: u32, right: u32) -> u64 {
        if left < LOW && right < LOW {
            if let Some(&p) = self.low_pairs.0.get((left * LOW + right) as usize) {
                return p;
            }
        }
        self.get(left, right)
            .map_or(NO_MERGE, |(priority, id)| pack(priority, id))
    }

    /// How many pairs the direct table of low ids holds.
    #[allow(dead_code)] // used by the tests
    pub(crate) fn low_pair_count(&self) -> usize {
        self.low_pairs.0.iter().filter(|&&p| p != NO_MERGE).count()
    }

    /// The priority and new id of merging `left` with `right`.
    #[inline]
    pub(crate) fn get(&self, left: u32, right: u32) -> Option<(u32, u32)> {
        let hash = hash_pair(left, right);
        if !self.filter.may_contain(hash) {
            return None;
        }
        self.slots
            .find(hash, |s| s[0] == left && s[1] == right)
            .map(|s| (s[2], s[3]))
    }
}

/// `unique_products` and the sorted unsettled products of `list` (see the module docs).
fn order_of(list: &[Merge]) -> Order {
    let mut producer: HashMap<u32, u32> = HashMap::with_capacity(list.len());
    for m in list {
        if producer.insert(m.new_id, m.priority).is_some() {
            return (false, Vec::new());
        }
    }
    let mut unsettled: Vec<u32> = list
        .iter()
        .flat_map(|m| [(m.left, m.priority), (m.right, m.priority)])
        .filter(|(input, prio)| producer.get(input).is_some_and(|p| p > prio))
        .map(|(input, _)| input)
        .collect();
    unsettled.sort_unstable();
    unsettled.dedup();
    (true, unsettled)
}

/// The merges equivalent to a rank-based (tiktoken) vocabulary, in rank order: for every token
/// of two or more bytes that BPE over its own bytes turns back into itself, the last merge of
/// that run (see the module docs). `rank` looks a byte string up.
pub(crate) fn canonical_merges(
    tokens: &[(Vec<u8>, u32)],
    rank: impl Fn(&[u8]) -> Option<u32>,
) -> Vec<Merge> {
    let mut out = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    for (bytes, id) in tokens {
        if bytes.len() < 2 {
            continue;
        }
        starts.clear();
        ids.clear();
        for (i, b) in bytes.iter().enumerate() {
            let Some(r) = rank(std::slice::from_ref(b)) else {
                break;
            };
            starts.push(i);
            ids.push(r);
        }
        if ids.len() != bytes.len() {
            continue;
        }
        let end = |starts: &[usize], i: usize| starts.get(i).copied().unwrap_or(bytes.len());
        let mut last = None;
        loop {
            let mut best: Option<(u32, usize)> = None;
            for i in 0..ids.len().saturating_sub(1) {
                if let Some(r) = rank(&bytes[starts[i]..end(&starts, i + 2)]) {
                    if best.map_or(true, |(b, _)| r < b) {
                        best = Some((r, i));
                    }
                }
            }
            let Some((r, i)) = best else { break };
            last = Some((ids[i], ids[i + 1]));
            ids[i] = r;
            ids.remove(i + 1);
            starts.remove(i + 1);
        }
        if let (Some((left, right)), [only]) = (last, ids.as_slice()) {
            if only == id {
                out.push(Merge {
                    left,
                    right,
                    priority: *id,
                    new_id: *id,
                });
            }
        }
    }
    out.sort_by_key(|m| m.priority);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(left: u32, right: u32, priority: u32, new_id: u32) -> Merge {
        Merge {
            left,
            right,
            priority,
            new_id,
        }
    }

    /// The canonical merges of a vocabulary ranked in the order given.
    fn canonical_merges_of(ranked: &[&str]) -> Vec<Merge> {
        let tokens: Vec<(Vec<u8>, u32)> = ranked
            .iter()
            .zip(0..)
            .map(|(t, i)| (t.as_bytes().to_vec(), i))
            .collect();
        let rank = |b: &[u8]| tokens.iter().find(|t| t.0 == b).map(|t| t.1);
        canonical_merges(&tokens, rank)
    }

    #[test]
    fn canonical_merges_follow_the_isolated_run() {
        // a=0 b=1 c=2 ab=3 bc=4 abc=5: "abc" merges a+b first (rank 3 < 4), then ab+c.
        let merges = canonical_merges_of(&["a", "b", "c", "ab", "bc", "abc"]);
        assert_eq!(merges, vec![m(0, 1, 3, 3), m(1, 2, 4, 4), m(3, 2, 5, 5)]);
        let table = Merges::new(&merges, vec![], None);
        assert!(table.settles(3) && table.settles(5));
        assert_eq!(table.get(3, 2), Some((5, 5)));
        assert_eq!(table.get(0, 4), None, "a+bc never forms abc");
    }

    #[test]
    fn a_rank_below_an_input_is_unsettled() {
        // a=0 b=1 c=2 abc=3 bc=4 ab=5: in "abc", b+c (4) beats a+b (5), then a+bc makes abc.
        // abc (3) is produced from bc (4).
        let merges = canonical_merges_of(&["a", "b", "c", "abc", "bc", "ab"]);
        assert_eq!(merges, vec![m(0, 4, 3, 3), m(1, 2, 4, 4), m(0, 1, 5, 5)]);
        let table = Merges::new(&merges, vec![], None);
        assert_eq!(
            table.unsettled,
            [4],
            "bc is an input of abc, which ranks before it"
        );
        assert!(!table.settles(4) && table.settles(3));
    }

    #[test]
    fn repeated_products_settle_nothing() {
        let list = vec![m(0, 1, 0, 3), m(3, 2, 1, 4), m(0, 5, 2, 4)];
        let table = Merges::new(&list, vec![], None);
        assert!(!table.unique_products && !table.settles(3));
        assert_eq!(table.get(0, 5), Some((2, 4)));
    }
}
