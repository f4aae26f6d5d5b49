//! Text into HTML: the one escaper lives with the app, whose views need it too.

pub use app::html::escape;
