//! The binary form of [`Tables`], which `build.rs` writes to `OUT_DIR` and the library decodes
//! from `include_bytes!`.
//!
//! The magic, then each array as a little-endian `u32` element count followed by its elements
//! (`u32` little-endian, or raw bytes zero-padded to a multiple of 4).

use super::bit_filter::BitFilter;
use super::char_parts::CharParts;
use super::merges::Merges;
use super::seams::Seams;
use super::short_tokens::ShortTokens;
use super::tables::{Kind, Tables};

/// The first bytes of every serialized table.
const MAGIC: &[u8; 8] = b"CCTOK\x00\x00\x06";

impl Tables {
    /// Serializes the tables (the layout is in the module docs).
    #[allow(dead_code)] // used by build.rs and the tests
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let kind = match self.kind {
            Kind::Ranks => 0,
            Kind::Merges => 1,
        };
        put_words(&mut out, &[kind, u32::from(self.whole_is_merged)]);
        for words in [
            &self.offsets,
            &self.ids,
            &self.slots,
            &self.short.to_u32s(),
            &self.filter.to_u32s(),
        ] {
            put_words(&mut out, words);
        }
        put_bytes(&mut out, &self.blob);
        for words in self.merges.to_arrays() {
            put_words(&mut out, &words);
        }
        for words in self.chars.to_arrays() {
            put_words(&mut out, &words);
        }
        put_words(&mut out, &self.seams.to_u32s());
        let ids: Vec<u32> = self.specials.iter().map(|s| s.0).collect();
        put_words(&mut out, &ids);
        let lens: Vec<u32> = self.specials.iter().map(|s| s.1.len() as u32).collect();
        put_words(&mut out, &lens);
        let texts: String = self.specials.iter().map(|s| s.1.as_str()).collect();
        put_bytes(&mut out, texts.as_bytes());
        out
    }

    /// Decodes what [`Tables::to_bytes`] wrote.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Tables, String> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or("not a chatctx vocabulary table (bad magic)")?;
        let mut r = Reader { rest };
        let (kind, whole_is_merged) = match r.words()?.as_slice() {
            [0, whole] => (Kind::Ranks, *whole == 1),
            [1, whole] => (Kind::Merges, *whole == 1),
            _ => return Err("unknown table kind".into()),
        };
        let offsets = r.words()?;
        let ids = r.words()?;
        let slots = r.words()?;
        let short = ShortTokens::from_le_bytes(r.raw_words()?)?;
        let filter = BitFilter::from_u32s(&r.words()?).ok_or("inconsistent token filter")?;
        let blob = r.bytes()?;
        let merges = Merges::from_arrays(
            r.raw_words()?,
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
        })
    }
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

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err("truncated table".into());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn len(&mut self) -> Result<usize, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn words(&mut self) -> Result<Vec<u32>, String> {
        Ok(self
            .raw_words()?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// The next array of words as its little-endian bytes.
    fn raw_words(&mut self) -> Result<&'a [u8], String> {
        let n = self.len()?;
        self.take(n.checked_mul(4).ok_or("truncated table")?)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.len()?;
        let raw = self
            .take(n.next_multiple_of(4))?
            .get(..n)
            .unwrap_or_default();
        Ok(raw.to_vec())
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
