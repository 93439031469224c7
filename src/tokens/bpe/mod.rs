//! Counting the BPE tokens of one pre-tokenized piece, without building the token list.
//!
//! Both merge semantics reduce to one loop over token ids (see `merges.rs`): repeatedly merge
//! the adjacent pair with the lowest priority, the leftmost one on ties, until no pair can
//! merge; the count is the number of parts left. Parts start as the ids of single bytes; a
//! byte missing from a merge-based vocabulary is dropped, as Hugging Face does without an
//! `unk_token` (`Word::merge_all` in `tokenizers/src/models/bpe/word.rs`; tiktoken's is
//! `byte_pair_merge` in its `src/lib.rs`).
//!
//! - Characters that always reduce to the same parts start as those parts (`char_parts.rs`).
//! - A run of such characters is cut at the seams no merge can cross (`seams.rs`), and each
//!   side is counted on its own (and cached) like a short piece.
//! - Short pieces use tiktoken's simple scan (O(n²) but tiny constants).
//! - Long pieces with few distinct runs (a million spaces, a hundred thousand `a`s) use a
//!   run-length merge while the products are settled (see `merges.rs`): it applies one
//!   priority at a time to whole runs, so its cost follows the number of runs and priorities,
//!   not the length. Should it meet an unsettled product it hands over to the heap.
//! - Other long pieces use a binary heap of candidate merges over a doubly linked list of
//!   parts, O(n log n): stale heap entries are skipped when popped by re-checking the pair,
//!   exactly as Hugging Face's `merge_all` does (an entry is stale when the pair at its
//!   position no longer produces the same token). Very long ones (over a thousand parts, such
//!   as 100 KB of random letters) keep the candidates in a bucket per priority instead
//!   (`bucket_queue.rs`) while the products are settled.
//!
//! The four merge loops are in `loops.rs`; this file turns a piece into parts and picks one.
//!
//! Caveat for user-loaded `tokenizer.json` files: if two merges produce the same token, Hugging
//! Face's heap can act on a stale entry at the older merge's priority; the heap path here
//! reproduces that, the short-piece scan does not. Every built-in vocabulary has one merge per
//! produced token, where all paths are identical.

mod loops;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use loops::{count_buckets, count_heap, count_runs, count_scan, Links, Run};

use super::bucket_queue::BucketQueue;
use super::piece_cache::{Key, PieceCache};
use super::table::char_parts;
use super::table::{hash_bytes, hash_word, low_bytes, short_tokens, Kind, Tables, EMPTY, NO_MERGE};

/// Pieces longer than this (in parts) use the run-length or the heap merge.
const HEAP_THRESHOLD: usize = 48;

/// Pieces longer than this (in parts) use the bucket queue instead of the binary heap.
const BUCKETS_THRESHOLD: usize = 1024;

/// A long piece uses the run-length merge when it has at most one run per this many parts.
const PARTS_PER_RUN: usize = 16;

/// Per-thread buffers reused across calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    ids: Vec<u32>,
    prios: Vec<u64>,
    links: Links,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    runs: Vec<Run>,
    /// Candidates of very long pieces (see `bucket_queue.rs`).
    queue: BucketQueue,
    /// One priority's candidate positions, taken from `queue`.
    batch: Vec<u32>,
    /// Where the current piece may be cut (see `seams.rs`): the first `cut_count` entries
    /// (the vector only grows, so that a cut is stored without a branch).
    cuts: Vec<Cut>,
    cut_count: usize,
    /// The parts of one side of a cut piece.
    side: Vec<u32>,
    /// Piece -> token count.
    cache: PieceCache,
    /// The byte offset in the piece of each part of `ids`, for [`token_end`].
    starts: Vec<u32>,
}

impl Scratch {
    /// Empties the piece cache.
    pub(crate) fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// The piece cache's value for `key` and counter `owner`.
    #[inline]
    pub(crate) fn cache_get(&mut self, owner: u32, key: &Key) -> Option<u32> {
        self.cache.get(owner, key)
    }

    /// Remembers `value` for `key` and counter `owner` in the piece cache.
    #[inline]
    pub(crate) fn cache_put(&mut self, owner: u32, key: &Key, value: u32) {
        self.cache.put(owner, key, value);
    }
}

/// A seam no merge crosses: the index of the first part after it, and of its first byte.
#[derive(Debug, Clone, Copy, Default)]
struct Cut {
    part: u32,
    byte: u32,
}

/// The packed (priority, new id) of merging `left` with `right`, ordered by priority, or
/// [`NO_MERGE`].
#[inline]
fn pair(t: &Tables, left: u32, right: u32) -> u64 {
    t.merges.packed(left, right)
}

/// The number of tokens BPE turns `piece` into, for the counter with unique id `owner`
/// (short pieces are remembered per thread and counter, see `piece_cache`). `head` is the
/// piece's first eight bytes as a little-endian word, whatever follows them
/// ([`Key::with_head`]).
#[inline]
pub(crate) fn count_piece(
    t: &Tables,
    owner: u32,
    piece: &[u8],
    head: u64,
    s: &mut Scratch,
) -> usize {
    if let [] | [_] = piece {
        // One byte is one token, or none for a merge-based vocabulary that lacks it.
        return match (piece.first(), t.kind) {
            (Some(&b), Kind::Merges) => t
                .merges
                .byte_ids
                .get(usize::from(b))
                .map_or(0, |&id| usize::from(id != EMPTY)),
            _ => piece.len(),
        };
    }
    if let [first, second] = *piece {
        if let Some(n) = t.two_bytes.get(first, second) {
            return n;
        }
    }
    let Some(key) = Key::with_head(piece, head) else {
        // Long pieces are not cached, and rarely whole tokens (see `count_uncached`).
        if !t.whole_is_merged && t.lookup(piece).is_some() {
            return 1;
        }
        return merge(t, owner, piece, None, s);
    };
    if let Some(n) = s.cache.get(owner, &key) {
        return n as usize;
    }
    let n = count_uncached(t, owner, piece, head, s);
    s.cache.put(owner, &key, n as u32);
    n
}

/// [`count_piece`] without the cache, for a short piece with `head` as there.
///
/// A short piece is looked up whole first: most short pieces are tokens. A long one rarely is,
/// and the lookup is a cache miss, so a long piece is only merged, unless the vocabulary has
/// whole tokens that merging does not rebuild (`Tables::whole_is_merged`). When merging
/// rebuilds every token, a piece ending in a multi-byte character is looked up only if it has
/// no seam to cut (`seams.rs`): a token has none, since the merges that rebuild it cross them.
///
/// A piece of at most eight bytes is hashed and looked up from `head` (as in [`count_piece`]),
/// without reading its bytes again.
fn count_uncached(t: &Tables, owner: u32, piece: &[u8], head: u64, s: &mut Scratch) -> usize {
    let n = piece.len();
    let short = n <= short_tokens::MAX_LEN;
    let word = low_bytes(head, n);
    let hash = if short {
        hash_word(word, n)
    } else {
        hash_bytes(piece)
    };
    if t.whole_is_merged && piece.last() >= Some(&0x80) {
        return merge(t, owner, piece, Some(hash), s);
    }
    let whole = if short {
        t.lookup_short(word, n, hash)
    } else {
        t.lookup_hashed(piece, hash)
    };
    if whole.is_some() {
        return 1;
    }
    merge(t, owner, piece, None, s)
}

/// The number of parts BPE leaves of `piece`, for the counter with unique id `owner`; with
/// `whole` (the piece's hash), a piece without seams is first looked up whole.
fn merge(t: &Tables, owner: u32, piece: &[u8], whole: Option<u64>, s: &mut Scratch) -> usize {
    s.ids.clear();
    // At most one cut per byte, plus a slot written past the last one.
    if s.cuts.len() <= piece.len() {
        s.cuts.resize(piece.len() + 1, Cut::default());
    }
    let mut cuts = 0;
    let mut runs = 0;
    let mut i = 0;
    // The last part of the previous character when it came from the character table.
    let mut last_part = EMPTY;
    while let Some(&b) = piece.get(i) {
        if b >= 0xC0 && (i == 0 || piece[i - 1] >= 0x80) {
            let found = piece
                .get(i..)
                .and_then(char_parts::decode)
                .and_then(|(code, len)| {
                    // The left neighbour's last part, or for one not in the table the token
                    // of its last byte, which the part left of the edge ends with too.
                    let left = match (i, last_part) {
                        (0, _) => char_parts::START,
                        (_, EMPTY) => piece
                            .get(i - 1)
                            .and_then(|&b| t.merges.byte_ids.get(usize::from(b)))
                            .copied()
                            .unwrap_or(EMPTY),
                        (_, part) => part,
                    };
                    let after = piece.get(i + len..).unwrap_or_default();
                    Some((t.chars.get_in(code, left, after)?, len))
                });
            if let Some((parts, len)) = found {
                let first = parts.first().copied().unwrap_or(EMPTY);
                if last_part != EMPTY {
                    // Written always, kept when the seam cannot be crossed: a seam is cut
                    // about half the time, too often to branch on.
                    if let Some(slot) = s.cuts.get_mut(cuts) {
                        *slot = Cut {
                            part: s.ids.len() as u32,
                            byte: i as u32,
                        };
                    }
                    cuts += usize::from(!t.seams.crossable(last_part, first));
                }
                for &id in parts.iter().take_while(|&&id| id != EMPTY) {
                    runs += usize::from(s.ids.last() != Some(&id));
                    s.ids.push(id);
                    last_part = id;
                }
                i += len;
                continue;
            }
        }
        last_part = EMPTY;
        i += 1;
        let id = t
            .merges
            .byte_ids
            .get(usize::from(b))
            .copied()
            .unwrap_or(EMPTY);
        if id == EMPTY && t.kind == Kind::Merges {
            continue;
        }
        runs += usize::from(s.ids.last() != Some(&id));
        s.ids.push(id);
    }
    s.cut_count = cuts;
    if cuts > 0 {
        return count_sides(t, owner, piece, s);
    }
    if whole.is_some_and(|hash| t.lookup_hashed(piece, hash).is_some()) {
        return 1;
    }
    let n = s.ids.len();
    if n <= HEAP_THRESHOLD {
        count_scan(t, s)
    } else if t.merges.unique_products && runs * PARTS_PER_RUN <= n {
        count_runs(t, s).unwrap_or_else(|| count_heap(t, s))
    } else if t.merges.unique_products && n > BUCKETS_THRESHOLD {
        count_buckets(t, s).unwrap_or_else(|| count_heap(t, s))
    } else {
        count_heap(t, s)
    }
}

/// The byte offset in `piece` where its first `k` tokens end: where token `k + 1` starts, or
/// `piece.len()` when the piece has at most `k` tokens. For `0 < k < count_piece(piece)`,
/// the one place the token list of a piece is built (see `BpeCounter::token_boundary`).
///
/// The piece is merged from its single bytes with the heap loop, which every other loop
/// agrees with (`loops.rs` tests) and which is Hugging Face's own order; a whole-piece
/// vocabulary hit is one token, as in [`count_piece`]. A byte missing from a merge-based
/// vocabulary makes no token and belongs to the token before it.
pub(crate) fn token_end(t: &Tables, piece: &[u8], k: usize, s: &mut Scratch) -> usize {
    if k == 0 {
        return 0;
    }
    if piece.len() <= 1 || t.lookup(piece).is_some() {
        return piece.len();
    }
    s.ids.clear();
    s.starts.clear();
    for (i, &b) in piece.iter().enumerate() {
        let id = t
            .merges
            .byte_ids
            .get(usize::from(b))
            .copied()
            .unwrap_or(EMPTY);
        if id == EMPTY && t.kind == Kind::Merges {
            continue;
        }
        s.ids.push(id);
        s.starts.push(i as u32);
    }
    count_heap(t, s);
    s.links
        .after_nth_live(k)
        .and_then(|part| s.starts.get(part as usize))
        .map_or(piece.len(), |&at| at as usize)
}

/// The count of a piece whose parts (`s.ids`) have seams no merge crosses (`s.cuts`, see
/// `seams.rs`): the sum of the counts of the sides, each remembered in the piece cache.
fn count_sides(t: &Tables, owner: u32, piece: &[u8], s: &mut Scratch) -> usize {
    let end = Cut {
        part: s.ids.len() as u32,
        byte: piece.len() as u32,
    };
    let mut total = 0;
    let mut from = Cut { part: 0, byte: 0 };
    for k in 0..=s.cut_count {
        let to = if k < s.cut_count { s.cuts[k] } else { end };
        let (parts, bytes) = (from.part as usize..to.part as usize, from.byte..to.byte);
        total += if parts.len() == 1 {
            1
        } else {
            count_side(
                t,
                owner,
                piece.get(bytes.start as usize..bytes.end as usize),
                parts,
                s,
            )
        };
        from = to;
    }
    total
}

/// The count of one side (`bytes`, whose parts are `s.ids[parts]`) of [`count_sides`]: what
/// merging alone gives, which is what the piece cache holds unless the vocabulary has whole
/// tokens that merging does not rebuild; those sides get keys of their own.
fn count_side(
    t: &Tables,
    owner: u32,
    bytes: Option<&[u8]>,
    parts: std::ops::Range<usize>,
    s: &mut Scratch,
) -> usize {
    let key = bytes
        .and_then(Key::new)
        .map(|k| if t.whole_is_merged { k } else { k.merge_only() });
    if let Some(n) = key.and_then(|k| s.cache.get(owner, &k)) {
        return n as usize;
    }
    s.side.clear();
    s.side
        .extend_from_slice(s.ids.get(parts).unwrap_or_default());
    std::mem::swap(&mut s.ids, &mut s.side);
    let n = if s.ids.len() <= HEAP_THRESHOLD {
        count_scan(t, s)
    } else {
        count_heap(t, s)
    };
    std::mem::swap(&mut s.ids, &mut s.side);
    if let Some(k) = key {
        s.cache.put(owner, &k, n as u32);
    }
    n
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tokens::Vocabulary;

    /// The head word of `piece` as the pre-tokenizer hands it: its first eight bytes,
    /// zero-padded.
    fn head_of(piece: &[u8]) -> u64 {
        let mut w = [0u8; 8];
        for (slot, &b) in w.iter_mut().zip(piece) {
            *slot = b;
        }
        u64::from_le_bytes(w)
    }

    /// Starting from whole characters (`char_parts.rs`) must never change a count: random
    /// pieces mixing Chinese, Japanese, Korean, Cyrillic, accented Latin, ASCII and emoji,
    /// counted with and without the character table.
    #[test]
    fn character_parts_do_not_change_counts() {
        let pool: Vec<char> = "的是一人了我不在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音跑始片施际够病阿ーンスルトイクラリアシしてがたのにはをでますーアもよあく数述다つ素造ム你令加此因한국어에서는을를이가ロシアпривет мир éàüöçñ😀🙂👍 abc\n\t,.。，、！？「」1234"
            .chars()
            .collect();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let pieces: Vec<Vec<u8>> = (0..3000)
            .map(|_| {
                let len = 1 + next(70);
                let s: String = (0..len).map(|_| pool[next(pool.len())]).collect();
                s.into_bytes()
            })
            .collect();
        for v in Vocabulary::compiled() {
            let with = v.build().tables;
            assert!(with.chars.len() > 10_000, "{v} has a character table");
            let mut without = with.clone();
            without.chars = char_parts::CharParts::default();
            let (mut s1, mut s2) = (Scratch::default(), Scratch::default());
            for p in &pieces {
                let h = head_of(p);
                assert_eq!(
                    count_uncached(&with, 1, p, h, &mut s1),
                    count_uncached(&without, 2, p, h, &mut s2),
                    "{v}: {:?}",
                    String::from_utf8_lossy(p)
                );
            }
        }
    }

    /// Qwen2.5 merges `し` with the first two bytes of a hiragana before it builds `て`, so
    /// `て` is whole after any table character but `し` (`char_parts.rs`), and after a
    /// character outside the table unless that ends with `し`'s last byte; it merges the last byte of `も` with `数` before it builds
    /// `も`, so `も` is whole before anything but `数`.
    #[test]
    #[cfg(feature = "vocab-qwen2_5")]
    fn conditional_characters_follow_their_neighbours() {
        let t = Vocabulary::Qwen25.build().tables;
        let part = |c: char| t.chars.get(u32::from(c)).unwrap()[0];
        let te = u32::from('て');
        assert!(t.chars.get_in(te, part('し'), &[]).is_none());
        assert!(t.chars.get_in(te, part('の'), &[]).is_some());
        assert!(t.chars.get_in(te, char_parts::START, &[]).is_some());
        assert!(t.chars.get_in(te, EMPTY, &[]).is_none());
        // After a character not in the table, the token of its last byte stands for it: `し`
        // ends with byte 97.
        let byte = |b: u8| t.merges.byte_ids[usize::from(b)];
        assert!(t.chars.get_in(te, byte(0x97), &[]).is_none());
        assert!(t.chars.get_in(te, byte(0xAE), &[]).is_some());
        assert!(t.chars.get_in(u32::from('中'), EMPTY, &[]).is_some());
        // `82` + `数` is a token that comes before `も` (`E3 82 82`) is built; `A4` + the lead
        // byte `ED` comes before `つ` (`E3 81 A4`), so `つ` is not whole before any character
        // starting with `ED`, such as `한`.
        let whole_before = |c: char, next: &str| {
            let after = next.as_bytes();
            t.chars
                .get_in(u32::from(c), char_parts::START, after)
                .is_some()
        };
        assert!(!whole_before('も', "数"));
        assert!(whole_before('も', "のは"));
        assert!(whole_before('も', ""));
        assert!(!whole_before('つ', "한"));
        assert!(whole_before('つ', "の"));
        let mut s = Scratch::default();
        let texts = [
            "しています",
            "のてがみ",
            "も数",
            "もの",
            "あ数字",
            "つ한국",
            "つの",
        ];
        for text in texts {
            let p = text.as_bytes();
            let mut without = t.clone();
            without.chars = char_parts::CharParts::default();
            let head = head_of(p);
            assert_eq!(
                count_uncached(&t, 1, p, head, &mut s),
                count_uncached(&without, 2, p, head, &mut s),
                "{text}"
            );
        }
    }

    /// The two-byte table gives what BPE gives for every two-byte piece text can hold (two
    /// ASCII characters or one of two bytes), in every vocabulary, and is built for each whose
    /// bytes have ids below 256 (all but DeepSeek-V3).
    #[test]
    fn two_byte_pieces_count_as_bpe_does() {
        for v in Vocabulary::compiled() {
            let t = v.bpe().tables.clone();
            let mut s = Scratch::default();
            let mut answered = 0;
            for first in 0..=255u8 {
                for second in 0..=255u8 {
                    let piece = [first, second];
                    if std::str::from_utf8(&piece).is_err() {
                        continue;
                    }
                    let general = count_uncached(&t, 1, &piece, head_of(&piece), &mut s);
                    if let Some(n) = t.two_bytes.get(first, second) {
                        assert_eq!(n, general, "{v}: {piece:?}");
                        answered += 1;
                    }
                }
            }
            let low_bytes = t.merges.byte_ids.iter().all(|&id| id < 256);
            let expected = if low_bytes { 128 * 128 + 30 * 64 } else { 0 };
            assert_eq!(answered, expected, "{v}");
            assert_eq!(low_bytes, v != Vocabulary::DeepseekV3, "{v}");
        }
    }

    /// The direct table of pairs of low ids gives what the hashed merge table gives, for
    /// every such pair of every vocabulary, and holds the single-byte merges.
    #[test]
    fn low_pairs_agree_with_the_merge_table() {
        for v in Vocabulary::compiled() {
            let t = v.build().tables;
            let mut merging = 0;
            for left in 0..256 {
                for right in 0..256 {
                    let hashed = t.merges.get(left, right);
                    let direct = t.merges.packed(left, right);
                    let expected =
                        hashed.map_or(NO_MERGE, |(p, id)| (u64::from(p) << 32) | u64::from(id));
                    assert_eq!(direct, expected, "{v}: {left} {right}");
                    merging += usize::from(hashed.is_some());
                }
            }
            assert_eq!(t.merges.low_pair_count(), merging, "{v}");
            assert!(merging > 1_000, "{v}: {merging} merges of low ids");
        }
    }

    /// Chinese clauses are cut at seams (`seams.rs`), and the cuts never change a count.
    #[test]
    fn chinese_clauses_are_cut_at_seams() {
        let clause = "我们今天下午去公园散步然后回家吃饭".as_bytes();
        for v in Vocabulary::compiled() {
            let t = v.build().tables;
            let mut s = Scratch::default();
            let n = merge(&t, 1, clause, None, &mut s);
            assert!(s.cut_count >= 3, "{v}: {} cuts", s.cut_count);
            let mut uncut = t.clone();
            uncut.seams = crate::tokens::table::seams::Seams::default();
            let mut s2 = Scratch::default();
            assert_eq!(n, merge(&uncut, 2, clause, None, &mut s2), "{v}");
            assert_eq!(s2.cut_count, 0);
        }
    }

    #[test]
    #[cfg(feature = "vocab-o200k")]
    fn long_piece_is_not_quadratic() {
        // 1 MB of one letter is a single pre-tokenizer piece; the heap merge handles it.
        let t = Vocabulary::O200kBase.build().tables;
        let piece = vec![b'a'; 1 << 20];
        let start = std::time::Instant::now();
        let head = crate::tokens::scan::head_word(&piece, 0);
        let n = count_piece(&t, 1, &piece, head, &mut Scratch::default());
        assert!(n > 0 && n < piece.len());
        assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    }
}
