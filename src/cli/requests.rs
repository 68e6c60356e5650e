//! `enroll-station requests`.

use anyhow::Context as _;

use super::Settings;
use super::output::{RequestJson, print_json};
use crate::domain::request::{Request, RequestStatus, ShownTime};

pub(super) fn run(server: &Settings, status: Option<&str>, json: bool) -> anyhow::Result<()> {
    let status = status
        .map(|name| {
            RequestStatus::from_name(name).with_context(|| {
                let known: Vec<String> =
                    RequestStatus::KNOWN.iter().map(|s| s.to_string()).collect();
                format!(
                    "Unknown status \"{name}\". Use one of: {}.",
                    known.join(", ")
                )
            })
        })
        .transpose()?;
    let client = server.client()?;
    let mut requests = super::runtime()?.block_on(client.list_requests(status))?;
    requests.sort_by(Request::list_order);
    if json {
        let out: Vec<RequestJson> = requests.iter().map(RequestJson::from).collect();
        return print_json(&out);
    }
    if requests.is_empty() {
        println!("No requests.");
    }
    for r in &requests {
        // In local time with its zone; --json keeps the server's instant in UTC.
        let submitted = r
            .submitted
            .map_or_else(|| "-".to_owned(), |t| ShownTime::local(t).to_string());
        println!(
            "{}  {:<10} {:<15} {:<22}  {}",
            r.uuid,
            r.status.to_string(),
            r.request_type.to_string(),
            submitted,
            r.data_summary()
        );
    }
    Ok(())
}
