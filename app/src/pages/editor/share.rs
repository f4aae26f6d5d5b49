//! The share panel on a poll's dashboard: the poll link, the widget's embed code, the oEmbed
//! address, the results images and an email block per ESP with a preview, each ready to
//! copy. Without JavaScript the fields are plain read-only text to select and copy.

use crate::components::copy_text;
use crate::domain::{AppError, EmailBlockView, ShareKit, Stage};
use leptos::prelude::*;

#[component]
pub fn SharePanel(kit: Result<ShareKit, AppError>, stage: Stage) -> impl IntoView {
    view! {
        <section class="panel share" id="share" aria-labelledby="share-title">
            <h2 id="share-title">"Share and embed"</h2>
            {(stage == Stage::Draft).then(|| view! {
                <p class="notice">"This poll is a draft: its links work once it is scheduled or open."</p>
            })}
            {match kit {
                Ok(kit) => view! { <ShareKitView kit/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ShareKitView(kit: ShareKit) -> impl IntoView {
    let ShareKit { page_url, embed_url: _, iframe, oembed_url, image_png, image_card, image_svg, emails } = kit;
    view! {
        <CopyField id="share-link" label="Poll link" value=page_url
            hint="Pasted on its own line in Ghost, WordPress or Substack, it turns into the widget (oEmbed)."/>
        <CopyField id="share-iframe" label="Embed code" value=iframe rows=3
            hint="For pages that take HTML: the widget in a frame, and a small script that sizes it."/>
        <CopyField id="share-oembed" label="oEmbed address" value=oembed_url/>
        <CopyField id="share-png" label="Results image for email (PNG, 600 px wide)" value=image_png/>
        <CopyField id="share-card" label="Social card (PNG, 1200 × 630)" value=image_card/>
        <CopyField id="share-svg" label="Results image (SVG)" value=image_svg/>
        <h3>"Email block"</h3>
        <p class="hint">"One link per answer. Your ESP fills in each subscriber's id when it sends; a reader's click \
            opens the poll with their answer chosen, and one press confirms it. Each subscriber counts once."</p>
        {emails.into_iter().map(|email| view! { <EmailBlock email/> }).collect_view()}
    }
}

#[component]
fn EmailBlock(email: EmailBlockView) -> impl IntoView {
    let EmailBlockView { esp, html, text } = email;
    let name = esp.name();
    view! {
        <details class="email-block">
            <summary>{esp.title()}</summary>
            <CopyField id=format!("email-{name}-html") label="HTML" value=html.clone() rows=6/>
            <CopyField id=format!("email-{name}-text") label="Plain text" value=text rows=6/>
            <p class="hint">"Preview"</p>
            <iframe class="email-preview" title=format!("Preview of the {} email block", esp.title()) srcdoc=html sandbox=""></iframe>
        </details>
    }
}

/// A read-only field with a Copy button (the button only once the page is interactive).
#[component]
pub(super) fn CopyField(
    #[prop(into)] id: String,
    label: &'static str,
    value: String,
    #[prop(optional)] rows: Option<u32>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    let copied = RwSignal::new(None::<bool>);
    let text = StoredValue::new(value.clone());
    let hint_id = format!("{id}-hint");
    let described = hint.map(|_| hint_id.clone());
    let field = match rows {
        Some(rows) => {
            view! { <textarea id=id.clone() readonly rows=rows aria-describedby=described.clone()>{crate::html::field_text(&value)}</textarea> }
                .into_any()
        }
        None => view! { <input id=id.clone() type="text" readonly value=value aria-describedby=described/> }.into_any(),
    };
    view! {
        <div class="copy-field">
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            <div class="copy-row">
                {field}
                {move || interactive.get().then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| copied.set(Some(text.with_value(|t| copy_text(t))))>
                        {move || match copied.get() { Some(true) => "Copied", Some(false) => "Select and copy", None => "Copy" }}
                    </button>
                })}
            </div>
        </div>
    }
}
