//! Pure rules of the service: no IO, time passed in as a parameter.

pub mod action_link;
pub mod comment;
pub mod ids;
pub mod lifecycle;
pub mod notice;
pub mod statement;
pub mod states;
