use super::{editor_page, loading, StageBadge, Times};
use crate::api::editor::load_editor_polls;
use crate::services::EditorPoll;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn EditorHome() -> impl IntoView {
    let polls = Resource::new(|| (), |_| load_editor_polls());
    view! {
        <Title text="Polls · Editor"/>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                editor_page(polls.await, |_, polls| view! {
                    <div class="page-head">
                        <h1>"Polls"</h1>
                        <A href="/editor/polls/new" attr:class="button primary">"New poll"</A>
                    </div>
                    {if polls.is_empty() {
                        view! { <p>"No polls yet. Start with "<A href="/editor/polls/new">"a new poll"</A>"."</p> }.into_any()
                    } else {
                        view! { <PollTable polls/> }.into_any()
                    }}
                }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn PollTable(polls: Vec<EditorPoll>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data poll-table">
                <thead><tr><th scope="col">"Question"</th><th scope="col">"Stage"</th><th scope="col">"Opens → closes"</th><th scope="col" class="num">"Votes"</th></tr></thead>
                <tbody>
                    {polls.into_iter().map(|p| view! {
                        <tr>
                            <td class="question-cell"><A href=format!("/editor/polls/{}", p.id)>{p.poll.question}</A></td>
                            <td class="stage-cell"><StageBadge stage=p.stage/></td>
                            <td class="times-cell"><Times opens=p.poll.opens_at closes=p.poll.closes_at/></td>
                            <td class="num votes-cell">{p.total_votes}<span class="on-phone">{if p.total_votes == 1 { " vote" } else { " votes" }}</span></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
