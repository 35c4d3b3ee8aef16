//! Integration tests: one binary, one module per area. Every test runs the
//! real CLI or the real external tools; a missing tool fails the test.

mod backup_life;
mod cache;
mod cli;
mod cluster;
mod cluster_life;
mod common;
mod directives;
mod errors;
mod fit;
mod fuzz;
mod gitops;
mod lifecycle;
mod plan;
mod podsim;
mod precommit;
mod scale;
mod sentinel_life;
mod servers;
mod tools;
mod topology;
