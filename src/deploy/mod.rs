//! Deploying: AWS clients, change sets, following stack events and ECS rollouts, images, and
//! the engine that puts them together. Everything that talks to AWS lives here.

pub mod adopt;
pub mod app_domain;
pub mod artifacts;
pub mod aws;
pub mod changeset;
pub mod diff;
pub mod ec2_query;
pub mod engine;
pub mod events;
pub mod health;
pub mod images;
pub mod imported_alb;
pub mod inventory;
pub mod jobrun;
pub mod lifecycle;
pub mod logs;
pub(crate) mod lookup;
pub mod ownership;
pub mod promotion;
pub mod replacement;
pub mod revisions;
pub mod rollout;
pub mod service_arn;
pub mod stack;
pub mod stack_events;
pub mod teardown;
pub mod watch;
