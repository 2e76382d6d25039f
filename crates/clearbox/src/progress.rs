//! Progress bars on stderr for layer reading, shown only when stderr is a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;

use clearbox_oci::{NoProgress, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One bar per layer, in a shared block.
pub(crate) struct LayerBars {
    multi: MultiProgress,
    bars: Mutex<Vec<Option<ProgressBar>>>,
}

impl LayerBars {
    /// Bars when stderr is a terminal and output is not quiet; otherwise nothing.
    pub(crate) fn for_stderr(quiet: bool) -> Box<dyn Progress> {
        if quiet || !std::io::stderr().is_terminal() {
            return Box::new(NoProgress);
        }
        Box::new(LayerBars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(Vec::new()),
        })
    }
}

impl Progress for LayerBars {
    fn started(&self, layer: usize, layers: usize, bytes: Option<u64>) {
        let bar = self.multi.add(ProgressBar::new(bytes.unwrap_or(0)));
        let template = if bytes.is_some() {
            "{prefix:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}"
        } else {
            "{prefix:>12} {spinner} {bytes} read"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(format!("layer {}/{layers}", layer + 1));
        let mut bars = self.bars.lock().expect("progress lock is never poisoned");
        if bars.len() <= layer {
            bars.resize(layer + 1, None);
        }
        bars[layer] = Some(bar);
    }

    fn advanced(&self, layer: usize, bytes: u64) {
        if let Some(Some(bar)) = self
            .bars
            .lock()
            .expect("progress lock is never poisoned")
            .get(layer)
        {
            bar.inc(bytes);
        }
    }

    fn finished(&self, layer: usize) {
        if let Some(Some(bar)) = self
            .bars
            .lock()
            .expect("progress lock is never poisoned")
            .get(layer)
        {
            bar.finish_and_clear();
        }
    }
}
