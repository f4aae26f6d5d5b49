//! The audit log, and the editor's API tokens.

use super::{editor_page, loading, Csrf};
use crate::api::editor::{load_audit, load_tokens};
use crate::components::LocalTime;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn AuditPage() -> impl IntoView {
    let audit = Resource::new(|| (), |_| load_audit());
    view! {
        <Title text="Audit log · Editor"/>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                editor_page(audit.await, |_, entries| view! {
                    <h1>"Audit log"</h1>
                    <p class="lede">"Who changed what, and when; newest first."</p>
                    <div class="table-wrap">
                        <table class="data">
                            <thead><tr><th scope="col">"When"</th><th scope="col">"Editor"</th><th scope="col">"Action"</th><th scope="col">"Poll"</th><th scope="col">"Detail"</th></tr></thead>
                            <tbody>{entries.into_iter().map(|e| view! {
                                <tr>
                                    <td><LocalTime at=e.at/></td>
                                    <td>{e.editor}</td>
                                    <td>{e.action.replace('_', " ")}</td>
                                    <td>{match (e.poll_id, e.poll) {
                                        (Some(id), Some(slug)) => view! { <A href=format!("/editor/polls/{id}")>{slug}</A> }.into_any(),
                                        (None, Some(slug)) => view! { <span>{slug}</span> }.into_any(),
                                        _ => view! { <span class="muted">"—"</span> }.into_any(),
                                    }}</td>
                                    <td>{e.detail}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any())
            })}
        </Suspense>
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| load_tokens());
    view! {
        <Title text="API tokens · Editor"/>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                editor_page(tokens.await, |me, tokens| view! {
                    <h1>"API tokens"</h1>
                    <p class="lede">"Scripts use these with the editor API ("<a href="/api/v1/openapi.json" rel="external">"OpenAPI"</a>"). A token acts as you; revoke it when the script is retired."</p>
                    <form method="post" action="/editor/tokens/new" class="field-row">
                        <Csrf me=me.clone()/>
                        <div>
                            <label for="token-name">"Name"</label>
                            <input id="token-name" name="name" type="text" maxlength="100" required placeholder="Newsletter builder"/>
                        </div>
                        <div><button type="submit" class="primary">"Create token"</button></div>
                    </form>
                    {if tokens.is_empty() {
                        view! { <p class="muted">"No tokens yet."</p> }.into_any()
                    } else {
                        view! {
                            <div class="table-wrap">
                                <table class="data">
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"State"</th></tr></thead>
                                    <tbody>{tokens.into_iter().map(|t| view! {
                                        <tr>
                                            <td>{t.name}</td>
                                            <td><LocalTime at=t.created_at/></td>
                                            <td>{match t.last_used_at {
                                                Some(at) => view! { <LocalTime at/> }.into_any(),
                                                None => view! { <span class="muted">"never"</span> }.into_any(),
                                            }}</td>
                                            <td>{match t.revoked_at {
                                                Some(at) => view! { <span>"revoked "<LocalTime at/></span> }.into_any(),
                                                None => view! {
                                                    <form method="post" action=format!("/editor/tokens/{}/revoke", t.id) class="inline">
                                                        <Csrf me=me.clone()/>
                                                        <button type="submit" class="link">"Revoke"</button>
                                                    </form>
                                                }.into_any(),
                                            }}</td>
                                        </tr>
                                    }).collect_view()}</tbody>
                                </table>
                            </div>
                        }.into_any()
                    }}
                    <h2>"Sign out everywhere"</h2>
                    <p class="muted">"Ends every session of yours, this one too, and forgets every browser you signed in with, so each signs in as a new one. Use it after losing a laptop or phone. API tokens keep working."</p>
                    <form method="post" action="/editor/logout">
                        <Csrf me=me.clone()/>
                        <input type="hidden" name="everywhere" value="yes"/>
                        <button type="submit" class="secondary">"Sign out everywhere"</button>
                    </form>
                }.into_any())
            })}
        </Suspense>
    }
}
