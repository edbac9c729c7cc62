//! CloudFormation stack events as the watcher reads them: every documented resource and stack
//! status classified (including `CONFIGURATION_COMPLETE` and the "Eventual consistency check
//! initiated" `UPDATE_IN_PROGRESS` that CloudFormation added later), every page of
//! `DescribeStackEvents` read, and a deploy's events folded into what tug reports.
//!
//! Everything here is pure or generic over how a page is fetched, so it is tested with
//! recorded-shape event sequences (tests/recorded/stack-events) that moto does not produce.

use std::collections::HashSet;
use std::future::Future;

use serde::Deserialize;

use crate::deploy::events::Event;

/// One stack event, with the fields tug uses (names as in the DescribeStackEvents answer).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StackEvent {
    pub event_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    pub resource_type: String,
    pub resource_status: String,
    #[serde(default)]
    pub resource_status_reason: Option<String>,
    /// `CONFIGURATION_COMPLETE` (configured; CloudFormation still checks that the resource
    /// stabilized) or `VALIDATION_FAILED`.
    #[serde(default)]
    pub detailed_status: Option<String>,
}

impl StackEvent {
    /// From the SDK's type; `None` for an event without an id (never seen in practice, but an
    /// event tug cannot remember would be reported on every poll).
    pub fn from_sdk(e: &aws_sdk_cloudformation::types::StackEvent) -> Option<StackEvent> {
        Some(StackEvent {
            event_id: e.event_id()?.to_string(),
            logical_resource_id: e.logical_resource_id().unwrap_or_default().to_string(),
            physical_resource_id: e
                .physical_resource_id()
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            resource_type: e.resource_type().unwrap_or_default().to_string(),
            resource_status: e
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            resource_status_reason: e.resource_status_reason().map(str::to_string),
            detailed_status: e.detailed_status().map(|d| d.as_str().to_string()),
        })
    }

    /// The stack's own events (as opposed to its resources').
    pub fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }
}

/// One page of a DescribeStackEvents answer: the newest events first.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page {
    #[serde(default)]
    pub stack_events: Vec<StackEvent>,
    #[serde(default)]
    pub next_token: Option<String>,
}

/// Where a resource stands after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourcePhase {
    /// Something is still happening to it (including a rollback, a cleanup, and the
    /// consistency check after `CONFIGURATION_COMPLETE`).
    InProgress,
    Complete,
    Failed,
    /// Retained on delete (DeletionPolicy: Retain) or already gone.
    Skipped,
    /// A status CloudFormation did not document when this was written: shown as it is,
    /// never taken for an ending.
    Unknown,
}

impl ResourcePhase {
    /// Whether nothing more happens to the resource in this operation (unless a rollback
    /// starts it again).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ResourcePhase::Complete | ResourcePhase::Failed | ResourcePhase::Skipped
        )
    }
}

/// Classifies a resource status. Every value of the documented `ResourceStatus` enum is
/// listed, plus the stack statuses that the stack's own events carry, plus
/// `CONFIGURATION_COMPLETE`, which CloudFormation documents as a detailed status but which
/// some answers carry as the status itself.
pub fn resource_phase(status: &str) -> ResourcePhase {
    use ResourcePhase::*;
    match status {
        "CREATE_IN_PROGRESS"
        | "UPDATE_IN_PROGRESS"
        | "DELETE_IN_PROGRESS"
        | "IMPORT_IN_PROGRESS"
        | "EXPORT_IN_PROGRESS"
        | "ROLLBACK_IN_PROGRESS"
        | "UPDATE_ROLLBACK_IN_PROGRESS"
        | "IMPORT_ROLLBACK_IN_PROGRESS"
        | "EXPORT_ROLLBACK_IN_PROGRESS"
        // Configured, but CloudFormation has not finished checking that it stabilized.
        | "CONFIGURATION_COMPLETE"
        // Stack statuses (the stack's own events).
        | "REVIEW_IN_PROGRESS"
        | "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        | "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" => InProgress,
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "DELETE_COMPLETE"
        | "IMPORT_COMPLETE"
        | "EXPORT_COMPLETE"
        | "ROLLBACK_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE"
        | "EXPORT_ROLLBACK_COMPLETE" => Complete,
        "CREATE_FAILED"
        | "UPDATE_FAILED"
        | "DELETE_FAILED"
        | "IMPORT_FAILED"
        | "EXPORT_FAILED"
        | "ROLLBACK_FAILED"
        | "UPDATE_ROLLBACK_FAILED"
        | "IMPORT_ROLLBACK_FAILED"
        | "EXPORT_ROLLBACK_FAILED" => Failed,
        "DELETE_SKIPPED" => Skipped,
        _ => Unknown,
    }
}

/// What a stack status means for the watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackVerdict {
    /// An operation is still running (including cleanup after it).
    Running,
    Succeeded,
    /// The operation failed and CloudFormation rolled it back.
    RolledBack,
    /// Failed without a complete rollback (a person may have to act).
    Failed,
    /// The stack is gone.
    Deleted,
}

/// Classifies a stack status; every documented `StackStatus` is listed. An undocumented one
/// is judged by its suffix, so that a new failure is still a failure and a new completion
/// does not hang the watcher until its deadline.
pub fn stack_verdict(status: &str) -> StackVerdict {
    use StackVerdict::*;
    match status {
        "CREATE_IN_PROGRESS"
        | "UPDATE_IN_PROGRESS"
        | "DELETE_IN_PROGRESS"
        | "ROLLBACK_IN_PROGRESS"
        | "UPDATE_ROLLBACK_IN_PROGRESS"
        | "IMPORT_IN_PROGRESS"
        | "IMPORT_ROLLBACK_IN_PROGRESS"
        | "REVIEW_IN_PROGRESS"
        | "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        | "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" => Running,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => Succeeded,
        "ROLLBACK_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_ROLLBACK_COMPLETE" => RolledBack,
        "CREATE_FAILED"
        | "UPDATE_FAILED"
        | "DELETE_FAILED"
        | "ROLLBACK_FAILED"
        | "UPDATE_ROLLBACK_FAILED"
        | "IMPORT_ROLLBACK_FAILED" => Failed,
        "DELETE_COMPLETE" => Deleted,
        s if s.ends_with("_IN_PROGRESS") => Running,
        s if s.ends_with("_FAILED") => Failed,
        s if s.ends_with("ROLLBACK_COMPLETE") => RolledBack,
        s if s.ends_with("_COMPLETE") => Succeeded,
        _ => Running,
    }
}

/// Guards against an answer whose `NextToken` never ends.
const MAX_PAGES: usize = 1000;

/// Reads the events that are not in `seen` yet, oldest first, following `NextToken` until a
/// page reaches an event already seen (or the last page): a large first deploy has more
/// events between two polls than one page holds. `fetch(token)` reads one page.
///
/// `seen` is updated only when every page was read, so a failed read loses nothing: the next
/// poll reads the same events again.
pub async fn read_new<F, Fut, E>(
    mut fetch: F,
    seen: &mut HashSet<String>,
) -> Result<Vec<StackEvent>, E>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page, E>>,
{
    let mut fresh: Vec<StackEvent> = Vec::new();
    // Events that arrive while the pages are read shift older ones onto the next page, so a
    // page may repeat an event of the one before.
    let mut taken: HashSet<String> = HashSet::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(token.clone()).await?;
        let mut reached_seen = false;
        for e in page.stack_events {
            if seen.contains(&e.event_id) {
                reached_seen = true;
            } else if taken.insert(e.event_id.clone()) {
                fresh.push(e);
            }
        }
        match page.next_token {
            Some(next) if !reached_seen && Some(&next) != token.as_ref() => token = Some(next),
            _ => break,
        }
    }
    seen.extend(taken);
    fresh.reverse();
    Ok(fresh)
}

/// What a deploy's events add up to: the failures worth reporting, the task definition the
/// deploy rolled out, and the stack's status as its own events tell it.
#[derive(Debug, Default)]
pub struct Digest {
    /// `Logical (Type): reason` of each failed resource, in order (cancellations left out:
    /// they are a consequence, not a cause).
    pub failures: Vec<String>,
    /// The physical id of the first task definition this deploy completed (later ones belong
    /// to a rollback).
    pub rolled_out: Option<String>,
    /// The latest status of the stack from its own events.
    pub stack_status: Option<String>,
}

impl Digest {
    /// Takes in one event (oldest first) and returns what to report for it.
    pub fn apply(&mut self, stack: &str, e: StackEvent) -> Event {
        let phase = resource_phase(&e.resource_status);
        if e.is_stack() {
            self.stack_status = Some(e.resource_status.clone());
        } else if e.logical_resource_id == "TaskDefinition"
            && matches!(
                e.resource_status.as_str(),
                "CREATE_COMPLETE" | "UPDATE_COMPLETE"
            )
            && self.rolled_out.is_none()
        {
            self.rolled_out.clone_from(&e.physical_resource_id);
        }
        if phase == ResourcePhase::Failed
            && let Some(r) = e
                .resource_status_reason
                .as_deref()
                .filter(|r| !r.is_empty())
            && !r.contains("cancelled")
            && !r.contains("canceled")
            && !e.is_stack()
        {
            self.failures.push(format!(
                "{} ({}): {r}",
                e.logical_resource_id, e.resource_type
            ));
        }
        Event::Resource {
            stack: stack.to_string(),
            logical_id: e.logical_resource_id,
            resource_type: e.resource_type,
            status: e.resource_status,
            reason: e.resource_status_reason,
            detailed_status: e.detailed_status,
        }
    }

    /// The stack's verdict from its own events (`Running` before the first one).
    pub fn verdict(&self) -> StackVerdict {
        self.stack_status
            .as_deref()
            .map_or(StackVerdict::Running, stack_verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documented `ResourceStatus` values (CloudFormation API reference, StackEvent).
    const RESOURCE_STATUSES: &[&str] = &[
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
        "CREATE_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_FAILED",
        "DELETE_COMPLETE",
        "DELETE_SKIPPED",
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
        "UPDATE_COMPLETE",
        "IMPORT_FAILED",
        "IMPORT_COMPLETE",
        "IMPORT_IN_PROGRESS",
        "IMPORT_ROLLBACK_IN_PROGRESS",
        "IMPORT_ROLLBACK_FAILED",
        "IMPORT_ROLLBACK_COMPLETE",
        "EXPORT_FAILED",
        "EXPORT_COMPLETE",
        "EXPORT_IN_PROGRESS",
        "EXPORT_ROLLBACK_IN_PROGRESS",
        "EXPORT_ROLLBACK_FAILED",
        "EXPORT_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
    ];

    /// Documented `StackStatus` values (CloudFormation API reference, Stack).
    const STACK_STATUSES: &[&str] = &[
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
        "CREATE_COMPLETE",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_FAILED",
        "ROLLBACK_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_FAILED",
        "DELETE_COMPLETE",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "UPDATE_FAILED",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
        "REVIEW_IN_PROGRESS",
        "IMPORT_IN_PROGRESS",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_IN_PROGRESS",
        "IMPORT_ROLLBACK_FAILED",
        "IMPORT_ROLLBACK_COMPLETE",
    ];

    #[test]
    fn every_documented_status_is_classified() {
        for s in RESOURCE_STATUSES.iter().chain(STACK_STATUSES) {
            let phase = resource_phase(s);
            assert_ne!(phase, ResourcePhase::Unknown, "{s}");
            assert_eq!(
                phase == ResourcePhase::Failed,
                s.ends_with("_FAILED"),
                "{s}"
            );
            assert_eq!(
                phase == ResourcePhase::InProgress,
                s.ends_with("_IN_PROGRESS"),
                "{s}"
            );
        }
        assert_eq!(
            resource_phase("CONFIGURATION_COMPLETE"),
            ResourcePhase::InProgress
        );
        assert!(!resource_phase("CONFIGURATION_COMPLETE").is_final());
        assert_eq!(resource_phase("SOMETHING_NEW"), ResourcePhase::Unknown);
        assert!(!ResourcePhase::Unknown.is_final());
    }

    #[test]
    fn every_documented_stack_status_has_a_verdict() {
        use StackVerdict::*;
        for s in STACK_STATUSES {
            let expected = if s.ends_with("_IN_PROGRESS") {
                Running
            } else if s.ends_with("_FAILED") {
                Failed
            } else if *s == "DELETE_COMPLETE" {
                Deleted
            } else if s.contains("ROLLBACK") {
                RolledBack
            } else {
                Succeeded
            };
            assert_eq!(stack_verdict(s), expected, "{s}");
        }
        // Not yet documented ones by their suffix: never a hang until the deadline.
        assert_eq!(stack_verdict("RESTORE_COMPLETE"), Succeeded);
        assert_eq!(stack_verdict("RESTORE_ROLLBACK_COMPLETE"), RolledBack);
        assert_eq!(stack_verdict("RESTORE_FAILED"), Failed);
        assert_eq!(stack_verdict("RESTORE_IN_PROGRESS"), Running);
    }

    fn event(id: usize, logical: &str, status: &str) -> StackEvent {
        StackEvent {
            event_id: format!("e{id}"),
            logical_resource_id: logical.into(),
            physical_resource_id: None,
            resource_type: "AWS::CloudWatch::Alarm".into(),
            resource_status: status.into(),
            resource_status_reason: None,
            detailed_status: None,
        }
    }

    /// Pages of `size` over `events` (oldest first), as DescribeStackEvents returns them:
    /// newest first, the token being the offset of the next page.
    fn paged(events: &[StackEvent], size: usize, token: Option<String>) -> Page {
        let newest_first: Vec<StackEvent> = events.iter().rev().cloned().collect();
        let start: usize = token.map_or(0, |t| t.parse().unwrap());
        let end = (start + size).min(newest_first.len());
        Page {
            stack_events: newest_first[start..end].to_vec(),
            next_token: (end < newest_first.len()).then(|| end.to_string()),
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    // Synthetic: a first deploy with 250 events between two polls, read 100 to a page as
    // CloudFormation does. Reading only the first page (as tug did) lost 150 of them.
    #[test]
    fn a_large_first_deploy_is_read_over_every_page() {
        let events: Vec<StackEvent> = (0..250)
            .map(|i| event(i, "Alarm", "CREATE_IN_PROGRESS"))
            .collect();
        let mut seen = HashSet::new();
        let mut calls = 0;
        let read = block_on(read_new(
            |token| {
                calls += 1;
                let page = paged(&events, 100, token);
                async move { Ok::<_, String>(page) }
            },
            &mut seen,
        ))
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(read, events, "every event, oldest first");
        assert_eq!(seen.len(), 250);
    }

    #[test]
    fn reading_stops_at_the_first_page_that_reaches_seen_events() {
        let events: Vec<StackEvent> = (0..300)
            .map(|i| event(i, "Alarm", "CREATE_COMPLETE"))
            .collect();
        // The events of earlier operations, seen before this deploy began.
        let mut seen: HashSet<String> = events[..200].iter().map(|e| e.event_id.clone()).collect();
        let mut calls = 0;
        let read = block_on(read_new(
            |token| {
                calls += 1;
                let page = paged(&events, 60, token);
                async move { Ok::<_, String>(page) }
            },
            &mut seen,
        ))
        .unwrap();
        assert_eq!(read, events[200..].to_vec());
        assert_eq!(calls, 2, "the old history is not read");
    }

    #[test]
    fn a_failed_page_loses_nothing() {
        let events: Vec<StackEvent> = (0..150)
            .map(|i| event(i, "Alarm", "CREATE_COMPLETE"))
            .collect();
        let mut seen = HashSet::new();
        let err = block_on(read_new(
            |token| {
                let page = if token.is_some() {
                    Err("throttled".to_string())
                } else {
                    Ok(paged(&events, 100, token))
                };
                async move { page }
            },
            &mut seen,
        ));
        assert_eq!(err, Err("throttled".into()));
        assert!(seen.is_empty(), "the next poll reads them again");
    }

    #[test]
    fn a_repeated_token_ends_the_reading() {
        let mut seen = HashSet::new();
        let mut calls = 0;
        let read = block_on(read_new(
            |_| {
                calls += 1;
                let page = Page {
                    stack_events: vec![event(calls, "A", "CREATE_COMPLETE")],
                    next_token: Some("same".into()),
                };
                async move { Ok::<_, String>(page) }
            },
            &mut seen,
        ))
        .unwrap();
        assert_eq!((calls, read.len()), (2, 2));
    }
}
