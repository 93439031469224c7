//! The charts of `chatctx replay`: `--html FILE` writes one self-contained page, `--svg DIR`
//! the same charts as SVG files. Built on the replay results; the replay knows nothing of it.

mod charts;
mod html;

use std::path::Path;

use chatctx::replay::Replay;

use crate::Failure;

pub(crate) use charts::{charts, Chart};

/// What the report is about.
#[derive(Debug)]
pub(crate) struct About<'a> {
    /// The recording's file name, as given.
    pub(crate) recording: &'a str,
    /// The model the requests were counted and priced for.
    pub(crate) model: Option<&'a str>,
    /// The context window.
    pub(crate) window: usize,
    /// Rounds (user turns) of the recording.
    pub(crate) rounds: usize,
}

/// Whether `replays` come from an agent recording: a round with more than one model call, or
/// a policy that cleared or capped messages.
pub(crate) fn is_agent(replays: &[Replay]) -> bool {
    replays.iter().flat_map(|r| &r.turns).any(|t| {
        t.step > 1 || t.cleared > 0 || t.capped > 0 || t.tokens_cleared > 0 || t.tokens_capped > 0
    })
}

fn drawn(replays: &[Replay]) -> Result<Vec<Chart>, Failure> {
    charts(replays, is_agent(replays)).map_err(|message| Failure { code: 1, message })
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|err| Failure {
        code: 1,
        message: format!("cannot write {}: {err}", path.display()),
    })
}

/// Write the HTML report of `replays` to `path`.
pub(crate) fn write_html(
    path: &Path,
    about: &About<'_>,
    replays: &[Replay],
) -> Result<(), Failure> {
    let charts = drawn(replays)?;
    write(path, &html::page(about, replays, &charts))
}

/// Write one SVG file per chart into `dir` (created when missing), named after the chart
/// (`prompt.svg`, `cost.svg`, `retained.svg`, `edits.svg`).
pub(crate) fn write_svgs(dir: &Path, replays: &[Replay]) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|err| Failure {
        code: 1,
        message: format!("cannot create {}: {err}", dir.display()),
    })?;
    for chart in drawn(replays)? {
        write(&dir.join(format!("{}.svg", chart.name)), &chart.svg)?;
    }
    Ok(())
}
