//! redis-gitops: an offline compiler from Redis specs to Kubernetes manifests.
//!
//! The pipeline, one module per stage:
//! [`spec::load`] (files -> merged documents) -> [`spec::validate`] (documents
//! -> checked [`spec::validate::Redis`]) -> [`render`] (Redis -> objects and
//! files, pure) -> [`output`] (files <-> the output folder). [`commands`] wires
//! the stages to the CLI; nothing between load and output touches the disk,
//! a clock or randomness.

pub mod cache;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod diff;
pub mod digest;
pub mod input;
pub mod output;
pub mod plan;
pub mod render;
pub mod source;
pub mod spec;
pub mod topology;
