//! Opens the window, on a real CM server or on the embedded demo backend.

use anyhow::{Context as _, anyhow};

use crate::cm::CmClient;
use crate::cm::emulator::{Emulator, EmulatorConfig};
use crate::config::effective::Settings;
use crate::ui::{StationApp, StationSetup};
use crate::worker::runtime;

/// How the window was asked to open.
#[derive(Clone, Copy, Debug, Default)]
pub struct WindowOptions {
    /// On the embedded demo backend, whatever server is configured.
    pub demo: bool,
    /// As an unattended kiosk, whatever mode the configuration says.
    pub kiosk: bool,
}

/// Opens the window and returns when it is closed.
///
/// Without `--server` (and without `ENROLL_STATION_SERVER`) the station starts in
/// demo mode rather than failing: a first run should show what it does.
pub fn run_window(settings: &Settings, options: WindowOptions) -> anyhow::Result<()> {
    let runtime = runtime()?;
    let demo_mode = options.demo || settings.server().is_none();
    let mut people: Option<std::sync::Arc<dyn crate::worker::people::PeopleSource>> = None;
    let (client, demo) = if demo_mode {
        let emulator = runtime
            .block_on(Emulator::start(EmulatorConfig::default()))
            .context("The demo backend could not start on a loopback port")?;
        // The demo backend asks for no credentials, whatever the file configures.
        let config = settings.config.demo_client_config(&emulator.base_url());
        seed_issued_demo_card(&emulator);
        people = Some(std::sync::Arc::new(
            crate::directory::demo::DemoDirectory::for_requests(&emulator.requests()),
        ));
        (CmClient::new(&config)?, Some(emulator))
    } else {
        if let Some(directory) = &settings.config.directory {
            // A directory whose settings or password are wrong stops the
            // window: names would be unchecked without anyone deciding so.
            let directory = crate::directory::Directory::from_keyring(directory.clone())
                .context("The directory configured in [directory] cannot be used")?;
            people = Some(std::sync::Arc::new(directory));
        }
        (settings.client()?, None)
    };
    let (journal, journal_problem) =
        crate::audit::journal::open_for_window(settings.audit_file(), demo.is_some());
    if let Some(problem) = &journal_problem {
        tracing::error!(%problem, "binding is disabled");
    }
    // The file as it is: Settings shows the running values but saves the
    // file's own where this run's options differ.
    let file_config = match &settings.config_path {
        Some(path) => crate::config::StationConfig::load_if_present(path)?,
        None => crate::config::StationConfig::default(),
    };
    let config_warnings = settings.config.warnings();
    let mode = if options.kiosk {
        crate::config::Mode::Kiosk
    } else {
        settings.config.mode
    };
    // What Settings shows is what runs: the options over the file, the
    // kiosk switch, and in demo mode the demo backend in place of the file's
    // server (without any server, the form's blank one is the demo backend).
    let mut running = settings.config.clone();
    running.mode = mode;
    let mut overrides =
        crate::config::Overrides::between(&file_config, &running, |name| std::env::var(name).ok());
    if let Some(emulator) = demo.as_ref().filter(|_| settings.server().is_some()) {
        overrides.demo_backend(&emulator.base_url());
    }
    let setup = StationSetup {
        client,
        runtime: runtime.handle().clone(),
        demo,
        watch_pcsc: true,
        journal,
        reader_filter: settings.reader_filter(),
        card_reader: settings.card_reader(),
        config: file_config,
        overrides,
        config_path: settings.config_path.clone(),
        mode,
        supervisors: std::sync::Arc::new(crate::supervisors::SupervisorStore::for_station(
            &settings.config.supervisors,
            crate::audit::journal::journal_path(settings.audit_file(), demo_mode)
                .ok()
                .as_deref(),
        )),
        refresh_interval: settings.config.refresh_interval_secs.duration(),
        people,
    };
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Enroll Station")
        .with_app_id("enroll-station")
        .with_inner_size([1200.0, 760.0])
        .with_min_inner_size([800.0, 480.0]);
    match window_icon() {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(error) => tracing::warn!(%error, "the window icon could not be decoded"),
    }
    if mode == crate::config::Mode::Kiosk {
        // The window manager's close is also refused by the app (CancelClose);
        // without decorations there is no close button to press.
        viewport = viewport
            .with_fullscreen(true)
            .with_decorations(false)
            .with_window_level(egui::WindowLevel::AlwaysOnTop);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "Enroll Station",
        options,
        Box::new(move |cc| {
            let mut app = StationApp::new(&cc.egui_ctx, setup);
            if let Some(problem) = journal_problem {
                app.notify(format!("Binding is disabled: {problem}"));
            }
            for warning in config_warnings {
                app.notify(warning.to_owned());
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|error| {
        anyhow!(
            "The window could not be opened: {error}. A graphical session (X11 or Wayland) \
             with OpenGL is needed; the command-line subcommands work without one."
        )
    })
}

/// The station's own icon for the title bar and task switcher, the same art
/// as the desktop entry's. Without one eframe shows egui's logo, decoded at
/// 512×512 and kept for the window's life (1 MB; issue 6, P5).
fn window_icon() -> Result<egui::IconData, impl std::error::Error> {
    eframe::icon_data::from_png_bytes(include_bytes!(
        "../../assets/icons/hicolor/128x128/apps/enroll-station.png"
    ))
}

/// In the demo, CM has already issued the PIV card to someone: inserting it
/// shows what the readers panel says of a card in use, and why Bind refuses it.
fn seed_issued_demo_card(emulator: &Emulator) {
    let piv = crate::card::demo::demo_cards()
        .into_iter()
        .find(|c| c.card.kind() == Some(crate::domain::card::CardKind::Piv))
        .and_then(|c| c.card.card_id());
    let template = emulator
        .requests()
        .into_iter()
        .find_map(|r| r.profile_template);
    if let (Some(card_id), Some(template)) = (piv, template) {
        emulator.insert_smartcard(
            &card_id,
            crate::domain::request::SmartcardStatus::ACTIVE,
            uuid::Uuid::from_u128(0x2b0c_51a1_4d3e_4f60_9a7b_8c9d_0e1f_2a3b),
            template,
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_window_icon_is_the_stations_own_at_128_pixels() {
        let icon = super::window_icon().expect("the embedded PNG decodes");
        assert_eq!((icon.width, icon.height), (128, 128));
        assert_eq!(icon.rgba.len(), 128 * 128 * 4);
        // Not blank: the art has opaque pixels.
        assert!(icon.rgba.chunks(4).any(|px| px[3] == 255));
    }
}
