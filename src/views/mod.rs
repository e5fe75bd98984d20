//! What the API shows: the JSON bodies, and the Article view with its discussion state and Notice.
//! Used by the handlers and by the services that answer with a view (a closed discussion's Notice).

pub mod articles;
pub mod dto;
