//! A summarizer that runs a shell command.

use std::io::Write;
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use super::message::summary_message;
use super::{run_blocking, Summarizer, Summary, SummaryInput, DEFAULT_PROMPT};
use crate::error::{Error, Result};
use crate::message::Message;

/// Most bytes of the command's stderr quoted in an error.
const STDERR_EXCERPT: usize = 500;

/// Runs `sh -c CMD` (`command:CMD` in the CLI) for every summary.
///
/// The command gets on stdin a JSON array of the messages to summarize, preceded, when there is
/// one, by the previous summary as a summary message (a system message named
/// [`crate::policy::SUMMARY_NAME`]). It prints the new summary on stdout. The summarization
/// prompt is in the environment variable `CHATCTX_SUMMARY_PROMPT`. A non-zero exit status is
/// an [`Error::Summarizer`] quoting the start of stderr.
///
/// The command runs on its own thread, so it never blocks the async runtime. On Unix it runs
/// in a process group of its own: when the call is abandoned (the policy's deadline passes,
/// see [`crate::policy::RollingSummary::with_timeout`], or the future is dropped), the whole
/// group is killed, the command and every process it started (unless one left the group,
/// e.g. with `setsid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSummarizer {
    command: String,
    prompt: String,
}

impl CommandSummarizer {
    /// Run `command` through `sh -c`.
    pub fn new(command: impl Into<String>) -> Self {
        CommandSummarizer {
            command: command.into(),
            prompt: DEFAULT_PROMPT.to_string(),
        }
    }

    /// Replace the summarization prompt passed in `CHATCTX_SUMMARY_PROMPT`.
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// The shell command.
    pub fn command(&self) -> &str {
        &self.command
    }

    fn run(command: &str, prompt: &str, stdin: Vec<u8>, group: &Group) -> Result<String> {
        let failed = |reason: String| Error::Summarizer {
            reason: format!("command {command:?}: {reason}"),
        };
        let mut process = Process::new("sh");
        process
            .arg("-c")
            .arg(command)
            .env("CHATCTX_SUMMARY_PROMPT", prompt)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut process, 0);
        let mut child = group
            .start(&mut process)
            .map_err(|err| failed(format!("cannot start: {err}")))?;
        // Write on another thread: a command that answers before reading all its input
        // must not deadlock on a full pipe.
        let writer = child.stdin.take().map(|mut pipe| {
            std::thread::spawn(move || {
                // A command that ignores its input closes the pipe early; that is its right.
                let _ = pipe.write_all(&stdin);
            })
        });
        let output = child.wait_with_output();
        // reaped: from here on its process group id may be reused, so never kill it
        group.finished();
        let output = output.map_err(|err| failed(format!("cannot wait: {err}")))?;
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let excerpt: String = stderr.trim().chars().take(STDERR_EXCERPT).collect();
            return Err(failed(format!("{}: {excerpt}", output.status)));
        }
        String::from_utf8(output.stdout)
            .map(|text| text.trim().to_string())
            .map_err(|_| failed("stdout is not UTF-8".into()))
    }
}

/// The process group of one command run, shared by the thread running it and the future
/// waiting for it.
#[derive(Debug, Default)]
struct Group(Mutex<GroupState>);

#[derive(Debug, Default)]
struct GroupState {
    /// The running command's process id (its group id too), until it is reaped.
    leader: Option<u32>,
    /// The call was abandoned: kill the command as soon as it starts.
    abandoned: bool,
}

impl Group {
    /// Spawn `process` unless the call was abandoned already.
    fn start(&self, process: &mut Process) -> std::io::Result<Child> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if state.abandoned {
            return Err(std::io::Error::other("the call was abandoned"));
        }
        let child = process.spawn()?;
        state.leader = Some(child.id());
        Ok(child)
    }

    /// The command was reaped.
    fn finished(&self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).leader = None;
    }

    /// Kill the command's whole process group, if it still runs.
    fn abandon(&self) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.abandoned = true;
        if let Some(leader) = state.leader {
            kill_group(leader);
        }
    }
}

/// Kills the group when the summarize future is dropped; harmless once the command finished.
struct KillOnDrop(Arc<Group>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// SIGKILL to every process of the group `leader` leads.
#[cfg(unix)]
fn kill_group(leader: u32) {
    if let Ok(group) = libc::pid_t::try_from(leader) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours. The group is
        // still ours: its leader is not reaped, or was at most an instant ago (`finished`
        // clears `leader` right after the wait, under the lock the caller holds).
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

/// Without process groups, only the command itself can be killed: by its runner thread, which
/// owns it; the command then finishes on its own.
#[cfg(not(unix))]
fn kill_group(_leader: u32) {}

#[async_trait]
impl Summarizer for CommandSummarizer {
    async fn summarize(&self, input: SummaryInput) -> Result<Summary> {
        let mut messages: Vec<Message> = Vec::with_capacity(input.messages.len() + 1);
        if let Some(previous) = &input.previous {
            messages.push(summary_message(previous));
        }
        messages.extend(input.messages);
        let stdin = serde_json::to_vec(&messages).map_err(|err| Error::Summarizer {
            reason: format!("cannot encode the messages: {err}"),
        })?;
        let (command, prompt) = (self.command.clone(), self.prompt.clone());
        let group = Arc::new(Group::default());
        // Dropped with this future: an abandoned call kills what it started.
        let _kill_on_drop = KillOnDrop(Arc::clone(&group));
        let text = run_blocking(move || CommandSummarizer::run(&command, &prompt, stdin, &group))
            .await
            .ok_or_else(|| Error::Summarizer {
                reason: format!("command {:?}: the runner thread failed", self.command),
            })??;
        Ok(Summary::new(text))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input() -> SummaryInput {
        SummaryInput::new(
            vec![Message::user("hi"), Message::assistant("hello")],
            Some("earlier".into()),
        )
    }

    #[tokio::test]
    async fn pipes_json_in_and_reads_the_summary_out() {
        // Count the messages on stdin: the previous summary and the two messages.
        let command = CommandSummarizer::new(r#"grep -o '"role"' | wc -l | tr -d ' '"#);
        let summary = command.summarize(input()).await.unwrap();
        assert_eq!(summary.text, "3");
        let echo = CommandSummarizer::new(r#"printf '%s' "$CHATCTX_SUMMARY_PROMPT""#)
            .with_prompt("be short");
        assert_eq!(echo.summarize(input()).await.unwrap().text, "be short");
    }

    /// Whether process `pid` is gone (or a zombie: dead, waiting to be reaped).
    #[cfg(target_os = "linux")]
    fn gone(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // the state follows the parenthesised command name
            Ok(stat) => stat
                .rsplit(')')
                .next()
                .unwrap()
                .trim_start()
                .starts_with('Z'),
        }
    }

    /// Poll `done` every 20 ms for at most `seconds`.
    #[cfg(target_os = "linux")]
    async fn eventually(seconds: u64, done: impl Fn() -> bool) -> bool {
        for _ in 0..seconds * 50 {
            if done() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        done()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn an_abandoned_command_is_killed_with_its_children() {
        let file = std::env::temp_dir().join(format!("chatctx-hang-{}.pids", std::process::id()));
        let path = file.to_string_lossy().to_string();
        let _ = std::fs::remove_file(&file);
        // the shell and two children that would each run 100 s
        let command = CommandSummarizer::new(format!(
            "sleep 100 & echo $! >> {path}; sleep 100 & echo $! >> {path}; echo $$ >> {path}; wait"
        ));
        let call = tokio::spawn(async move { command.summarize(input()).await });
        let pids = || -> Vec<u32> {
            std::fs::read_to_string(&file)
                .unwrap_or_default()
                .lines()
                .filter_map(|line| line.trim().parse().ok())
                .collect()
        };
        assert!(eventually(30, || pids().len() == 3).await, "{:?}", pids());
        let pids = pids();
        assert!(pids.iter().all(|&pid| !gone(pid)), "all three run");
        call.abort(); // what a deadline does: the future is dropped
        assert!(call.await.unwrap_err().is_cancelled());
        let all_gone = eventually(60, || pids.iter().all(|&pid| gone(pid))).await;
        let _ = std::fs::remove_file(&path);
        assert!(all_gone, "still running: {pids:?}");
    }

    #[tokio::test]
    async fn a_failing_command_is_an_error_quoting_stderr() {
        let error = CommandSummarizer::new("echo 'no model configured' >&2; exit 3")
            .summarize(input())
            .await
            .unwrap_err();
        let Error::Summarizer { reason } = error else {
            panic!("wrong error kind")
        };
        assert!(reason.contains("exit status: 3"), "{reason}");
        assert!(reason.contains("no model configured"), "{reason}");
    }
}
