//! Rendering apply events: indicatif bars on a terminal, plain timestamped lines
//! otherwise (or with `--no-progress`), one JSON object per line with `--output json`.

use crate::engine::secrets::scrub;
use crate::engine::{Event, render::event_json_line, render::event_text};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Live bars (stderr is a terminal).
    Bars,
    /// Plain timestamped lines on stderr.
    Lines,
    /// JSON lines on stdout.
    Json,
}

impl ProgressMode {
    /// Pick the mode: JSON output wins; bars only on a terminal, without
    /// `--no-progress`, and when `NO_COLOR`/`CI` do not ask for plain output.
    pub fn choose(json: bool, no_progress: bool) -> Self {
        if json {
            ProgressMode::Json
        } else if no_progress
            || !std::io::stderr().is_terminal()
            || std::env::var_os("CI").is_some()
            || std::env::var_os("NO_COLOR").is_some()
        {
            ProgressMode::Lines
        } else {
            ProgressMode::Bars
        }
    }
}

/// Renders a stream of events; shared by the apply's tasks through a mutex.
pub struct Progress {
    mode: ProgressMode,
    inner: Mutex<Bars>,
}

struct Bars {
    multi: MultiProgress,
    /// Last status shown per resource (plain lines show changes only).
    last_status: HashMap<String, String>,
    overall: Option<ProgressBar>,
    in_flight: HashMap<String, ProgressBar>,
}

impl Progress {
    /// A renderer for `total` changes.
    pub fn new(mode: ProgressMode, total: u64) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = (mode == ProgressMode::Bars).then(|| {
            let bar = multi.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>9} [{bar:30}] {pos}/{len} {elapsed_precise}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix("applying");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            mode,
            inner: Mutex::new(Bars {
                multi,
                last_status: HashMap::new(),
                overall,
                in_flight: HashMap::new(),
            }),
        }
    }

    /// Show one event.
    pub fn event(&self, event: &Event) {
        match self.mode {
            ProgressMode::Json => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", scrub(&event_json_line(event)));
            }
            ProgressMode::Lines => {
                if let Event::Polled {
                    address, status, ..
                } = event
                {
                    // Show a long-running operation's status when it changes, not every poll.
                    let Ok(mut bars) = self.inner.lock() else {
                        return;
                    };
                    let key = address.as_str().to_ascii_lowercase();
                    if bars.last_status.get(&key) == Some(status) {
                        return;
                    }
                    bars.last_status.insert(key, status.clone());
                }
                let now = time::OffsetDateTime::now_utc();
                let stamp = now
                    .format(&time::macros::format_description!(
                        "[hour]:[minute]:[second]"
                    ))
                    .unwrap_or_default();
                eprintln!("{stamp} {}", scrub(&event_text(event)));
            }
            ProgressMode::Bars => self.bar_event(event),
        }
    }

    fn bar_event(&self, event: &Event) {
        let Ok(mut bars) = self.inner.lock() else {
            return;
        };
        let spinner_style = ProgressStyle::with_template("  {spinner} {msg} {elapsed:>4}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        match event {
            Event::Started {
                address,
                label,
                action,
                ..
            } => {
                let bar = bars.multi.add(ProgressBar::new_spinner());
                bar.set_style(spinner_style);
                bar.set_message(format!("{label}: {}", action.as_str()));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.in_flight
                    .insert(address.as_str().to_ascii_lowercase(), bar);
            }
            Event::Polled {
                address, status, ..
            } => {
                if let Some(bar) = bars.in_flight.get(&address.as_str().to_ascii_lowercase()) {
                    let base = bar.message();
                    let base = base.split(" [").next().unwrap_or_default().to_string();
                    bar.set_message(format!("{base} [{status}]"));
                }
            }
            Event::Retrying { .. } => {}
            Event::Succeeded { address, .. }
            | Event::Failed { address, .. }
            | Event::Skipped { address, .. } => {
                if let Some(bar) = bars
                    .in_flight
                    .remove(&address.as_str().to_ascii_lowercase())
                {
                    bar.finish_and_clear();
                    bars.multi.remove(&bar);
                }
                let _ = bars.multi.println(scrub(&event_text(event)));
                if let Some(o) = &bars.overall {
                    o.inc(1);
                }
            }
        }
    }

    /// Remove the bars (call when the apply ends).
    pub fn finish(&self) {
        if let Ok(mut bars) = self.inner.lock() {
            for (_, bar) in bars.in_flight.drain() {
                bar.finish_and_clear();
            }
            if let Some(o) = bars.overall.take() {
                o.finish_and_clear();
            }
        }
    }
}
