//! Reading the command's input: a file or standard input, bounded in size.

use std::io::Read;

use chatctx::Error;

/// The largest input the command accepts (256 MiB); larger inputs are refused, not truncated.
pub(crate) const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Read a JSON input: like [`read_text`], but an empty or whitespace-only input is an error
/// (it cannot be a request).
pub(crate) fn read_input(path: Option<&str>) -> Result<String, Error> {
    let text = read_text(path)?;
    if text.bytes().all(|byte| byte.is_ascii_whitespace()) {
        return Err(Error::Io {
            path: path
                .filter(|path| *path != "-")
                .unwrap_or("<stdin>")
                .to_string(),
            message: "input is empty".to_string(),
        });
    }
    Ok(text)
}

/// Read `path` (or standard input for `-` / no path) as UTF-8 text, exactly as given: an empty
/// or whitespace-only text is text too.
pub(crate) fn read_text(path: Option<&str>) -> Result<String, Error> {
    let (name, mut reader): (&str, Box<dyn Read>) = match path {
        None | Some("-") => ("<stdin>", Box::new(std::io::stdin())),
        Some(path) => match std::fs::File::open(path) {
            Ok(file) => (path, Box::new(file)),
            Err(err) => {
                return Err(Error::Io {
                    path: path.to_string(),
                    message: err.to_string(),
                })
            }
        },
    };
    let mut bytes = Vec::new();
    let io_error = |err: std::io::Error| Error::Io {
        path: name.to_string(),
        message: err.to_string(),
    };
    reader
        .by_ref()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::Io {
            path: name.to_string(),
            message: format!("input is larger than the {MAX_INPUT_BYTES}-byte limit"),
        });
    }
    String::from_utf8(bytes).map_err(|err| Error::Io {
        path: name.to_string(),
        message: format!(
            "input is not valid UTF-8 (first bad byte at offset {})",
            err.utf8_error().valid_up_to()
        ),
    })
}
