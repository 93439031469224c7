//! Preprocesses the vendored vocabularies in `vocab/` into the compact tables of
//! `src/tokens/table/`, written to `OUT_DIR` and embedded with `include_bytes!`, so no base64
//! or JSON is parsed at run time.

use std::path::Path;

// The table builders and their binary format, shared with the library (`tokens::table`).
#[allow(dead_code, unused_imports)]
#[path = "src/tokens/table/mod.rs"]
mod table;

fn main() -> Result<(), String> {
    let out = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    for name in ["cl100k_base", "o200k_base", "qwen", "qwen3_6"] {
        let src = format!("vocab/{name}.tiktoken");
        println!("cargo:rerun-if-changed={src}");
        let text = std::fs::read(&src).map_err(|e| format!("{src}: {e}"))?;
        let tokens = table::vocab_file::parse_tiktoken(&text).map_err(|e| format!("{src}: {e}"))?;
        let tables = table::Tables::from_ranks(tokens).map_err(|e| format!("{src}: {e}"))?;
        write(&out, name, &tables)?;
    }
    let src = "vocab/deepseek-v3.tokenizer.json";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read(src).map_err(|e| format!("{src}: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("{src}: {e}"))?;
    let model = table::vocab_file::parse_hf_model(&json).map_err(|e| format!("{src}: {e}"))?;
    let mut tables = table::Tables::from_merges(model.vocab, &model.merges, model.ignore_merges)
        .map_err(|e| format!("{src}: {e}"))?;
    tables.specials = model.added;
    write(&out, "deepseek-v3", &tables)?;
    println!("cargo:rerun-if-changed=src/tokens/table");
    println!("cargo:rerun-if-changed=build.rs");
    Ok(())
}

fn write(out: &str, name: &str, tables: &table::Tables) -> Result<(), String> {
    let path = Path::new(out).join(format!("{name}.bin"));
    std::fs::write(&path, tables.to_bytes()).map_err(|e| format!("{}: {e}", path.display()))
}
