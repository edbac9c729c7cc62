//! Reading and judging CloudFormation stack events of real deploys.
//!
//! Source of truth: recorded-shape fixtures (tests/recorded/stack-events/*.json), written by
//! hand in the shape of real DescribeStackEvents answers, because moto reports neither
//! `CONFIGURATION_COMPLETE` nor the "Eventual consistency check initiated" event that
//! CloudFormation has sent for ECS services since 2026, and never pages its answers. The
//! pages are cut here the way CloudFormation cuts them (newest first, NextToken to the next
//! page), and the stack is polled as it grows, one event at a time.

use std::collections::HashSet;

use tug::deploy::events::Event;
use tug::deploy::stack_events::{
    Digest, Page, ResourcePhase, StackEvent, StackVerdict, read_new, resource_phase,
};

const STACK: &str = "shop-test-web";

struct Fixture {
    /// Oldest first.
    events: Vec<StackEvent>,
    /// Index of the first event of the deploy under test.
    new_from: usize,
}

fn fixture(name: &str) -> Fixture {
    let path = format!(
        "{}/tests/recorded/stack-events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let page: Page = serde_json::from_value(doc.clone()).unwrap();
    let mut events = page.stack_events;
    events.reverse();
    let ids: HashSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "{name}: event ids are unique");
    Fixture {
        events,
        new_from: doc["_new_from"].as_u64().unwrap() as usize,
    }
}

/// The answer to DescribeStackEvents when the stack has `events` (oldest first).
fn page_of(events: &[StackEvent], size: usize, token: Option<String>) -> Page {
    let newest_first: Vec<StackEvent> = events.iter().rev().cloned().collect();
    let start = token.map_or(0, |t| t.parse::<usize>().unwrap());
    let end = (start + size).min(newest_first.len());
    Page {
        stack_events: newest_first[start..end].to_vec(),
        next_token: (end < newest_first.len()).then(|| end.to_string()),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// What the watcher saw, poll by poll, while the deploy of `fx` went on: the stack grows by
/// `step` events between polls and is read `page` events to a page.
struct Watched {
    reported: Vec<Event>,
    digest: Digest,
    /// The verdict after each poll.
    verdicts: Vec<StackVerdict>,
}

fn watch(fx: &Fixture, step: usize, page: usize) -> Watched {
    let mut seen: HashSet<String> = fx.events[..fx.new_from]
        .iter()
        .rev()
        .take(page)
        .map(|e| e.event_id.clone())
        .collect();
    let mut digest = Digest::default();
    let mut reported = Vec::new();
    let mut verdicts = Vec::new();
    let mut upto = fx.new_from;
    while upto < fx.events.len() {
        upto = (upto + step).min(fx.events.len());
        let visible = &fx.events[..upto];
        let fresh = block_on(read_new(
            |token| {
                let p = page_of(visible, page, token);
                async move { Ok::<_, String>(p) }
            },
            &mut seen,
        ))
        .unwrap();
        for e in fresh {
            reported.push(digest.apply(STACK, e));
        }
        verdicts.push(digest.verdict());
    }
    Watched {
        reported,
        digest,
        verdicts,
    }
}

fn statuses(reported: &[Event], logical: &str) -> Vec<(String, Option<String>, Option<String>)> {
    reported
        .iter()
        .filter_map(|e| match e {
            Event::Resource {
                logical_id,
                status,
                reason,
                detailed_status,
                ..
            } if logical_id == logical => {
                Some((status.clone(), reason.clone(), detailed_status.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Every event of the deploy is reported once, in order, whatever the poll and page sizes;
/// the stack is judged still running until its last event and `expected` after it.
fn check_sequence(name: &str, expected: StackVerdict) -> Watched {
    let fx = fixture(name);
    let deploy: Vec<String> = fx.events[fx.new_from..]
        .iter()
        .map(|e| e.event_id.clone())
        .collect();
    for e in &fx.events {
        assert_ne!(
            resource_phase(&e.resource_status),
            ResourcePhase::Unknown,
            "{name}: {} is a documented status",
            e.resource_status
        );
    }
    let mut last = None;
    for (step, page) in [(1, 100), (1, 2), (3, 2), (7, 3), (deploy.len(), 4)] {
        let w = watch(&fx, step, page);
        let ids: Vec<String> = w
            .reported
            .iter()
            .map(|e| match e {
                Event::Resource {
                    logical_id, status, ..
                } => format!("{logical_id}/{status}"),
                other => panic!("{other:?}"),
            })
            .collect();
        let want: Vec<String> = fx.events[fx.new_from..]
            .iter()
            .map(|e| format!("{}/{}", e.logical_resource_id, e.resource_status))
            .collect();
        assert_eq!(ids, want, "{name}: step {step}, page {page}");
        let (ending, before) = w.verdicts.split_last().unwrap();
        assert_eq!(*ending, expected, "{name}: step {step}, page {page}");
        assert!(
            before.iter().all(|v| *v == StackVerdict::Running),
            "{name}: step {step}, page {page}: {before:?}"
        );
        last = Some(w);
    }
    last.unwrap()
}

#[test]
fn first_deploy_with_configuration_complete_and_consistency_check() {
    let w = check_sequence("create", StackVerdict::Succeeded);
    assert_eq!(
        w.digest.rolled_out.as_deref(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-test-web:1")
    );
    assert!(w.digest.failures.is_empty());
    let service = statuses(&w.reported, "Service");
    // CONFIGURATION_COMPLETE is carried as a detailed status of an event still in progress,
    // and the consistency check comes before the completion: neither ends the resource.
    let ends: Vec<bool> = service
        .iter()
        .map(|(s, _, _)| resource_phase(s).is_final())
        .collect();
    assert_eq!(ends, [false, false, false, false, true]);
    assert_eq!(
        service[2].2.as_deref(),
        Some("CONFIGURATION_COMPLETE"),
        "{service:?}"
    );
    assert_eq!(
        service[3].1.as_deref(),
        Some("Eventual consistency check initiated")
    );
}

#[test]
fn update_with_the_eventual_consistency_check() {
    let w = check_sequence("update", StackVerdict::Succeeded);
    assert_eq!(
        w.digest.rolled_out.as_deref(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-test-web:2"),
        "the new revision, not the one deleted in cleanup"
    );
    assert!(w.digest.failures.is_empty());
    let service: Vec<String> = statuses(&w.reported, "Service")
        .into_iter()
        .map(|(s, r, _)| format!("{s} {}", r.unwrap_or_default()))
        .collect();
    assert_eq!(
        service,
        [
            "UPDATE_IN_PROGRESS ",
            "UPDATE_IN_PROGRESS Eventual consistency check initiated",
            "UPDATE_COMPLETE "
        ]
    );
}

#[test]
fn update_rolled_back_by_the_circuit_breaker() {
    let w = check_sequence("rollback", StackVerdict::RolledBack);
    assert_eq!(
        w.digest.rolled_out.as_deref(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-test-web:3"),
        "the revision this deploy tried, not the one the rollback restored"
    );
    assert_eq!(w.digest.failures.len(), 1, "{:?}", w.digest.failures);
    assert!(
        w.digest.failures[0].starts_with("Service (AWS::ECS::Service): ")
            && w.digest.failures[0].contains("Circuit Breaker"),
        "{:?}",
        w.digest.failures
    );
}

#[test]
fn first_deploy_rolled_back() {
    let w = check_sequence("create-rollback", StackVerdict::RolledBack);
    assert_eq!(w.digest.rolled_out, None);
    // The cancelled role is a consequence of the log group's failure, not a cause.
    assert_eq!(w.digest.failures.len(), 1, "{:?}", w.digest.failures);
    assert!(w.digest.failures[0].starts_with("LogGroup (AWS::Logs::LogGroup): "));
    assert!(w.digest.failures[0].contains("already exists"));
}
