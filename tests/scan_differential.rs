//! Differential tests: the hand-written scanners against the reference regexes on fancy-regex.

mod reference;

use chatctx::tokens::scan::{for_each_piece, Pattern};
use proptest::prelude::*;
use reference::Reference;
use std::sync::LazyLock;

/// Compiled references, in the order of `Pattern::ALL`.
static REFERENCES: LazyLock<Vec<Reference>> =
    LazyLock::new(|| Pattern::ALL.iter().map(|&p| Reference::new(p)).collect());

fn reference(pattern: Pattern) -> &'static Reference {
    let i = Pattern::ALL.iter().position(|&p| p == pattern).unwrap_or(0);
    &REFERENCES[i]
}

/// Assert the scanner and the reference agree on `text`.
fn check(pattern: Pattern, text: &str) {
    let ours: Vec<&str> = pattern.pieces(text).collect();
    let expected = reference(pattern).pieces(text);
    let expected = expected.unwrap_or_else(|| panic!("fancy-regex gave up on {text:?}"));
    assert_eq!(ours, expected, "{pattern:?} on {text:?}");
    assert_eq!(ours.concat(), text, "{pattern:?} pieces must tile {text:?}");
}

fn check_all(text: &str) {
    for pattern in Pattern::ALL {
        check(pattern, text);
    }
}

/// Fragments that exercise every alternative and every class boundary of the patterns.
const FRAGMENTS: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\u{b}",
    "\u{c}",
    "\u{a0}",
    "\u{3000}",
    "\u{85}",
    "\u{2028}",
    "\u{1680}",
    "'",
    "'s",
    "'S",
    "'ſ",
    "'ll",
    "'LL",
    "'lL",
    "'re",
    "'Ve",
    "'d",
    "'m",
    "'t",
    "'x",
    "0",
    "7",
    "42",
    "12345",
    "١",
    "Ⅻ",
    "½",
    "〇",
    "中",
    "文",
    "你好",
    "ア",
    "・",
    "ー",
    "゛",
    "\u{3099}",
    "\u{3040}",
    "\u{9fa6}",
    "한",
    "a",
    "z",
    "Z",
    "é",
    "É",
    "ǅ",
    "ʰ",
    "ß",
    "K",
    "k",
    "Σ",
    "ſ",
    "İ",
    "\u{301}",
    "\u{300}",
    "\u{20dd}",
    "\u{903}",
    "😀",
    "👍🏽",
    "\u{200d}",
    "\u{fe0f}",
    ".",
    ",",
    "!",
    "?",
    "/",
    "//",
    "-",
    "$",
    "+",
    "…",
    "“",
    "—",
    "\u{0}",
    "\u{1f}",
    "\u{7f}",
    "\u{e000}",
    "\u{378}",
    "\u{ad}",
    "x",
    "Hello",
    "HELLO",
    "world",
    "DON'T",
    "don't",
    "naïve",
    "ΑΒΓ",
    "абв",
    "עברית",
    "مرحبا",
    "हिन्दी",
    "ไทย",
];

fn adversarial() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..48).prop_map(|v| v.concat())
}

/// Single characters drawn from the same pool, so that neighbours vary at character level.
fn adversarial_chars() -> impl Strategy<Value = String> {
    let chars: Vec<char> = FRAGMENTS.iter().flat_map(|f| f.chars()).collect();
    prop::collection::vec(prop::sample::select(chars), 0..64).prop_map(String::from_iter)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_unicode(text in any::<String>()) {
        check_all(&text);
    }

    #[test]
    fn adversarial_fragments(text in adversarial()) {
        check_all(&text);
    }

    #[test]
    fn adversarial_characters(text in adversarial_chars()) {
        check_all(&text);
    }
}

#[test]
fn tricky_cases() {
    let cases = [
        "",
        " ",
        "\n",
        "a\n  ",
        "a\n  b",
        "a \n b",
        "  \r\n\r\n  x",
        "Hello world",
        "HELLO world",
        "HELLOworld",
        "I'm DON'T we'LL 'ſ 'S",
        "'see 're'",
        "12345678 ١٢٣٤",
        "Aʰǅ ǅʰA ǅǅa",
        "\u{301}\u{301}A \u{301}A! e\u{301}!",
        " !!\n\n/x",
        "!!\n/\n/x",
        "\t\u{a0}x",
        ".héllo .Hello",
        "abc你好def ア・イ",
        "😀\u{200d}😀 👍🏽",
        "\u{0}\u{0}a\u{0}",
        "x1a 1  2",
        "price: 12345元",
        "    \n    \n",
        "a  \u{3000}中",
        // Words scanned eight bytes at a time, ending on every offset of a word, at the end of
        // the text or on a character that may or may not extend them.
        "abcdefg abcdefgh abcdefghi ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        " abcdefghé .ABCDEFGHé\u{301} -abcdefghijklmnop\u{301}x 'abcdefghijk' \"Quotedwordsss\"",
        "eightlet\u{a0}eightlet\u{3000}Sixteen_lettersX\u{1F600}abcdefghijklmnopqrstuvw中",
        "[abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ]@`{abcdefgh}~\u{7f}abcdefgh",
    ];
    for text in cases {
        check_all(text);
    }
}

/// ASCII words of every shape the eight-byte fast paths meet: a prefix or none, 0 to 11
/// capitals then 0 to 11 small letters (so the word ends before, at and past eight bytes),
/// then each kind of byte that may end or extend it, at the end of the text and before more.
#[test]
fn ascii_words_of_every_shape() {
    let stops = ["", " ", "'s", "'", "1", "é", "A", ".", "\n", "中"];
    for prefix in ["", " ", "\"", "-"] {
        for capitals in 0..12 {
            for small in 0..12 {
                let word = "QWERTYUIOPAS"[..capitals].to_string() + &"qwertyuiopas"[..small];
                for stop in stops {
                    check_all(&format!("{prefix}{word}{stop}"));
                    check_all(&format!("{prefix}{word}{stop} tail"));
                }
            }
        }
    }
}

/// Every pair of pool characters, in both orders.
#[test]
fn all_pairs() {
    let chars: Vec<char> = FRAGMENTS.iter().flat_map(|f| f.chars()).collect();
    for &a in &chars {
        for &b in &chars {
            check_all(&format!("{a}{b}"));
        }
    }
}

/// Every Unicode scalar value, each in a few contexts, in chunks: this checks the class
/// table against the classes fancy-regex uses, code point by code point.
#[test]
fn every_code_point() {
    let contexts = ['a', ' ', 'A', '1', '\'', '\u{301}', '!', '\n'];
    let all: Vec<char> = (0..=0x10_FFFFu32).filter_map(char::from_u32).collect();
    for chunk in all.chunks(8192) {
        let mut text = String::new();
        for (i, &c) in chunk.iter().enumerate() {
            text.push(c);
            text.push(contexts[i % contexts.len()]);
            text.push(c);
        }
        check_all(&text);
    }
}

#[test]
fn huge_inputs_do_not_panic() {
    let spaces = " ".repeat(1_000_000);
    let letters = "a".repeat(100_000);
    let newlines = "\n".repeat(100_000);
    let mixed = " \u{301}".repeat(100_000);
    for pattern in Pattern::ALL {
        for text in [&spaces, &letters, &newlines, &mixed] {
            let mut n = 0;
            let mut len = 0;
            for_each_piece(pattern, text, |p| {
                n += 1;
                len += p.len();
            });
            assert_eq!(len, text.len(), "{pattern:?}");
            if text == &spaces || text == &letters {
                assert_eq!(n, 1, "{pattern:?}");
            }
        }
    }
}
