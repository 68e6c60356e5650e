//! CM's profile templates for the New request form's drop-down
//! (`GET profiletemplates`): read once when the form opens, and again on
//! the form's "Read again".

use std::sync::Arc;

use super::{Report, ReportSink};

/// Reads the templates on `runtime` and reports them, or CM's failure in
/// words (with its correlation ID).
pub(super) fn read_templates(
    runtime: &tokio::runtime::Handle,
    client: &crate::cm::CmClient,
    sink: &ReportSink,
) {
    let client = client.clone();
    let sink = Arc::clone(sink);
    runtime.spawn(async move {
        let result = client
            .profile_templates()
            .await
            .map_err(|error| error.to_failure());
        sink(Report::TemplatesRead(result));
    });
}
