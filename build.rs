//! Preprocesses the vendored vocabularies in `vocab/` into the compact tables of
//! `src/tokens/table/`, packed (`table/pack.rs`), written to `OUT_DIR` and embedded with
//! `include_bytes!`, so no base64 or JSON is parsed at run time. Only the vocabularies whose
//! cargo feature (`vocab-*`) is enabled are preprocessed and embedded.

use std::path::Path;

// The table builders and their binary format, shared with the library (`tokens::table`).
#[allow(dead_code, unused_imports)]
#[path = "src/tokens/table/mod.rs"]
mod table;

/// The `.tiktoken` vocabularies: the cargo feature's name in `CARGO_FEATURE_*` form and the file
/// stem.
const TIKTOKEN: [(&str, &str); 4] = [
    ("VOCAB_CL100K", "cl100k_base"),
    ("VOCAB_O200K", "o200k_base"),
    ("VOCAB_QWEN2_5", "qwen"),
    ("VOCAB_QWEN3_5", "qwen3_6"),
];

fn enabled(feature: &str) -> bool {
    std::env::var_os(format!("CARGO_FEATURE_{feature}")).is_some()
}

fn main() -> Result<(), String> {
    let out = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    println!("cargo:rerun-if-changed=src/tokens/table");
    println!("cargo:rerun-if-changed=build.rs");
    for (feature, name) in TIKTOKEN {
        if !enabled(feature) {
            continue;
        }
        let src = format!("vocab/{name}.tiktoken");
        println!("cargo:rerun-if-changed={src}");
        let text = std::fs::read(&src).map_err(|e| format!("{src}: {e}"))?;
        let tokens = table::vocab_file::parse_tiktoken(&text).map_err(|e| format!("{src}: {e}"))?;
        let tables = table::Tables::from_ranks(tokens).map_err(|e| format!("{src}: {e}"))?;
        write(&out, name, &tables)?;
    }
    if enabled("VOCAB_DEEPSEEK_V3") {
        let src = "vocab/deepseek-v3.tokenizer.json";
        println!("cargo:rerun-if-changed={src}");
        let text = std::fs::read(src).map_err(|e| format!("{src}: {e}"))?;
        let json: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| format!("{src}: {e}"))?;
        let model = table::vocab_file::parse_hf_model(&json).map_err(|e| format!("{src}: {e}"))?;
        let mut tables =
            table::Tables::from_merges(model.vocab, &model.merges, model.ignore_merges)
                .map_err(|e| format!("{src}: {e}"))?;
        tables.specials = model.added;
        write(&out, "deepseek-v3", &tables)?;
    }
    Ok(())
}

fn write(out: &str, name: &str, tables: &table::Tables) -> Result<(), String> {
    let path = Path::new(out).join(format!("{name}.bin"));
    let packed = table::pack::pack(&tables.to_parts()).map_err(|e| format!("{name}: {e}"))?;
    std::fs::write(&path, packed).map_err(|e| format!("{}: {e}", path.display()))
}
