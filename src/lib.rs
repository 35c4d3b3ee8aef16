//! redis-gitops: an offline compiler from Redis specs to Kubernetes manifests.
//!
//! The pipeline, one module per stage: [`input`] (the specs folder -> bytes)
//! -> [`spec::load`] (bytes -> merged documents) -> [`spec::validate`]
//! (documents -> checked [`spec::validate::Redis`]) -> [`render`] (Redis ->
//! objects and files, pure) -> [`output`] (files <-> the output folder).
//! [`commands`] wires the stages to the CLI, with [`cache`] at the edge;
//! nothing between input and output touches the disk, a clock or
//! randomness. ARCHITECTURE.md has the map.

pub mod cache;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod diff;
pub mod digest;
pub mod input;
pub mod names;
pub mod output;
pub mod plan;
pub mod render;
pub mod source;
pub mod spec;
pub mod topology;
