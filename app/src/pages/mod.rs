//! One component per route: readers' pages, the simulator, and the editor workspace under `/editor`.

/// A route whose page lives in its own WASM chunk (`cargo leptos build --split`), fetched
/// the first time it is visited, so readers never download the editor or the simulator.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> leptos::prelude::AnyView {
                use leptos::prelude::IntoAny;
                let $route = this;
                leptos::prelude::view! { <$page/> }.into_any()
            }
        }
    };
}

pub mod editor;
mod reader;
mod simulator;

pub use reader::{ArchivePage, HomePage, NotFound, PollPage};
pub use simulator::SimulatorRoute;
