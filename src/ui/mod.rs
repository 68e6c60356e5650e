//! The window: a thin view of [`StationState`] that turns clicks into commands.

mod action_confirm;
mod audit_view;
mod batch_view;
mod bind_bar;
mod card_panel;
mod desk;
mod desk_frame;
pub mod first_run;
mod identity;
mod kiosk;
pub mod launch;
mod layout;
mod new_request;
mod readers_panel;
mod request_detail;
mod requests_table;
mod settings_view;
mod supervisor_dialog;
pub mod theme;
mod unblock;

use std::sync::Arc;
use std::sync::mpsc;

use crate::app::station::StationState;
use crate::card::IdentityReader;
use crate::card::demo::{DemoReader, ReaderHub};
use crate::card::monitor::{MonitorHandle, spawn_monitor_with};
use crate::card::pcsc_reader::PcscReader;
use crate::cm::CmClient;
use crate::cm::emulator::Emulator;
use crate::worker::effects::{BindContext, SharedJournal};
use crate::worker::{Command, Report, ReportSink, WorkerHandle, spawn_worker_with};

/// What the window needs to start.
pub struct StationSetup {
    /// The CM client, pointed at the real server or the embedded emulator.
    pub client: CmClient,
    /// The runtime the worker runs on.
    pub runtime: tokio::runtime::Handle,
    /// The embedded emulator in demo mode; kept alive as long as the window.
    pub demo: Option<Emulator>,
    /// Whether to watch real PC/SC readers (tests that use only the demo reader turn it off).
    pub watch_pcsc: bool,
    /// The audit journal every bind is recorded in.
    pub journal: SharedJournal,
    /// The readers to ignore.
    pub reader_filter: crate::card::reader_filter::ReaderFilter,
    /// The PC/SC reader, with the site's policy for cards without a card ID.
    pub card_reader: PcscReader,
    /// The configuration file the Settings view saves to; `None` when there
    /// is no place for one (no home directory and no `--config`).
    pub config_path: Option<std::path::PathBuf>,
    /// What the configuration file holds (without command-line overrides):
    /// the Settings view starts from it.
    pub config: crate::config::StationConfig,
    /// What this run's command line put over the file (`--server`, `--kiosk`,
    /// `--demo`, ...): the Settings view shows the running values.
    pub overrides: crate::config::Overrides,
    /// How the station is used (desk, supervised counter, kiosk).
    pub mode: crate::config::Mode,
    /// The supervisors who may confirm a bind (supervised mode) or leave a kiosk.
    pub supervisors: Arc<crate::supervisors::SupervisorStore>,
    /// How often the request list fetches itself again (`refresh_interval_secs`).
    pub refresh_interval: std::time::Duration,
    /// The directory target accounts are looked up in, when one is configured.
    pub people: Option<Arc<dyn crate::worker::people::PeopleSource>>,
}

/// The station's window.
pub struct StationApp {
    state: StationState,
    reports: mpsc::Receiver<Report>,
    worker: WorkerHandle,
    demo_reader: Option<Arc<DemoReader>>,
    demo_card_choice: usize,
    server_label: String,
    demo_emulator: Option<Emulator>,
    show_audit: bool,
    show_settings: bool,
    /// "Larger text" is on.
    larger_text: bool,
    /// The readers panel's width, as the operator dragged it.
    readers_width: f32,
    /// In a narrow window, the readers panel shown over the list.
    show_readers: bool,
    /// Settings was shown at the end of the last frame: when it closes, the
    /// worker forgets the supervisor who opened it.
    settings_was_shown: bool,
    _monitor: Option<MonitorHandle>,
}

impl StationApp {
    /// Builds the window, starts the worker and the reader monitors, and asks for the request list.
    pub fn new(ctx: &egui::Context, setup: StationSetup) -> Self {
        let (tx, reports) = mpsc::channel();
        let repaint_ctx = ctx.clone();
        let sink: ReportSink = Arc::new(move |report| {
            // Send first, then wake: the woken frame must find the report.
            if tx.send(report).is_ok() {
                repaint_ctx.request_repaint();
            }
        });
        let reader_sink = {
            let sink = Arc::clone(&sink);
            Arc::new(move |event| sink(Report::Reader(event)))
        };
        let demo_reader = setup.demo.as_ref().map(|_| {
            DemoReader::with_families(reader_sink.clone(), setup.card_reader.families().clone())
        });
        let monitor = setup.watch_pcsc.then(|| {
            let sink = setup.reader_filter.wrap(reader_sink.clone());
            spawn_monitor_with(sink, setup.card_reader.clone())
        });
        let readers: Arc<dyn IdentityReader> = Arc::new(ReaderHub::new(
            Arc::new(setup.card_reader),
            demo_reader.clone(),
        ));
        let server_label = setup.client.api_base().to_owned();
        let context = BindContext {
            client: setup.client,
            readers,
            journal: setup.journal,
        };
        let kiosk = crate::app::kiosk::KioskState::new(
            setup.mode == crate::config::Mode::Kiosk,
            setup.config.kiosk_idle_secs.duration(),
            !setup.supervisors.is_empty(),
        );
        let supervision = crate::supervisors::Supervision::new(setup.mode, setup.supervisors);
        let witness = supervision.witness;
        let worker = spawn_worker_with(
            &setup.runtime,
            context,
            sink,
            supervision,
            demo_reader.clone(),
            setup.people.clone(),
        );
        let larger_text = setup.config.larger_text;
        let readers_width = setup
            .config
            .readers_panel_width
            .map_or(layout::READERS_DEFAULT, f32::from);
        // egui's default already follows the desktop's dark or light theme
        // (eframe passes winit's theme and its changes on); set here so it stays so.
        ctx.options_mut(|o| o.theme_preference = egui::ThemePreference::System);
        theme::apply(ctx);
        if larger_text {
            desk::apply_zoom(ctx, true);
        }
        let mut state = StationState::default();
        state.witness = witness;
        state.kiosk = kiosk;
        state.batch.config = crate::domain::batch::BatchConfig {
            max_concurrent_posts: setup.config.batch_max_concurrent_posts.get(),
        };
        state.people = crate::app::people::People::new(setup.people.is_some());
        state.start_auto_refresh(setup.refresh_interval, std::time::Instant::now());
        state.settings = crate::app::settings_form::SettingsState::new(
            setup.config,
            setup.overrides,
            setup.config_path,
            setup.demo.as_ref().map(Emulator::base_url),
        );
        // The person at a kiosk never sees the list: it is not even fetched.
        if !state.kiosk.active {
            worker.send(Command::RefreshRequests(state.query));
        }
        Self {
            state,
            reports,
            worker,
            demo_reader,
            demo_card_choice: 0,
            server_label,
            demo_emulator: setup.demo,
            show_audit: false,
            show_settings: false,
            larger_text,
            readers_width,
            show_readers: false,
            settings_was_shown: false,
            _monitor: monitor,
        }
    }

    /// The window's state, for tests and diagnostics.
    pub fn state(&self) -> &StationState {
        &self.state
    }

    /// Shows a notice to the operator.
    pub fn notify(&mut self, text: String) {
        self.state.notices.push(text);
    }

    /// The demo reader, in demo mode.
    pub fn demo_reader(&self) -> Option<&Arc<DemoReader>> {
        self.demo_reader.as_ref()
    }

    /// The embedded emulator, in demo mode.
    pub fn demo_emulator(&self) -> Option<&Emulator> {
        self.demo_emulator.as_ref()
    }

    fn drain_reports(&mut self) {
        while let Ok(report) = self.reports.try_recv() {
            // The running batch sees the readers the window shows, event by event.
            if let Some(command) = self.state.batch.forward(&report) {
                self.worker.send(command);
            }
            if self.state.apply(report) && !self.state.kiosk.active {
                self.worker.send(Command::RefreshRequests(self.state.query));
            }
            // A batch its supervisor just confirmed starts before the next
            // reader event is passed on to it.
            for command in self.state.batch.take_commands() {
                self.worker.send(command);
            }
            if self.state.take_audit_stale() && self.show_audit {
                self.worker.send(Command::LoadAudit);
            }
        }
    }

    /// Sends the questions about cards and templates the state has not asked yet.
    fn ask_cm(&mut self) {
        for command in self.state.cm_questions() {
            self.worker.send(command);
        }
        for command in self.state.detail_questions() {
            self.worker.send(command);
        }
        for command in self.state.action_questions() {
            self.worker.send(command);
        }
        let users = self.state.people_questions();
        if !users.is_empty() {
            self.worker.send(Command::LookUpPeople(users));
        }
    }

    fn refresh(&mut self) {
        let command = self.state.refresh_now(std::time::Instant::now());
        self.worker.send(command);
    }
}

/// The widest font atlas the station lets egui make. egui sizes its glyph
/// atlas to the renderer's largest texture: with Mesa's 16,384 pixels that is
/// a 2 MB strip, kept twice (egui's copy and the texture), for a few hundred
/// glyphs. 2,048 is egui's own portable default; the atlas grows downwards
/// as needed.
const FONT_ATLAS_MAX_SIDE: usize = 2048;

impl eframe::App for StationApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_reports();
        // Cards just identified (also at a kiosk, whose frame ends early).
        self.ask_cm();
        let (commands, wake) = self.state.tick(std::time::Instant::now());
        for command in commands {
            self.worker.send(command);
        }
        if let Some(wake) = wake {
            ctx.request_repaint_after(wake);
        }
        // The kiosk's timers, and the desk a supervisor opened from it.
        self.kiosk_logic(ctx);
    }

    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        raw_input.max_texture_side = Some(
            raw_input
                .max_texture_side
                .map_or(FONT_ATLAS_MAX_SIDE, |side| side.min(FONT_ATLAS_MAX_SIDE)),
        );
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        // Reports may arrive between logic and ui (kittest runs ui alone); draining is cheap.
        self.drain_reports();
        // P5 measures start-up to this line.
        static FIRST_FRAME: std::sync::Once = std::sync::Once::new();
        FIRST_FRAME.call_once(|| tracing::info!("first frame"));
        if std::mem::replace(&mut self.settings_was_shown, self.show_settings)
            && !self.show_settings
        {
            self.worker.send(Command::SettingsClosed);
        }
        if self.state.kiosk.active {
            self.kiosk_frame(ui);
            return;
        }
        self.desk_keys(ui.ctx());
        self.desk_ui(ui);
        self.desk_overlays(ui.ctx());
        theme::paint_focus_ring(ui.ctx());
        // A selection made in this frame may need its template's answer.
        self.ask_cm();
    }
}
