//! Rendering apply events: indicatif bars on a terminal, plain timestamped lines
//! otherwise (or with `--no-progress`), one JSON object per line with `--output json`.
//! Bars and lines also say how long is left and what waits for what ([`Tracker`]).

use super::tracker::Tracker;
use crate::engine::secrets::scrub;
use crate::engine::{Event, Plan, render::event_json_line, render::event_text};
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
    /// Finished writes, what waits for what, time left.
    tracker: Tracker,
    /// The last "waiting for" line printed in plain-lines mode.
    last_waiting: String,
    /// After Ctrl-C: bars are gone, events print as plain lines.
    interrupted: bool,
}

impl Progress {
    /// A renderer for the apply of `plan`; `scale` multiplies the typical
    /// durations of the estimate (the embedded sandbox's time scale, else 1).
    pub fn new(mode: ProgressMode, plan: &Plan, scale: f64) -> Self {
        let tracker = Tracker::new(plan, scale);
        let (_, total) = tracker.writes_done();
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = (mode == ProgressMode::Bars).then(|| {
            let bar = multi.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>9} [{bar:30}] {pos}/{len} {elapsed_precise} {wide_msg}",
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
                tracker,
                last_waiting: String::new(),
                interrupted: false,
            }),
        }
    }

    /// Show one event.
    pub fn event(&self, event: &Event) {
        if let Ok(mut bars) = self.inner.lock() {
            bars.tracker.record(event);
        }
        match self.mode {
            ProgressMode::Json => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", scrub(&event_json_line(event)));
            }
            ProgressMode::Lines => self.line_event(event),
            ProgressMode::Bars => {
                let interrupted = self.inner.lock().map(|b| b.interrupted).unwrap_or(true);
                if interrupted {
                    self.line_event(event);
                } else {
                    self.bar_event(event);
                }
            }
        }
    }

    /// Plain lines: the event (a long-running operation's status only when it
    /// changes), then what the rest waits for whenever that changes.
    fn line_event(&self, event: &Event) {
        let Ok(mut bars) = self.inner.lock() else {
            return;
        };
        if let Event::Polled {
            address, status, ..
        } = event
        {
            let key = address.as_str().to_ascii_lowercase();
            if bars.last_status.get(&key) == Some(status) {
                return;
            }
            bars.last_status.insert(key, status.clone());
        }
        eprintln!("{} {}", stamp(), scrub(&event_text(event)));
        if !matches!(event, Event::Started { .. } | Event::Succeeded { .. }) {
            return;
        }
        // Said again only when the main thing waited for changes.
        let waiting = bars.tracker.waiting();
        let on = waiting.first().map(|w| w.on.clone()).unwrap_or_default();
        if !on.is_empty() && on != bars.last_waiting {
            eprintln!("{} {}", stamp(), bars.tracker.summary());
        }
        bars.last_waiting = on;
    }

    fn bar_event(&self, event: &Event) {
        let Ok(mut bars) = self.inner.lock() else {
            return;
        };
        // Labels never wrap: the message takes what the terminal width leaves.
        let spinner_style = ProgressStyle::with_template("  {spinner} {elapsed:>4} {wide_msg}")
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
                bar.set_message(format!(
                    "{label}: {}",
                    crate::engine::render::doing(*action)
                ));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.in_flight
                    .insert(address.as_str().to_ascii_lowercase(), bar);
            }
            Event::Polled {
                address, status, ..
            } => {
                if let Some(bar) = bars.in_flight.get(&address.as_str().to_ascii_lowercase()) {
                    bar.set_message(format!("{} [{status}]", base_message(bar)));
                }
            }
            Event::Retrying {
                address,
                reason,
                delay,
            } => {
                // Why it is slow, in the bar too (not only in plain lines).
                if let Some(bar) = bars.in_flight.get(&address.as_str().to_ascii_lowercase()) {
                    bar.set_message(format!(
                        "{} [retrying in {}: {reason}]",
                        base_message(bar),
                        super::tracker::short_duration(*delay)
                    ));
                }
            }
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
            }
        }
        // The counter counts finished writes only (not waits), so it matches
        // what is still running; the message says what is left and why.
        if let Some(o) = &bars.overall {
            let (done, total) = bars.tracker.writes_done();
            o.set_length(total);
            o.set_position(done);
            o.set_message(bars.tracker.summary());
        }
    }

    /// Ctrl-C: remove the bars at once and say so; later events print as lines.
    pub fn interrupted(&self, message: &str) {
        self.finish();
        if let Ok(mut bars) = self.inner.lock() {
            bars.interrupted = true;
            let _ = bars.multi.clear();
        }
        eprintln!("{message}");
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

/// The message of `bar` without its bracketed status.
fn base_message(bar: &ProgressBar) -> String {
    let message = bar.message();
    message.split(" [").next().unwrap_or_default().to_string()
}

/// `HH:MM:SS` (UTC) for plain lines.
fn stamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}
