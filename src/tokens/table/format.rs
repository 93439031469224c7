//! The binary form of [`Tables`], which `build.rs` writes to `OUT_DIR` and the library decodes
//! from `include_bytes!`.
//!
//! The magic, then each array as a little-endian `u32` element count followed by its elements
//! (`u32` little-endian, or raw bytes zero-padded to a multiple of 4). The arrays fall in two
//! parts that decode independently (`Head`: the whole-token lookup; `Tail`: the rest). The
//! decoder reads words through [`Words`]: from these bytes, or from their packed form
//! (`pack.rs`).

use super::bit_filter::BitFilter;
use super::char_parts::CharParts;
use super::merges::{LowPairs, Merges};
use super::pack::{self, Unpacker};
use super::seams::Seams;
use super::short_tokens::ShortTokens;
use super::slot_table::SlotTable;
use super::tables::{Kind, Tables};
use super::two_bytes::TwoBytes;
use super::words::Words;

/// The first bytes of every serialized table.
const MAGIC: &[u8; 8] = b"CCTOK\x00\x00\x06";

impl Tables {
    /// Serializes the tables (the layout is in the module docs).
    #[allow(dead_code)] // used by build.rs and the tests
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.to_parts().concat()
    }

    /// [`Tables::to_bytes`] in its two parts: the magic and the whole-token lookup, then the
    /// merges, characters, seams and specials. Each decodes on its own, so
    /// [`Tables::from_packed`] unpacks them in parallel.
    #[allow(dead_code)] // used by build.rs and the tests
    pub(crate) fn to_parts(&self) -> [Vec<u8>; 2] {
        let mut head = MAGIC.to_vec();
        let kind = match self.kind {
            Kind::Ranks => 0,
            Kind::Merges => 1,
        };
        put_words(&mut head, &[kind, u32::from(self.whole_is_merged)]);
        for words in [
            &self.offsets,
            &self.ids,
            &self.slots,
            &self.short.to_u32s(),
            &self.filter.to_u32s(),
        ] {
            put_words(&mut head, words);
        }
        put_bytes(&mut head, &self.blob);
        let mut tail = Vec::new();
        for words in self.merges.to_arrays() {
            put_words(&mut tail, &words);
        }
        for words in self.chars.to_arrays() {
            put_words(&mut tail, &words);
        }
        put_words(&mut tail, &self.seams.to_u32s());
        let ids: Vec<u32> = self.specials.iter().map(|s| s.0).collect();
        put_words(&mut tail, &ids);
        let lens: Vec<u32> = self.specials.iter().map(|s| s.1.len() as u32).collect();
        put_words(&mut tail, &lens);
        let texts: String = self.specials.iter().map(|s| s.1.as_str()).collect();
        put_bytes(&mut tail, texts.as_bytes());
        [head, tail]
    }

    /// Decodes what [`Tables::to_bytes`] wrote.
    #[allow(dead_code)] // used by the tests
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Tables, String> {
        let mut words = LeWords { rest: bytes };
        let head = Head::read(&mut words)?;
        let tail = Tail::read(&mut words)?;
        Tables::join(head, tail)
    }

    /// Decodes what [`pack::pack`](super::pack::pack) made of [`Tables::to_parts`]'s output,
    /// unpacking straight into the tables, the two parts in parallel (one on a scoped thread;
    /// on the calling thread when no thread can be started).
    pub(crate) fn from_packed(packed: &[u8]) -> Result<Tables, String> {
        let [head, tail] = pack::parts(packed)?;
        let read_tail = move || Tail::read(&mut Unpacker::new(tail)?);
        let (head, tail) = std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name("chatctx-tables".into())
                .spawn_scoped(scope, read_tail);
            let head = Head::read(&mut Unpacker::new(head)?);
            let tail = match thread {
                Ok(thread) => thread
                    .join()
                    .map_err(|_| "the table decoder thread failed".to_string())?,
                Err(_) => read_tail(),
            };
            Ok::<_, String>((head?, tail?))
        })?;
        Tables::join(head, tail)
    }

    /// The tables from their two parts, checked for consistency.
    fn join(head: Head, tail: Tail) -> Result<Tables, String> {
        let Head {
            kind,
            whole_is_merged,
            offsets,
            ids,
            slots,
            short,
            filter,
            blob,
        } = head;
        let Tail {
            merges,
            chars,
            seams,
            specials,
        } = tail;
        let consistent = offsets.len() == ids.len() + 1
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && slots.len().is_power_of_two()
            && offsets.last().is_some_and(|&e| e as usize == blob.len());
        if !consistent {
            return Err("inconsistent table sizes".into());
        }
        Ok(Tables {
            kind,
            whole_is_merged,
            offsets,
            ids,
            slots,
            short,
            filter,
            blob,
            merges,
            chars,
            seams,
            specials,
            two_bytes: TwoBytes::default(),
        })
    }
}

/// The first part of the format: the whole-token lookup.
struct Head {
    kind: Kind,
    whole_is_merged: bool,
    offsets: Vec<u32>,
    ids: Vec<u32>,
    slots: Vec<u32>,
    short: ShortTokens,
    filter: BitFilter,
    blob: Vec<u8>,
}

impl Head {
    fn read(words: &mut impl Words) -> Result<Head, String> {
        let mut r = Reader { words };
        let mut magic = [0u32; 2];
        r.words.fill(&mut magic)?;
        if magic != [word(&MAGIC[..4]), word(&MAGIC[4..])] {
            return Err("not a chatctx vocabulary table (bad magic)".into());
        }
        let (kind, whole_is_merged) = match r.words()?.as_slice() {
            [0, whole] => (Kind::Ranks, *whole == 1),
            [1, whole] => (Kind::Merges, *whole == 1),
            _ => return Err("unknown table kind".into()),
        };
        Ok(Head {
            kind,
            whole_is_merged,
            offsets: r.words()?,
            ids: r.words()?,
            slots: r.words()?,
            short: ShortTokens::from_table(r.slot_table(|_| {})?)?,
            filter: BitFilter::from_u32s(&r.words()?).ok_or("inconsistent token filter")?,
            blob: r.bytes()?,
        })
    }
}

/// The second part of the format: merges, characters, seams and specials.
struct Tail {
    merges: Merges,
    chars: CharParts,
    seams: Seams,
    specials: Vec<(u32, String)>,
}

impl Tail {
    fn read(words: &mut impl Words) -> Result<Tail, String> {
        let mut r = Reader { words };
        let mut low_pairs = LowPairs::default();
        let slots = r.slot_table(|slot| low_pairs.note(slot))?;
        let merges = Merges::from_arrays(
            slots,
            low_pairs,
            [r.words()?, r.words()?, r.words()?, r.words()?],
        )?;
        let chars = CharParts::from_arrays(r.words()?, &r.words()?, &r.words()?, &r.words()?)?;
        let seams = Seams::from_u32s(&r.words()?)?;
        let special_ids = r.words()?;
        let special_lens = r.words()?;
        let texts = String::from_utf8(r.bytes()?).map_err(|_| "special tokens are not UTF-8")?;
        let mut specials = Vec::with_capacity(special_ids.len());
        let mut at = 0usize;
        for (id, len) in special_ids.into_iter().zip(special_lens) {
            let end = at + len as usize;
            let text = texts.get(at..end).ok_or("special tokens are cut")?;
            specials.push((id, text.to_string()));
            at = end;
        }
        Ok(Tail {
            merges,
            chars,
            seams,
            specials,
        })
    }
}

/// A little-endian word of four bytes.
fn word(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[allow(dead_code)] // used by build.rs and the tests
fn put_words(out: &mut Vec<u8>, words: &[u32]) {
    out.extend_from_slice(&(words.len() as u32).to_le_bytes());
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

#[allow(dead_code)] // used by build.rs and the tests
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The words of little-endian bytes.
struct LeWords<'a> {
    rest: &'a [u8],
}

impl Words for LeWords<'_> {
    fn fill(&mut self, out: &mut [u32]) -> Result<(), String> {
        let n = out.len().checked_mul(4).ok_or("truncated table")?;
        let (head, tail) = self.rest.split_at_checked(n).ok_or("truncated table")?;
        for (o, w) in out.iter_mut().zip(head.chunks_exact(4)) {
            *o = word(w);
        }
        self.rest = tail;
        Ok(())
    }
}

/// The arrays of the format, read from [`Words`].
struct Reader<'a, W: Words> {
    words: &'a mut W,
}

impl<W: Words> Reader<'_, W> {
    fn len(&mut self) -> Result<usize, String> {
        let mut n = [0u32];
        self.words.fill(&mut n)?;
        Ok(n[0] as usize)
    }

    fn words(&mut self) -> Result<Vec<u32>, String> {
        let n = self.len()?;
        self.next(n)
    }

    /// The next `n` words.
    fn next(&mut self, n: usize) -> Result<Vec<u32>, String> {
        // A corrupt length fails on the words missing, before a huge allocation.
        let mut out = Vec::new();
        while out.len() < n {
            let at = out.len();
            out.resize(n.min(at.saturating_mul(2).max(1 << 16)), 0);
            self.words.fill(&mut out[at..])?;
        }
        Ok(out)
    }

    /// The next array as a slot table (`slot_table.rs`), decoded straight into its buckets;
    /// `note` sees each slot as it is read.
    fn slot_table(&mut self, mut note: impl FnMut(&[u32])) -> Result<SlotTable, String> {
        let n = self.len()?;
        SlotTable::read(n, |bucket| {
            self.words.fill(bucket)?;
            bucket.chunks_exact(4).for_each(&mut note);
            Ok(())
        })
    }

    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.len()?;
        let words = self.next(n.div_ceil(4))?;
        Ok(words.iter().flat_map(|w| w.to_le_bytes()).take(n).collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranks_roundtrip() {
        let tokens = vec![(b"a".to_vec(), 0), (b"b".to_vec(), 1), (b"ab".to_vec(), 2)];
        let mut t = Tables::from_ranks(tokens).unwrap();
        t.specials = vec![(3, "<|x|>".into()), (4, "<y>".into())];
        let back = Tables::from_bytes(&t.to_bytes()).unwrap();
        assert_eq!(back.lookup(b"ab"), Some(2));
        assert_eq!(back.lookup(b"ba"), None);
        assert_eq!(back.specials, t.specials);
    }

    #[test]
    fn corrupt_tables_are_errors() {
        assert!(Tables::from_bytes(b"nope").is_err());
        let t = Tables::from_ranks(vec![(b"a".to_vec(), 0)]).unwrap();
        let bytes = t.to_bytes();
        assert!(Tables::from_bytes(&bytes[..bytes.len() - 5]).is_err());
    }
}
