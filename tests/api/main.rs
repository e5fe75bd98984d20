//! Black-box tests: the real server on a random port, its own database (SQLite, and PostgreSQL
//! when `TEST_DATABASE_URL` is set), and a real SMTP server on a loopback port.

mod browser;
mod helpers;
mod smtp_server;

mod articles;
mod authors;
mod badges;
mod comments;
mod console;
mod console_api;
mod console_browser;
mod console_pages;
mod erasure_isolation;
mod faults;
mod featured;
mod final_decisions;
mod hostile;
mod integrity;
mod jobs;
mod legal;
mod live;
mod moderation;
mod openapi;
mod operations;
mod outage;
mod privacy;
mod reactions;
mod reads;
mod report;
mod rules;
mod webhooks;
