//! `owui-deploy`: provisions Open WebUI on Azure behind an API Management AI gateway,
//! through Azure Resource Manager and Microsoft Graph.
//!
//! Layers, each talking only to its neighbours:
//! [`cli`] -> [`config`] -> [`stages`] -> [`engine`] -> [`azure`];
//! [`sandbox`] (the emulator) stands beside them and is used through HTTP only;
//! [`files`] (bounded reads, confined paths, safe writes) serves them all.
#![warn(missing_docs)]
// ARM errors carry code, message, target, details and request IDs on purpose.
#![allow(clippy::result_large_err)]

pub mod azure;
pub mod cli;
pub mod config;
pub mod engine;
pub mod files;
pub mod sandbox;
pub mod stages;
