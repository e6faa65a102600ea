//! The deployment engine: dependency graph, plan/diff, parallel apply, progress events.

pub mod resource;

pub use resource::*;
