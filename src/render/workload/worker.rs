//! Worker Service resources: the events queue and its dead-letter queue, one SNS subscription
//! per `subscribe.topics[]` entry (to the events queue, or to a queue of the topic's own), the
//! queue policies that let exactly those topics send, the environment variables that name the
//! queues, and the task role statements that read them.
//!
//! Topics are found by name, as Copilot does: `<app>-<env>-<service>-<topic>` in the stack's
//! account and Region, with `.fifo` when the queue that receives them is FIFO (SNS FIFO topics
//! only deliver to FIFO queues, and standard topics only to standard queues).

use serde_json::{Map as JsonMap, Value, json};

use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::duration::Duration;
use crate::manifest::model::WorkloadKind;
use crate::manifest::model::workload::{FifoQueueConfig, Queue, TopicSubscription};
use crate::manifest::source::Span;
use crate::manifest::union::BoolOr;
use crate::render::workload::Scope;
use crate::render::{RenderError, input_error, names};

/// The logical id of the worker's default queue.
pub(crate) const EVENTS_QUEUE: &str = "EventsQueue";

/// Dead-letter queues keep messages for the longest time SQS allows (14 days), so that failed
/// messages can be inspected and redriven.
const DEAD_LETTER_RETENTION: u64 = 1_209_600;

/// What the worker's containers may do with its queues.
const CONSUMER_ACTIONS: &[&str] = &[
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
];

/// One SQS queue the worker reads, with its optional dead-letter queue.
#[derive(Debug)]
struct QueueSpec {
    id: String,
    fifo: bool,
    /// Queue properties other than encryption and tags, in CloudFormation's names.
    attributes: JsonMap<String, Value>,
    dead_letter: Option<String>,
    /// The topics that deliver to this queue: (subscription id, topic ARN).
    topics: Vec<Value>,
}

/// One `subscribe.topics[]` entry.
#[derive(Debug)]
struct SubscriptionSpec {
    id: String,
    queue: String,
    topic_arn: Value,
    filter_policy: Option<Value>,
}

/// The worker's queues and subscriptions; the first queue is the events queue.
#[derive(Debug, Default)]
struct Plan {
    queues: Vec<QueueSpec>,
    subscriptions: Vec<SubscriptionSpec>,
    /// `COPILOT_TOPIC_QUEUE_URIS` entries: (key, queue id).
    topic_queue_keys: Vec<(String, String)>,
}

/// `Fn::Sub` text with `${` written literally.
fn sub_literal(text: &str) -> String {
    text.replace("${", "${!")
}

/// The ARN of a topic another service of the application publishes in this environment.
fn topic_arn(scope: &Scope, service: &str, topic: &str, fifo: bool) -> Value {
    let name = format!(
        "{}-{}-{service}-{topic}{}",
        scope.loaded.app,
        scope.env,
        if fifo { ".fifo" } else { "" }
    );
    json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:{}", sub_literal(&name)) })
}

/// Whole seconds of a duration within `[min, max]`, or a diagnostic.
fn seconds(
    d: &Located<Duration>,
    key: &str,
    min: u64,
    max: u64,
    diags: &mut Vec<Diagnostic>,
) -> Option<u64> {
    match d.value.whole_secs() {
        Some(s) if (min..=max).contains(&s) => Some(s),
        _ => {
            diags.push(input_error(
                d.span,
                format!(
                    "queue `{key}` {} must be whole seconds between {} and {}",
                    d.value,
                    Duration::from_secs(min),
                    Duration::from_secs(max)
                ),
                "SQS counts these in whole seconds",
            ));
            None
        }
    }
}

/// FIFO attributes of a queue.
fn fifo_attributes(
    cfg: Option<&FifoQueueConfig>,
    span: Span,
    attrs: &mut JsonMap<String, Value>,
    diags: &mut Vec<Diagnostic>,
) {
    attrs.insert("FifoQueue".into(), json!(true));
    let Some(c) = cfg else {
        return;
    };
    if let Some(cbd) = &c.content_based_deduplication {
        attrs.insert("ContentBasedDeduplication".into(), json!(cbd.value));
    }
    let mut scope = c.deduplication_scope.as_ref().map(|s| s.value.clone());
    let mut limit = c.throughput_limit.as_ref().map(|l| l.value.clone());
    if let Some(s) = &c.deduplication_scope
        && s.value != "messageGroup"
        && s.value != "queue"
    {
        diags.push(input_error(
            s.span,
            format!("`deduplication_scope: {}` is not one SQS accepts", s.value),
            "use messageGroup or queue",
        ));
    }
    if let Some(l) = &c.throughput_limit
        && l.value != "perMessageGroupId"
        && l.value != "perQueue"
    {
        diags.push(input_error(
            l.span,
            format!("`throughput_limit: {}` is not one SQS accepts", l.value),
            "use perMessageGroupId or perQueue",
        ));
    }
    if c.high_throughput.as_ref().is_some_and(|h| h.value) {
        // High-throughput FIFO: deduplication and throughput per message group.
        if scope.as_deref().is_some_and(|s| s != "messageGroup")
            || limit.as_deref().is_some_and(|l| l != "perMessageGroupId")
        {
            diags.push(input_error(
                span,
                "`high_throughput` means `deduplication_scope: messageGroup` and `throughput_limit: perMessageGroupId`",
                "remove the conflicting setting, or `high_throughput`",
            ));
        }
        scope = Some("messageGroup".into());
        limit = Some("perMessageGroupId".into());
    }
    if limit.as_deref() == Some("perMessageGroupId") && scope.as_deref() == Some("queue") {
        diags.push(input_error(
            span,
            "`throughput_limit: perMessageGroupId` needs `deduplication_scope: messageGroup`",
            "SQS only limits throughput per message group when it deduplicates per message group",
        ));
    }
    if let Some(s) = scope {
        attrs.insert("DeduplicationScope".into(), json!(s));
    }
    if let Some(l) = limit {
        attrs.insert("FifoThroughputLimit".into(), json!(l));
    }
}

/// The settings of one queue; `dead_letter_id` names its dead-letter queue when it has one.
fn queue_spec(
    id: &str,
    dead_letter_id: &str,
    queue: Option<&Located<Queue>>,
    diags: &mut Vec<Diagnostic>,
) -> QueueSpec {
    let mut attrs = JsonMap::new();
    let mut fifo = false;
    let mut dead_letter = None;
    if let Some(q) = queue {
        // SQS limits: retention 60s-14d, delivery delay 0-15m, visibility timeout 0-12h.
        if let Some(r) = &q.retention
            && let Some(s) = seconds(r, "retention", 60, 1_209_600, diags)
        {
            attrs.insert("MessageRetentionPeriod".into(), json!(s));
        }
        if let Some(d) = &q.delay
            && let Some(s) = seconds(d, "delay", 0, 900, diags)
        {
            attrs.insert("DelaySeconds".into(), json!(s));
        }
        if let Some(t) = &q.timeout
            && let Some(s) = seconds(t, "timeout", 0, 43_200, diags)
        {
            attrs.insert("VisibilityTimeout".into(), json!(s));
        }
        if let Some(f) = &q.fifo
            && f.value.enabled()
        {
            fifo = true;
            fifo_attributes(f.value.config(), f.span, &mut attrs, diags);
        }
        if let Some(tries) = q.dead_letter.as_ref().and_then(|d| d.tries.as_ref()) {
            if (1..=1000).contains(&tries.value) {
                attrs.insert(
                    "RedrivePolicy".into(),
                    json!({
                        "deadLetterTargetArn": { "Fn::GetAtt": [dead_letter_id, "Arn"] },
                        "maxReceiveCount": tries.value,
                    }),
                );
                dead_letter = Some(dead_letter_id.to_string());
            } else {
                diags.push(input_error(
                    tries.span,
                    format!(
                        "`dead_letter.tries: {}` is outside SQS's 1-1000",
                        tries.value
                    ),
                    "the number of receives before a message moves to the dead-letter queue",
                ));
            }
        }
    }
    QueueSpec {
        id: id.to_string(),
        fifo,
        attributes: attrs,
        dead_letter,
        topics: Vec::new(),
    }
}

/// Lower-cases the first letter: `Merchant` → `merchant`.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Whether the publisher of `service`/`topic` in this workspace declares it FIFO, when known.
fn published_fifo(scope: &Scope, service: &str, topic: &str, fifo: bool) -> Option<bool> {
    let publisher = scope
        .loaded
        .workloads
        .iter()
        .find(|w| w.name == service && w.environment.as_deref() == Some(scope.env))?;
    let topics = publisher
        .manifest
        .publish
        .as_ref()
        .and_then(|p| p.topics.as_ref())?;
    let kinds: Vec<bool> = topics
        .iter()
        .filter(|t| t.name.as_ref().is_some_and(|n| n.value == topic))
        .map(|t| t.fifo.as_ref().is_some_and(|f| f.value.enabled()))
        .collect();
    // A standard and a FIFO topic may share a name: the queue's kind picks one of them.
    match kinds.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => Some(fifo),
    }
}

fn subscription(
    scope: &Scope,
    sub: &Located<TopicSubscription>,
    plan: &mut Plan,
    diags: &mut Vec<Diagnostic>,
) {
    // Validation requires both; a subscription without them has nothing to subscribe to.
    let (Some(name), Some(service)) = (&sub.name, &sub.service) else {
        return;
    };
    let base = format!(
        "{}{}",
        names::logical_id(&service.value),
        names::logical_id(&name.value)
    );
    let id = format!("{base}Subscription");
    if plan.subscriptions.iter().any(|s| s.id == id) {
        diags.push(input_error(
            sub.span,
            format!(
                "a second subscription to topic `{}` of `{}` (or to one whose name differs only in punctuation)",
                name.value, service.value
            ),
            "subscribe to each topic once",
        ));
        return;
    }
    let own = sub.queue.as_ref().filter(|q| q.value.enabled());
    let queue_index = match own {
        Some(q) => {
            let queue_id = format!("{base}EventsQueue");
            let own_settings = match &q.value {
                BoolOr::Config(c) => Some(Located::new(c.clone(), q.span)),
                BoolOr::Bool(_) => None,
            };
            let spec = queue_spec(
                &queue_id,
                &format!("{base}DeadLetterQueue"),
                own_settings.as_ref(),
                diags,
            );
            // Copilot's key: `<service><Topic>[fifo]EventsQueue`.
            let key = format!(
                "{}{}{}EventsQueue",
                lower_first(&names::logical_id(&service.value)),
                names::logical_id(&name.value),
                if spec.fifo { "fifo" } else { "" }
            );
            plan.topic_queue_keys.push((key, queue_id));
            plan.queues.push(spec);
            plan.queues.len() - 1
        }
        None => 0,
    };
    let fifo = plan.queues[queue_index].fifo;
    if let Some(published) = published_fifo(scope, &service.value, &name.value, fifo)
        && published != fifo
    {
        let (topic_kind, queue_kind, fix) = if published {
            (
                "a FIFO topic",
                "a standard queue",
                "make the receiving queue FIFO (`fifo: true`)",
            )
        } else {
            (
                "a standard topic",
                "a FIFO queue",
                "make the receiving queue standard, or the topic FIFO",
            )
        };
        diags.push(input_error(
            name.span,
            format!(
                "topic `{}` of `{}` is {topic_kind}, but it would deliver to {queue_kind}",
                name.value, service.value
            ),
            format!("SNS FIFO topics deliver only to FIFO queues and standard topics only to standard queues: {fix}"),
        ));
    }
    let arn = topic_arn(scope, &service.value, &name.value, fifo);
    plan.queues[queue_index].topics.push(arn.clone());
    let queue = plan.queues[queue_index].id.clone();
    plan.subscriptions.push(SubscriptionSpec {
        id,
        queue,
        topic_arn: arn,
        filter_policy: sub.filter_policy.as_ref().map(|f| f.value.clone()),
    });
}

/// The queues and subscriptions of a Worker Service, or the diagnostics that stop them.
fn plan(scope: &Scope) -> Result<Plan, Vec<Diagnostic>> {
    let subscribe = scope.wl.manifest.subscribe.as_ref();
    let mut diags = Vec::new();
    let mut plan = Plan::default();
    plan.queues.push(queue_spec(
        EVENTS_QUEUE,
        "DeadLetterQueue",
        subscribe.and_then(|s| s.queue.as_ref()),
        &mut diags,
    ));
    for sub in subscribe
        .and_then(|s| s.topics.as_ref())
        .iter()
        .flat_map(|t| t.iter())
    {
        subscription(scope, sub, &mut plan, &mut diags);
    }
    if diags.is_empty() {
        Ok(plan)
    } else {
        Err(diags)
    }
}

/// The logical ids of the queues a Worker Service reads (the events queue first), for scaling
/// on their backlog. Empty for other workload types.
pub(crate) fn queue_ids(scope: &Scope) -> Vec<String> {
    if scope.wl.kind != WorkloadKind::WorkerService {
        return Vec::new();
    }
    plan(scope)
        .map(|p| p.queues.into_iter().map(|q| q.id).collect())
        .unwrap_or_default()
}

/// CloudWatch metric queries that add up the messages waiting in `queue_ids`: one query per
/// queue (`q0`, `q1`...) and, for several queues, an expression. Returns the queries and the id
/// of the one that holds the total. `period` is set for alarms (Application Auto Scaling's
/// queries have none).
pub(crate) fn backlog_queries(queue_ids: &[String], period: Option<u64>) -> (Vec<Value>, String) {
    let mut queries = Vec::new();
    for (i, id) in queue_ids.iter().enumerate() {
        let mut stat = json!({
            "Metric": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{ "Name": "QueueName", "Value": { "Fn::GetAtt": [id, "QueueName"] } }],
            },
            "Stat": "Sum",
        });
        if let Some(p) = period {
            stat["Period"] = json!(p);
        }
        queries.push(json!({ "Id": format!("q{i}"), "MetricStat": stat, "ReturnData": false }));
    }
    if queries.len() == 1 {
        return (queries, "q0".into());
    }
    // A quiet queue can have no data point in a period: count it as empty.
    let sum: Vec<String> = (0..queries.len())
        .map(|i| format!("FILL(q{i}, 0)"))
        .collect();
    queries.push(json!({
        "Id": "backlog",
        "Expression": sum.join(" + "),
        "Label": "Messages waiting in the worker's queues",
        "ReturnData": false,
    }));
    (queries, "backlog".into())
}

/// The rollback alarm's metric for `deployment.rollback_alarms.messages_delayed`: messages
/// waiting (visible, not yet received) in all of the worker's queues, the maximum over a
/// minute. A deployment whose tasks stop consuming makes this climb.
fn backlog_alarm_metrics(queue_ids: &[String]) -> Value {
    let (mut queries, result) = backlog_queries(queue_ids, Some(60));
    for q in &mut queries {
        if q["Id"] == json!(result) {
            q["ReturnData"] = json!(true);
        }
        if let Some(stat) = q.get_mut("MetricStat") {
            stat["Stat"] = json!("Maximum");
        }
    }
    Value::Array(queries)
}

/// The view model of a Worker Service's queues, or null for other types.
pub(crate) fn context(scope: &Scope) -> Result<Value, RenderError> {
    if scope.wl.kind != WorkloadKind::WorkerService {
        return Ok(Value::Null);
    }
    let plan = plan(scope).map_err(RenderError::Input)?;
    let queue_ids: Vec<String> = plan.queues.iter().map(|q| q.id.clone()).collect();

    let mut queues = Vec::new();
    for q in &plan.queues {
        let dead_letter = q.dead_letter.as_ref().map(|id| {
            let mut attrs = JsonMap::new();
            attrs.insert(
                "MessageRetentionPeriod".into(),
                json!(DEAD_LETTER_RETENTION),
            );
            if q.fifo {
                attrs.insert("FifoQueue".into(), json!(true));
            }
            json!({ "id": id, "attributes": attrs })
        });
        let policy = (!q.topics.is_empty()).then(|| {
            json!({
                "id": format!("{}Policy", q.id),
                "statement": {
                    "Sid": "AllowSubscribedTopics",
                    "Effect": "Allow",
                    "Principal": { "Service": "sns.amazonaws.com" },
                    "Action": "sqs:SendMessage",
                    "Resource": { "Fn::GetAtt": [q.id, "Arn"] },
                    "Condition": { "ArnEquals": { "aws:SourceArn": q.topics } },
                },
            })
        });
        queues.push(json!({
            "id": q.id,
            "attributes": q.attributes,
            "dead_letter": dead_letter,
            "policy": policy,
        }));
    }

    let subscriptions: Vec<Value> = plan
        .subscriptions
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "queue": s.queue,
                "policy": format!("{}Policy", s.queue),
                "topic_arn": s.topic_arn,
                "filter_policy": s.filter_policy,
            })
        })
        .collect();

    let mut environment = JsonMap::new();
    environment.insert("COPILOT_QUEUE_URI".into(), json!({ "Ref": EVENTS_QUEUE }));
    if !plan.topic_queue_keys.is_empty() {
        // {"<key>":"<url>",...}: keys are letters and digits, URLs have no quotes.
        let mut parts: Vec<Value> = vec![json!("{")];
        for (i, (key, id)) in plan.topic_queue_keys.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            parts.push(json!(format!("{sep}\"{key}\":\"")));
            parts.push(json!({ "Ref": id }));
            parts.push(json!("\""));
        }
        parts.push(json!("}"));
        environment.insert(
            "COPILOT_TOPIC_QUEUE_URIS".into(),
            json!({ "Fn::Join": ["", parts] }),
        );
    }

    let task_statements = json!([{
        "Effect": "Allow",
        "Action": CONSUMER_ACTIONS,
        "Resource": queue_ids.iter().map(|id| json!({ "Fn::GetAtt": [id, "Arn"] })).collect::<Vec<_>>(),
    }]);

    let mut outputs = vec![
        json!({ "id": "EventsQueueUrl", "description": "The URL of the worker's events queue (COPILOT_QUEUE_URI)", "value": { "Ref": EVENTS_QUEUE } }),
        json!({ "id": "EventsQueueArn", "description": "The ARN of the worker's events queue", "value": { "Fn::GetAtt": [EVENTS_QUEUE, "Arn"] } }),
    ];
    if let Some(dlq) = &plan.queues[0].dead_letter {
        outputs.push(json!({ "id": "DeadLetterQueueArn", "description": "The ARN of the events queue's dead-letter queue", "value": { "Fn::GetAtt": [dlq, "Arn"] } }));
    }

    Ok(json!({
        "queues": queues,
        "subscriptions": subscriptions,
        "environment": environment,
        "task_statements": task_statements,
        "backlog_alarm_metrics": backlog_alarm_metrics(&queue_ids),
        "outputs": outputs,
    }))
}

#[cfg(test)]
mod tests {

    use super::*;

    const ENV: &str = "name: test\ntype: Environment\n";
    const API: &str = "name: api\ntype: Backend Service\nimage:\n  location: nginx\npublish:\n  topics:\n    - name: orders\n    - name: payments\n      fifo: true\n";
    const HEAD: &str = "name: worker\ntype: Worker Service\nimage:\n  location: python\n";

    /// Loads a workspace (environment `test`, service `api`, worker `worker`), checks it has no
    /// validation errors, and runs `f` on the worker's scope.
    fn with_worker<T>(worker: &str, f: impl FnOnce(&Scope) -> T) -> T {
        let fixture = crate::render::workload::fixture::Fixture::new(
            ENV,
            &[("api", API), ("worker", worker)],
        );
        f(&fixture.scope("worker"))
    }

    fn worker_context(worker: &str) -> Result<Value, RenderError> {
        with_worker(worker, context)
    }

    fn messages(e: RenderError) -> Vec<String> {
        match e {
            RenderError::Input(d) => d.into_iter().map(|d| d.message).collect(),
            RenderError::Internal(m) => panic!("internal error: {m}"),
        }
    }

    fn topic(name: &str) -> Value {
        json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:shop-test-api-{name}") })
    }

    #[test]
    fn other_types_have_no_worker() {
        with_worker(HEAD, |scope| {
            let api = scope
                .loaded
                .workloads
                .iter()
                .find(|w| w.name == "api")
                .unwrap();
            let scope = Scope {
                wl: api,
                addons: None,
                ..*scope
            };
            assert!(context(&scope).unwrap().is_null());
            assert!(queue_ids(&scope).is_empty());
        });
    }

    #[test]
    fn events_queue_alone() {
        let v = worker_context(HEAD).unwrap();
        assert_eq!(
            v["queues"],
            json!([{ "id": "EventsQueue", "attributes": {}, "dead_letter": null, "policy": null }])
        );
        assert_eq!(v["subscriptions"], json!([]));
        assert_eq!(
            v["environment"],
            json!({ "COPILOT_QUEUE_URI": { "Ref": "EventsQueue" } })
        );
        assert_eq!(
            v["task_statements"],
            json!([{
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                "Resource": [{ "Fn::GetAtt": ["EventsQueue", "Arn"] }],
            }])
        );
        let ids: Vec<&str> = v["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["EventsQueueUrl", "EventsQueueArn"]);
        assert_eq!(
            v["backlog_alarm_metrics"][0]["MetricStat"]["Metric"]["Dimensions"][0]["Value"],
            json!({ "Fn::GetAtt": ["EventsQueue", "QueueName"] })
        );
        assert_eq!(v["backlog_alarm_metrics"][0]["ReturnData"], json!(true));
    }

    #[test]
    fn topic_to_the_events_queue_with_a_dead_letter_queue() {
        let w = format!(
            "{HEAD}subscribe:\n  topics:\n    - name: orders\n      service: api\n      filter_policy:\n        store: [\"corp\"]\n  queue:\n    retention: 96h\n    delay: 30s\n    timeout: 5m\n    dead_letter:\n      tries: 3\n"
        );
        let v = worker_context(&w).unwrap();
        let q = &v["queues"][0];
        assert_eq!(
            q["attributes"],
            json!({
                "MessageRetentionPeriod": 345600,
                "DelaySeconds": 30,
                "VisibilityTimeout": 300,
                "RedrivePolicy": { "deadLetterTargetArn": { "Fn::GetAtt": ["DeadLetterQueue", "Arn"] }, "maxReceiveCount": 3 },
            })
        );
        assert_eq!(
            q["dead_letter"],
            json!({ "id": "DeadLetterQueue", "attributes": { "MessageRetentionPeriod": 1209600 } })
        );
        assert_eq!(q["policy"]["id"], "EventsQueuePolicy");
        assert_eq!(
            q["policy"]["statement"]["Condition"],
            json!({ "ArnEquals": { "aws:SourceArn": [topic("orders")] } })
        );
        assert_eq!(
            v["subscriptions"],
            json!([{
                "id": "ApiOrdersSubscription",
                "queue": "EventsQueue",
                "policy": "EventsQueuePolicy",
                "topic_arn": topic("orders"),
                "filter_policy": { "store": ["corp"] },
            }])
        );
        assert!(v["environment"].get("COPILOT_TOPIC_QUEUE_URIS").is_none());
        assert_eq!(v["outputs"][2]["id"], "DeadLetterQueueArn");
    }

    #[test]
    fn fifo_events_queue_and_a_topic_queue() {
        let w = format!(
            "{HEAD}subscribe:\n  topics:\n    - name: payments\n      service: api\n    - name: orders\n      service: api\n      queue: true\n  queue:\n    fifo:\n      high_throughput: true\n    dead_letter:\n      tries: 2\n"
        );
        let v = worker_context(&w).unwrap();
        let events = &v["queues"][0];
        assert_eq!(events["attributes"]["FifoQueue"], json!(true));
        assert_eq!(events["attributes"]["DeduplicationScope"], "messageGroup");
        assert_eq!(
            events["attributes"]["FifoThroughputLimit"],
            "perMessageGroupId"
        );
        assert_eq!(
            events["dead_letter"]["attributes"]["FifoQueue"],
            json!(true)
        );
        assert_eq!(
            events["policy"]["statement"]["Condition"]["ArnEquals"]["aws:SourceArn"],
            json!([topic("payments.fifo")])
        );
        let own = &v["queues"][1];
        assert_eq!(own["id"], "ApiOrdersEventsQueue");
        assert_eq!(own["attributes"], json!({}));
        assert!(own["dead_letter"].is_null());
        assert_eq!(own["policy"]["id"], "ApiOrdersEventsQueuePolicy");
        assert_eq!(v["subscriptions"][1]["queue"], "ApiOrdersEventsQueue");
        assert_eq!(v["subscriptions"][1]["topic_arn"], topic("orders"));
        assert_eq!(
            v["environment"]["COPILOT_TOPIC_QUEUE_URIS"],
            json!({ "Fn::Join": ["", ["{", "\"apiOrdersEventsQueue\":\"", { "Ref": "ApiOrdersEventsQueue" }, "\"", "}"]] })
        );
        assert_eq!(
            v["task_statements"][0]["Resource"],
            json!([{ "Fn::GetAtt": ["EventsQueue", "Arn"] }, { "Fn::GetAtt": ["ApiOrdersEventsQueue", "Arn"] }])
        );
        let (queries, total) = with_worker(&w, |s| backlog_queries(&queue_ids(s), None));
        assert_eq!(total, "backlog");
        assert_eq!(queries.len(), 3);
        assert_eq!(queries[2]["Expression"], "FILL(q0, 0) + FILL(q1, 0)");
        assert!(queries[0]["MetricStat"].get("Period").is_none());
    }

    #[test]
    fn fifo_topic_queue_key_says_fifo() {
        let w = format!(
            "{HEAD}subscribe:\n  topics:\n    - name: payments\n      service: api\n      queue:\n        fifo: true\n"
        );
        let v = worker_context(&w).unwrap();
        assert_eq!(
            v["environment"]["COPILOT_TOPIC_QUEUE_URIS"]["Fn::Join"][1][1],
            "\"apiPaymentsfifoEventsQueue\":\""
        );
        assert_eq!(v["subscriptions"][0]["topic_arn"], topic("payments.fifo"));
        // The events queue has no topic, so no policy.
        assert!(v["queues"][0]["policy"].is_null());
    }

    #[test]
    fn fifo_mismatch_is_refused() {
        let w = format!(
            "{HEAD}subscribe:\n  topics:\n    - name: payments\n      service: api\n    - name: orders\n      service: api\n      queue:\n        fifo: true\n"
        );
        let m = messages(worker_context(&w).unwrap_err());
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m[0].contains("`payments` of `api` is a FIFO topic"),
            "{m:?}"
        );
        assert!(
            m[1].contains("`orders` of `api` is a standard topic"),
            "{m:?}"
        );
    }

    #[test]
    fn queue_limits_are_checked() {
        let w = format!(
            "{HEAD}subscribe:\n  queue:\n    retention: 30s\n    delay: 16m\n    timeout: 1500ms\n    dead_letter:\n      tries: 0\n    fifo:\n      high_throughput: true\n      deduplication_scope: queue\n"
        );
        let m = messages(worker_context(&w).unwrap_err());
        assert_eq!(m.len(), 5, "{m:?}");
        assert!(m[0].starts_with("queue `retention` 30s"), "{m:?}");
        assert!(m[1].starts_with("queue `delay`"), "{m:?}");
        assert!(m[2].starts_with("queue `timeout`"), "{m:?}");
        assert!(m[3].contains("high_throughput"), "{m:?}");
        assert!(m[4].contains("dead_letter.tries: 0"), "{m:?}");
    }

    #[test]
    fn duplicate_subscriptions_are_refused() {
        let w = format!(
            "{HEAD}subscribe:\n  topics:\n    - name: orders\n      service: api\n    - name: orders\n      service: api\n"
        );
        let m = messages(worker_context(&w).unwrap_err());
        assert!(m[0].starts_with("a second subscription"), "{m:?}");
    }

    #[test]
    fn names_with_sub_syntax_stay_literal() {
        assert_eq!(sub_literal("a-${b}"), "a-${!b}");
        assert_eq!(lower_first("OrderApi"), "orderApi");
        assert_eq!(lower_first(""), "");
    }
}
