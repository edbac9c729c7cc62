//! Publishers before their subscribers: a subscription to a topic that does not exist yet
//! fails, so a workload waits for the word of the publishers it subscribes to (their stacks
//! are in place) before its deploy starts.

use std::sync::Arc;

use tokio::sync::watch;

use crate::manifest::load::ResolvedWorkload;

/// Tells the workloads that subscribe to a workload's topics when they may go on: `true` once
/// its stack is in place, `false` when its deploy did not succeed. An unchanged stack says so
/// before its ECS rollout check, which its subscribers need not wait for (its topics exist),
/// so that an unchanged deploy is two rounds of calls instead of one more per subscriber level.
#[derive(Debug, Clone, Default)]
pub(super) struct TopicsReady(Option<Arc<watch::Sender<Option<bool>>>>);

impl TopicsReady {
    /// A signal, and what the subscribers wait on.
    pub(super) fn channel() -> (TopicsReady, watch::Receiver<Option<bool>>) {
        let (tx, rx) = watch::channel(None);
        (TopicsReady(Some(Arc::new(tx))), rx)
    }

    /// Says whether the topics are ready; only the first word counts.
    pub(super) fn send(&self, ready: bool) {
        if let Some(tx) = &self.0 {
            tx.send_if_modified(|v| {
                let first = v.is_none();
                if first {
                    *v = Some(ready);
                }
                first
            });
        }
    }
}

/// Waits for a publisher's word; a publisher that ended without one did not succeed.
pub(super) async fn topics_ready(mut rx: watch::Receiver<Option<bool>>) -> bool {
    match rx.wait_for(Option::is_some).await {
        Ok(ready) => ready.unwrap_or(false),
        Err(_) => false,
    }
}

/// The workloads of `selected` whose topics `wl` subscribes to.
pub(super) fn publishers_of<'a>(
    wl: &ResolvedWorkload,
    selected: &[&'a ResolvedWorkload],
) -> Vec<&'a str> {
    let topics = wl
        .manifest
        .subscribe
        .as_ref()
        .and_then(|s| s.topics.as_ref());
    let mut out: Vec<&str> = topics
        .into_iter()
        .flat_map(|t| t.iter())
        .filter_map(|t| t.service.as_ref().map(|s| s.value.as_str()))
        .filter_map(|name| {
            selected
                .iter()
                .find(|w| w.name == name && w.name != wl.name)
                .map(|w| w.name.as_str())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The wave of each selected workload: 0 for those that subscribe to no selected publisher,
/// then each one wave after the publishers it subscribes to. Workloads caught in a
/// subscription cycle share the last wave (and do not wait for each other).
pub(super) fn wave_numbers(selected: &[&ResolvedWorkload]) -> Vec<usize> {
    let mut wave_of: Vec<Option<usize>> = vec![None; selected.len()];
    let mut wave = 0;
    loop {
        let next: Vec<usize> = (0..selected.len())
            .filter(|&i| wave_of[i].is_none())
            .filter(|&i| {
                publishers_of(selected[i], selected).iter().all(|p| {
                    selected
                        .iter()
                        .position(|w| w.name == *p)
                        .is_some_and(|k| wave_of[k].is_some_and(|w| w < wave))
                })
            })
            .collect();
        if next.is_empty() {
            return wave_of.into_iter().map(|w| w.unwrap_or(wave)).collect();
        }
        for i in next {
            wave_of[i] = Some(wave);
        }
        wave += 1;
    }
}
