//! Opens the window, on a real CM server, on the embedded demo backend
//! (only with `--demo`), or on the first-run screen when no server is
//! configured. A kiosk or supervised station without a server does not
//! open at all: it must never run on a backend nobody chose (review L4).

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

/// How the window ended: for good, or to be opened again from the top
/// (the settings read anew) after a choice on the first-run screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowExit {
    /// The window was closed.
    Closed,
    /// Open again: a server was saved on the first-run screen.
    Reload,
    /// Open again on the demo backend ("Try the demo").
    Demo,
}

/// What a start with these settings opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// The station on the configured server.
    Server,
    /// The station on the embedded demo backend (`--demo`).
    Demo,
    /// The first-run screen: a desk with no server.
    FirstRun,
    /// Nothing: a kiosk or supervised station with no server. The words say why.
    Refused(String),
}

/// What to open: the demo backend only when asked for, never in place of
/// a missing server.
pub fn start_for(server: bool, demo: bool, mode: crate::config::Mode) -> Start {
    use crate::config::Mode;
    match (demo, server, mode) {
        (true, _, _) => Start::Demo,
        (false, true, _) => Start::Server,
        (false, false, Mode::Desk) => Start::FirstRun,
        (false, false, mode @ (Mode::Kiosk | Mode::Supervised)) => Start::Refused(format!(
            "No CM server is configured, and a {} station does not start without one: it \
             never runs on the demo backend by itself. Give the server as `server` in the \
             configuration file (or the machine policy), ENROLL_STATION_SERVER or --server. \
             To show the demo on purpose, start with --demo.",
            mode.name()
        )),
    }
}

/// Opens the window and returns when it is closed.
///
/// Without a server it opens the first-run screen (a desk) or refuses to
/// start (a kiosk or a supervised station); the demo backend runs only with
/// `--demo`.
pub fn run_window(settings: &Settings, options: WindowOptions) -> anyhow::Result<WindowExit> {
    let mode = if options.kiosk {
        crate::config::Mode::Kiosk
    } else {
        settings.config.mode
    };
    match start_for(settings.server().is_some(), options.demo, mode) {
        Start::Refused(why) => return Err(anyhow!(why)),
        Start::FirstRun => return run_first_run(settings),
        Start::Server | Start::Demo => {}
    }
    let runtime = runtime()?;
    let demo_mode = options.demo;
    let mut people: Option<std::sync::Arc<dyn crate::worker::people::PeopleSource>> = None;
    let (client, demo) = if demo_mode {
        let emulator = runtime
            .block_on(Emulator::start(EmulatorConfig::default()))
            .context("The demo backend could not start on a loopback port")?;
        // The demo backend asks for no credentials, whatever the file configures.
        let config = settings.config.demo_client_config(&emulator.base_url());
        seed_issued_demo_card(&emulator);
        // A Pending request in the demo says what it waits for, as with a real CM.
        emulator.seed_demo_policies();
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
    // A journal found cut or missing against its head marker, or without
    // one (recorded in it, and forwarded), shown as a notice.
    let journal_findings = crate::audit::journal::journal_path(settings.audit_file(), demo_mode)
        .map(|path| crate::audit::head::take_findings(&path))
        .unwrap_or_default();
    if journal_problem.is_none() {
        record_start(&journal, mode, settings.server(), demo_mode);
    }
    // The file as it is: Settings shows the running values but saves the
    // file's own where this run's options differ.
    let file_config = match &settings.config_path {
        Some(path) => crate::config::StationConfig::load_if_present(path)?,
        None => crate::config::StationConfig::default(),
    };
    let config_warnings = settings.config.warnings();
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
    pin_policy(&mut overrides, settings);
    // What the window reads from the file (the kiosk's idle time and texts)
    // is the policy's where it pins a key; Save never writes those keys.
    let mut file_config = file_config;
    settings.policy.apply(&mut file_config);
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
            for finding in journal_findings {
                app.notify(finding);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(window_error)?;
    Ok(WindowExit::Closed)
}

/// The `station_started` record: the mode, the server, who started it.
fn record_start(
    journal: &crate::audit::journal::SharedJournal,
    mode: crate::config::Mode,
    server: Option<&str>,
    demo: bool,
) {
    let server = match (demo, server) {
        (true, _) => "the embedded demo backend".to_owned(),
        (false, Some(server)) => server.to_owned(),
        (false, None) => "no server".to_owned(),
    };
    let event = crate::audit::StationEvent::new(
        crate::audit::ControlKind::StationStarted,
        crate::audit::Operator::from_os(),
        None,
        format!(
            "Started as a {} station on {server} (enroll-station {})",
            mode.name(),
            env!("CARGO_PKG_VERSION")
        ),
    );
    let written = journal
        .lock()
        .map_err(|_| "the journal's lock is poisoned".to_owned())
        .and_then(|mut journal| journal.record_event(event).map_err(|e| e.to_string()));
    if let Err(why) = written {
        tracing::warn!(%why, "the start was not journalled");
    }
}

fn window_error(error: eframe::Error) -> anyhow::Error {
    anyhow!(
        "The window could not be opened: {error}. A graphical session (X11 or Wayland) with \
         OpenGL is needed; the command-line subcommands work without one."
    )
}

/// Marks every key the machine policy pins as locked in Settings.
fn pin_policy(overrides: &mut crate::config::Overrides, settings: &Settings) {
    for (key, source) in settings.policy.pins() {
        overrides.pin(key, source.to_string());
    }
}

/// The first-run screen, until the person closes it or chooses a way on.
fn run_first_run(settings: &Settings) -> anyhow::Result<WindowExit> {
    let runtime = runtime()?;
    let file_config = match &settings.config_path {
        Some(path) => crate::config::StationConfig::load_if_present(path)?,
        None => crate::config::StationConfig::default(),
    };
    let mut overrides = crate::config::Overrides::between(&file_config, &settings.config, |name| {
        std::env::var(name).ok()
    });
    pin_policy(&mut overrides, settings);
    // What the window reads from the file (the kiosk's idle time and texts)
    // is the policy's where it pins a key; Save never writes those keys.
    let mut file_config = file_config;
    settings.policy.apply(&mut file_config);
    let setup = super::first_run::FirstRunSetup {
        config: file_config,
        overrides,
        config_path: settings.config_path.clone(),
        runtime: runtime.handle().clone(),
    };
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Enroll Station")
        .with_app_id("enroll-station")
        .with_inner_size([1000.0, 700.0])
        .with_min_inner_size([640.0, 420.0]);
    if let Ok(icon) = window_icon() {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    let choice = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = std::sync::Arc::clone(&choice);
    eframe::run_native(
        "Enroll Station",
        options,
        Box::new(move |cc| {
            Ok(Box::new(
                super::first_run::FirstRunApp::new(&cc.egui_ctx, setup).choice_into(slot),
            ))
        }),
    )
    .map_err(window_error)?;
    let picked = choice.lock().ok().and_then(|c| *c);
    Ok(match picked {
        Some(super::first_run::FirstRunChoice::Connect) => WindowExit::Reload,
        Some(super::first_run::FirstRunChoice::Demo) => WindowExit::Demo,
        None => WindowExit::Closed,
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
    use super::{Start, start_for};
    use crate::config::Mode;

    #[test]
    fn the_demo_backend_starts_only_when_asked_for() {
        assert_eq!(start_for(false, false, Mode::Desk), Start::FirstRun);
        assert_eq!(start_for(false, true, Mode::Desk), Start::Demo);
        assert_eq!(start_for(true, true, Mode::Kiosk), Start::Demo);
        assert_eq!(start_for(true, false, Mode::Kiosk), Start::Server);
        for mode in [Mode::Kiosk, Mode::Supervised] {
            let Start::Refused(why) = start_for(false, false, mode) else {
                panic!("{mode:?} without a server must not start");
            };
            assert!(why.contains("No CM server is configured"), "{why}");
            assert!(why.contains(mode.name()), "{why}");
        }
    }

    #[test]
    fn the_window_icon_is_the_stations_own_at_128_pixels() {
        let icon = super::window_icon().expect("the embedded PNG decodes");
        assert_eq!((icon.width, icon.height), (128, 128));
        assert_eq!(icon.rgba.len(), 128 * 128 * 4);
        // Not blank: the art has opaque pixels.
        assert!(icon.rgba.chunks(4).any(|px| px[3] == 255));
    }
}
