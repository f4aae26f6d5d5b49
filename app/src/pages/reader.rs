//! Readers' pages. Each loads its data through a server function and hands it to the
//! shared components.

use crate::api::{load_archive, load_home, load_poll};
use crate::components::{winner_sentence, PollCard, ReaderSummary, ResultsBars, Time};
use crate::domain::AppError;
use crate::services::{ArchiveEntry, ArchivePage as Archive};
use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_home());
    view! {
        <Title text=""/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                    Ok(home) => view! {
                        {match home.featured {
                            Some(page) => view! { <PollCard page featured=true/> }.into_any(),
                            None => view! {
                                <section class="poll-card">
                                    <h2>"No poll is open right now"</h2>
                                    <p>"A new poll opens with every issue of the newsletter. Meanwhile, see how earlier polls turned out."</p>
                                </section>
                            }.into_any(),
                        }}
                        {(!home.also_open.is_empty()).then(|| view! {
                            <section class="also-open">
                                <h2>"Also open"</h2>
                                <ul class="poll-list">
                                    {home.also_open.into_iter().map(|p| view! {
                                        <li><a href=format!("/polls/{}", p.slug)>{p.question}</a></li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        })}
                        {home.latest_results.map(|entry| view! {
                            <section class="latest">
                                <h2>"Last time on The Results Show"</h2>
                                <ArchiveItem entry/>
                                <p><a href="/archive">"All past polls →"</a></p>
                            </section>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn PollPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let poll = Resource::new(slug, load_poll);
    let commented = use_query_map().with_untracked(|q| q.get("commented").is_some());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match poll.await {
                    Ok(page) => view! {
                        <Title text=page.poll.question.clone()/>
                        <ShareHead page=page.clone()/>
                        {
                            let summary = page.summary.clone();
                            let options = page.poll.options.clone();
                            view! {
                                <PollCard page commented/>
                                {summary.map(|summary| view! { <ReaderSummary summary options/> })}
                            }
                        }
                        <p class="back"><a href="/archive">"Past polls and their results →"</a></p>
                    }.into_any(),
                    Err(AppError::PollNotFound) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What other sites read from a poll page's head: the Open Graph / Twitter card (the
/// results image) and oEmbed discovery, all absolute addresses.
#[component]
fn ShareHead(page: crate::services::PollPage) -> impl IntoView {
    let origin = page.origin;
    let slug = page.poll.slug.to_string();
    let question = page.poll.question;
    let url = format!("{origin}/polls/{slug}");
    let card = format!("{origin}/polls/{slug}/results.png?w=1200&h=630");
    let encoded: String = url
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    view! {
        <Meta property="og:type" content="website"/>
        <Meta property="og:title" content=question.clone()/>
        <Meta property="og:url" content=url/>
        <Meta property="og:image" content=card.clone()/>
        <Meta property="og:image:width" content="1200"/>
        <Meta property="og:image:height" content="630"/>
        <Meta name="twitter:card" content="summary_large_image"/>
        <Meta name="twitter:image" content=card/>
        <Link rel="alternate" type_="application/json+oembed" title=question href=format!("{origin}/oembed?url={encoded}&format=json")/>
    }
}

#[component]
pub fn ArchivePage() -> impl IntoView {
    let query = use_query_map();
    let page = move || query.read().get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1);
    let archive = Resource::new(page, load_archive);
    view! {
        <Title text="The Results Show"/>
        <h1>"The Results Show"</h1>
        <p class="lede">"Every closed poll, and how it turned out."</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match archive.await {
                    Err(e) => view! { <Problem error=e/> }.into_any(),
                    Ok(archive) if archive.entries.is_empty() => view! { <p>"No poll has closed yet."</p> }.into_any(),
                    Ok(Archive { entries, page, pages }) => view! {
                        <ol class="archive">
                            {entries.into_iter().map(|entry| view! { <li><ArchiveItem entry/></li> }).collect_view()}
                        </ol>
                        <Pager page pages/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Newer and older pages of the archive, as plain links.
#[component]
fn Pager(page: usize, pages: usize) -> impl IntoView {
    (pages > 1).then(|| {
        let link = |to: usize| if to == 1 { "/archive".to_owned() } else { format!("/archive?page={to}") };
        view! {
            <nav class="pager" aria-label="Archive pages">
                {(page > 1).then(|| view! { <a href=link(page - 1) rel="prev">"← Newer polls"</a> })}
                <span class="muted">{format!("Page {page} of {pages}")}</span>
                {(page < pages).then(|| view! { <a href=link(page + 1) rel="next">"Older polls →"</a> })}
            </nav>
        }
    })
}

#[component]
fn ArchiveItem(entry: ArchiveEntry) -> impl IntoView {
    let ArchiveEntry { poll, results } = entry;
    let counted = crate::domain::Counted::of(poll.max_choices);
    view! {
        <article class="archive-item">
            <h3><a href=format!("/polls/{}", poll.slug)>{poll.question}</a></h3>
            <p class="poll-meta">"Closed "<Time at=poll.closes_at/></p>
            {match results {
                Some(results) => view! {
                    <p class="winner">{winner_sentence(&results)}</p>
                    <ResultsBars results counted/>
                }.into_any(),
                None => view! { <p class="muted">"Results not published."</p> }.into_any(),
            }}
        </article>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="problem">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. The poll may have been moved, or the link mistyped."</p>
            <p><a href="/">"Go to this week's poll"</a>" · "<a href="/archive">"See past results"</a></p>
        </section>
    }
}

#[component]
pub(crate) fn Problem(error: AppError) -> impl IntoView {
    view! {
        <section class="problem" role="alert">
            <h1>"Something went wrong"</h1>
            <p>{error.to_string()}</p>
            <p><a href="/">"Back to the home page"</a></p>
        </section>
    }
}
