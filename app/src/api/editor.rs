//! Server functions behind the editor pages. Reads are GET (safe, no CSRF token needed);
//! the one write, `save_poll`, is a POST that carries the session's CSRF token, which the
//! server's editor guard checks before this code runs.

use crate::domain::{ApiTokenView, AppError, AuditView, EditorIdentity, PollDraft, PollId, ShareKit};
use crate::services::{Dashboard, EditorPoll};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// A page's data and who is looking (with the CSRF token its forms carry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorPage<T> {
    pub me: EditorIdentity,
    pub data: T,
}

#[server(prefix = "/rpc", endpoint = "editor/polls", input = GetUrl)]
pub async fn load_editor_polls() -> Result<EditorPage<Vec<EditorPoll>>, AppError> {
    let (service, me) = ssr::context().await?;
    let data = service.polls().await.map_err(super::ssr::with_status)?;
    Ok(EditorPage { me, data })
}

#[server(prefix = "/rpc", endpoint = "editor/poll", input = GetUrl)]
pub async fn load_editor_poll(id: PollId) -> Result<EditorPage<EditorPoll>, AppError> {
    let (service, me) = ssr::context().await?;
    let data = service.poll(id).await.map_err(super::ssr::with_status)?;
    Ok(EditorPage { me, data })
}

/// A blank draft for the new-poll form; made on the server, whose clock the browser lacks.
#[server(prefix = "/rpc", endpoint = "editor/new", input = GetUrl)]
pub async fn load_new_draft() -> Result<EditorPage<PollDraft>, AppError> {
    let (_, me) = ssr::context().await?;
    Ok(EditorPage { me, data: PollDraft::blank(chrono::Utc::now()) })
}

#[server(prefix = "/rpc", endpoint = "editor/dashboard", input = GetUrl)]
pub async fn load_dashboard(id: PollId) -> Result<EditorPage<Dashboard>, AppError> {
    let (service, me) = ssr::context().await?;
    let data = service.dashboard(id).await.map_err(super::ssr::with_status)?;
    Ok(EditorPage { me, data })
}

/// The share panel: links, snippets and email blocks of poll `id`.
#[server(prefix = "/rpc", endpoint = "editor/share", input = GetUrl)]
pub async fn load_share(id: PollId) -> Result<ShareKit, AppError> {
    let (service, _) = ssr::context().await?;
    let origin = super::ssr::origin().await;
    service.share_kit(id, &origin).await.map_err(super::ssr::with_status)
}

#[server(prefix = "/rpc", endpoint = "editor/audit", input = GetUrl)]
pub async fn load_audit() -> Result<EditorPage<Vec<AuditView>>, AppError> {
    let (service, me) = ssr::context().await?;
    let data = service.audit_log().await.map_err(super::ssr::with_status)?;
    Ok(EditorPage { me, data })
}

#[server(prefix = "/rpc", endpoint = "editor/tokens", input = GetUrl)]
pub async fn load_tokens() -> Result<EditorPage<Vec<ApiTokenView>>, AppError> {
    let (service, me) = ssr::context().await?;
    let data = service.api_tokens(&me).await.map_err(super::ssr::with_status)?;
    Ok(EditorPage { me, data })
}

/// Creates (no `id`) or updates a poll. `csrf` is read by the guard, not here.
#[server(prefix = "/rpc", endpoint = "editor/save", input = Json)]
pub async fn save_poll(id: Option<PollId>, draft: PollDraft, csrf: String) -> Result<EditorPoll, AppError> {
    let _ = csrf;
    let (service, me) = ssr::context().await?;
    match id {
        None => service.create_poll(&me, draft).await,
        Some(id) => service.update_poll(&me, id, draft).await,
    }
    .map_err(super::ssr::with_status)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::domain::{AppError, EditorIdentity};
    use crate::services::SharedEditorService;
    use leptos::prelude::*;

    /// The editor service and the signed-in editor the guard found.
    pub async fn context() -> Result<(SharedEditorService, EditorIdentity), AppError> {
        let service = use_context::<SharedEditorService>().ok_or(AppError::Internal)?;
        let axum::Extension(me) = leptos_axum::extract::<axum::Extension<EditorIdentity>>()
            .await
            .map_err(|_| super::super::ssr::with_status(AppError::Unauthorized))?;
        Ok((service, me))
    }
}
