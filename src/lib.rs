//! comment-service: the comment threads under a news site's articles.
//!
//! Discussions close automatically once an article is older than a configured number of calendar
//! months; readers can flag posts, and the community team is emailed about flagged posts.

pub mod api;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod console;
pub mod cron;
pub mod db;
pub mod domain;
pub mod entity;
pub mod error;
pub mod events;
pub mod jobs;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod moderation;
pub mod notifications;
pub mod redact;
pub mod service;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod views;
