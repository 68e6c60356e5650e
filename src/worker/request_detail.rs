//! The detail pane's reads: a template's workflow policy (why a Pending
//! request waits) and the cards a request names. Each runs on the runtime
//! and is answered with one report, a failure included: the pane never
//! waits in silence.

use std::sync::Arc;

use tokio::runtime::Handle;
use uuid::Uuid;

use super::{Report, ReportSink};
use crate::cm::CmClient;
use crate::domain::request::RequestType;

/// `GET profiletemplates/{template}/policies/{type}`, answered with
/// [`Report::WorkflowPolicy`].
pub(super) fn read_workflow_policy(
    runtime: &Handle,
    client: &CmClient,
    sink: &ReportSink,
    template: Uuid,
    kind: RequestType,
) {
    let client = client.clone();
    let sink = Arc::clone(sink);
    runtime.spawn(async move {
        let result = client
            .workflow_policy(template, kind)
            .await
            .map_err(|error| {
                tracing::warn!(%template, %kind, %error, "the workflow policy could not be read");
                error.to_failure()
            });
        sink(Report::WorkflowPolicy {
            template,
            kind,
            result,
        });
    });
}

/// The request's old and new card, answered with [`Report::RequestCards`].
pub(super) fn read_request_cards(
    runtime: &Handle,
    client: &CmClient,
    sink: &ReportSink,
    request: Uuid,
) {
    let client = client.clone();
    let sink = Arc::clone(sink);
    runtime.spawn(async move {
        let result = client
            .request_cards(request)
            .await
            .map_err(|error| error.to_failure());
        sink(Report::RequestCards { request, result });
    });
}
