//! The window's model, without egui: the station's state, the rules that
//! decide what Bind may do, the request list with its search, the desk's
//! comforts, the kiosk flow, the settings form and the credential form.
//! The views in `ui` draw it and send the intents it returns to the worker.

pub mod actions;
pub mod batch;
pub(crate) mod card_lookups;
pub(crate) mod credentials;
pub(crate) mod desk;
pub(crate) mod kiosk;
pub mod people;
pub mod request_detail;
pub mod request_filter;
pub(crate) mod settings_form;
pub mod station;
