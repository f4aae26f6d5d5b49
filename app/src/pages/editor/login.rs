use crate::domain::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    // Like every editor page (whose guard says so): never kept by a cache.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    }
    let query = use_query_map();
    let (error, next, signed_out) = query.with_untracked(|q| {
        (q.get("error"), q.get("next").unwrap_or_else(|| "/editor".into()), q.get("signed_out").is_some())
    });
    // A refused sign-in is answered with this page, the attempt attached to the request.
    #[cfg(feature = "ssr")]
    let retry = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::services::SignInRetry>().cloned());
    #[cfg(not(feature = "ssr"))]
    let retry: Option<crate::services::SignInRetry> = None;
    let code = retry.as_ref().map(|r| r.error.code().to_owned()).or(error);
    let message = match code.as_deref() {
        Some("login_failed") => Some(AppError::LoginFailed.to_string()),
        Some("too_many_attempts") => Some("Too many failed sign-ins. Please wait a few minutes and try again.".into()),
        Some(_) => Some("Signing in did not work. Please try again.".into()),
        None => None,
    };
    let email = retry.map(|r| r.email).unwrap_or_default();
    view! {
        <Title text="Editor sign-in"/>
        <section class="poll-card narrow">
            <h1>"Editor sign-in"</h1>
            {signed_out.then(|| view! { <p class="notice" role="status">"You are signed out."</p> })}
            {message.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <form method="post" action="/editor/session" class="stack">
                <input type="hidden" name="next" value=next/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required value=email.clone()
                    autofocus=email.is_empty()/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    autofocus=!email.is_empty()/>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
            <p class="muted">"Accounts are created by an administrator with "<code>"polltelligence editor add"</code>"."</p>
        </section>
    }
}
