//! P3: the request list with 100,000 requests, served by the CM emulator over
//! real HTTP on loopback.
//!
//! (a) fetch and parse: `CmClient::list_requests` (one call for all
//!     statuses, and the window's "Open" query: three calls, merged, sorted),
//!     then the search index the window builds per load. Goal ≤ 1 s.
//! (b) one frame while scrolling the table: the real window in an
//!     egui_kittest harness, a mouse-wheel event per frame; CPU time of the
//!     UI thread for the frame (`CLOCK_THREAD_CPUTIME_ID`), and besides it
//!     the tessellation eframe would do next. Goal ≤ 4 ms.
//! (c) a keystroke in the search box to the filtered list: one character
//!     typed (or erased) per frame; the list is filtered within that frame.
//!     Goal ≤ 16 ms.
//!
//! The harness keeps AccessKit on (a desktop does only while a screen reader
//! runs), so (b) and (c) are upper bounds. Figures are median and p95.
//!
//! Run: `cargo bench --bench p3_request_list` (optionally `-- 20000` for
//! another list size, `-- fetch` or `-- window` for one part). It needs no
//! service: the emulator runs in-process.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use enroll_station::app::request_filter::{Column, RequestView, SearchIndex, Sort};
use enroll_station::app::station::StationState;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::cm::model::WireRequest;
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::domain::request::{Request, RequestQuery};
use enroll_station::ui::{StationApp, StationSetup};
use enroll_station::worker::Report;

const DEFAULT_REQUESTS: usize = 100_000;
const FETCH_RUNS: usize = 7;
const SCROLL_FRAMES: usize = 300;

/// CPU time the calling thread has used.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "the thread CPU clock is readable");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Median and 95th percentile, in ms.
fn summary(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = samples.len();
    let p95 = samples[(n * 95).div_ceil(100).saturating_sub(1).min(n - 1)];
    (ms(samples[n / 2]), ms(p95))
}

fn line(what: &str, samples: &mut [Duration], goal_ms: Option<f64>) -> bool {
    let (median, p95) = summary(samples);
    let verdict = match goal_ms {
        Some(goal) if p95 <= goal => format!("  goal ≤ {goal} ms: met"),
        Some(goal) if median <= goal => format!("  goal ≤ {goal} ms: median met, p95 not"),
        Some(goal) => format!("  goal ≤ {goal} ms: NOT met"),
        None => String::new(),
    };
    println!(
        "  {what:<58} median {median:>8.2} ms  p95 {p95:>8.2} ms  (n={}){verdict}",
        samples.len()
    );
    goal_ms.is_none_or(|goal| median <= goal)
}

/// The window's "Open" query as the worker fetches it: three calls, merged, sorted.
async fn fetch_open(client: &CmClient) -> Vec<Request> {
    let mut all = Vec::new();
    for status in RequestQuery::Open.statuses() {
        all.append(&mut client.list_requests(status).await.expect("the list"));
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|r| seen.insert(r.uuid));
    all.sort_by(Request::list_order);
    all
}

fn fetch_and_parse(runtime: &tokio::runtime::Runtime, client: &CmClient, count: usize) -> bool {
    println!("(a) fetch and parse");
    let mut met = true;
    let mut all = Vec::new();
    let mut list = Vec::new();
    for _ in 0..FETCH_RUNS {
        let start = Instant::now();
        list = runtime
            .block_on(client.list_requests(None))
            .expect("the list");
        all.push(start.elapsed());
    }
    assert_eq!(list.len(), count, "every request came back");
    met &= line(
        &format!("GET requests (all {count}): HTTP + JSON + model"),
        &mut all,
        Some(1000.0),
    );
    let mut open = Vec::new();
    let mut shown = 0;
    for _ in 0..FETCH_RUNS {
        let start = Instant::now();
        shown = runtime.block_on(fetch_open(client)).len();
        open.push(start.elapsed());
    }
    met &= line(
        &format!("window's Open query (3 calls, merged, sorted: {shown})"),
        &mut open,
        Some(1000.0),
    );
    breakdown(runtime, client, count);
    list.sort_by(Request::list_order);
    let mut index = Vec::new();
    for _ in 0..FETCH_RUNS {
        let start = Instant::now();
        let built = SearchIndex::build(&list);
        index.push(start.elapsed());
        drop(built);
    }
    line(
        "search index build (worker, off the UI thread)",
        &mut index,
        None,
    );
    let index = Arc::new(SearchIndex::build(&list));
    let mut state = StationState::default();
    for sort in [
        None,
        Some(Sort {
            column: Column::Target,
            descending: false,
        }),
    ] {
        state.view.set_sort(&state.requests, sort);
        let mut load = Vec::new();
        for _ in 0..FETCH_RUNS {
            let report = Report::RequestsIndexed {
                query: state.query,
                requests: list.clone(),
                index: Arc::clone(&index),
            };
            let start = Instant::now();
            state.apply(report);
            load.push(start.elapsed());
        }
        let what = match sort {
            None => "list swapped in on the UI thread (apply; old list dropped)",
            Some(_) => "same, sorted by Target",
        };
        line(what, &mut load, None);
    }
    let mut view = RequestView::default();
    view.load(&list);
    for (query, what) in [
        ("a", "one letter (matches nearly all)"),
        ("müller", "a name"),
        ("finance e12", "two terms"),
        ("zzzz", "nothing"),
    ] {
        let mut times = Vec::new();
        for _ in 0..9 {
            view.set_search("");
            let start = Instant::now();
            view.set_search(query);
            times.push(start.elapsed());
        }
        line(
            &format!("filter alone, {what}: {} rows", view.rows().len()),
            &mut times,
            None,
        );
    }
    met
}

/// Where the time of one `GET requests` goes: the emulator and HTTP, then
/// each parsing step on the body alone.
fn breakdown(runtime: &tokio::runtime::Runtime, client: &CmClient, count: usize) {
    let url = format!("{}requests", client.api_base());
    let http = reqwest::Client::new();
    let mut transfer = Vec::new();
    let mut body = Vec::new();
    for _ in 0..FETCH_RUNS {
        let start = Instant::now();
        body = runtime
            .block_on(async { http.get(&url).send().await?.bytes().await })
            .expect("the body")
            .to_vec();
        transfer.push(start.elapsed());
    }
    line(
        &format!(
            "  of which emulator + HTTP ({} MB body)",
            body.len() / 1_000_000
        ),
        &mut transfer,
        None,
    );
    let text = std::str::from_utf8(&body).expect("UTF-8");
    let (mut split, mut wire, mut model) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..FETCH_RUNS {
        let start = Instant::now();
        let items: Vec<&serde_json::value::RawValue> =
            serde_json::from_str(text).expect("an array");
        split.push(start.elapsed());
        let start = Instant::now();
        let wires: Vec<WireRequest> = items
            .iter()
            .filter_map(|item| serde_json::from_str(item.get()).ok())
            .collect();
        wire.push(start.elapsed());
        let start = Instant::now();
        let requests: Vec<Request> = wires
            .into_iter()
            .filter_map(|w| Request::try_from(w).ok())
            .collect();
        model.push(start.elapsed());
        assert_eq!(requests.len(), count);
    }
    line("  of which splitting the JSON array", &mut split, None);
    line("  of which JSON entries → wire model", &mut wire, None);
    line("  of which wire model → domain requests", &mut model, None);
}

fn window(client: CmClient, runtime: &tokio::runtime::Runtime) -> Harness<'static, StationApp> {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let journal =
        enroll_station::audit::journal::open_shared(Some(&dir.path().join("audit.jsonl")), true)
            .expect("journal");
    // The journal stays open through its handle; the folder may go.
    std::mem::forget(dir);
    let setup = StationSetup {
        client,
        runtime: runtime.handle().clone(),
        demo: None,
        watch_pcsc: false,
        journal,
        reader_filter: Default::default(),
        card_reader: Default::default(),
        config_path: None,
        config: Default::default(),
        overrides: Default::default(),
        mode: Default::default(),
        supervisors: Arc::new(enroll_station::supervisors::SupervisorStore::from_config(
            &[],
        )),
        refresh_interval: Duration::from_secs(3600),
        people: None,
    };
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| StationApp::new(&cc.egui_ctx, setup))
}

/// The frame's own CPU time, and the tessellation of its shapes.
fn timed_step(harness: &mut Harness<'static, StationApp>) -> (Duration, Duration) {
    let start = thread_cpu();
    harness.step();
    let frame = thread_cpu() - start;
    let shapes = harness.output().shapes.clone();
    let ppp = harness.output().pixels_per_point;
    let start = thread_cpu();
    let primitives = harness.ctx.tessellate(shapes, ppp);
    let tessellate = thread_cpu() - start;
    drop(primitives);
    (frame, tessellate)
}

fn scroll_and_search(runtime: &tokio::runtime::Runtime, client: CmClient) -> bool {
    let mut harness = window(client, runtime);
    let opened = Instant::now();
    while harness.state().state().loading || harness.state().state().requests.is_empty() {
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            opened.elapsed() < Duration::from_secs(60),
            "the window shows the list"
        );
    }
    let loaded = opened.elapsed();
    harness.run_steps(3);
    let shown = harness.state().state().view.rows().len();
    println!(
        "(b) scrolling the table ({shown} rows shown; the window had them {:.0} ms after it opened)",
        loaded.as_secs_f64() * 1000.0
    );
    let centre = egui::pos2(450.0, 450.0);
    harness.hover_at(centre);
    harness.step();
    let first_row = {
        let state = harness.state().state();
        let row = state.view.rows()[0] as usize;
        enroll_station::app::request_filter::request_title(&state.requests[row])
    };
    let shown =
        |h: &Harness<'static, StationApp>| h.query_all_by_label(&first_row).next().is_some();
    assert!(
        shown(&harness),
        "the first row is on screen before scrolling"
    );
    let mut frames = Vec::new();
    let mut tessellation = Vec::new();
    let mut whole = Vec::new();
    for i in 0..SCROLL_FRAMES {
        // Down most of the way, then a burst back up.
        let dy = if i % 50 < 40 { -120.0 } else { 240.0 };
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, dy),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
            source: egui::MouseWheelSource::Wheel,
        });
        let (frame, tess) = timed_step(&mut harness);
        frames.push(frame);
        tessellation.push(tess);
        whole.push(frame + tess);
        if i == 39 {
            assert!(!shown(&harness), "the wheel scrolled the first row away");
        }
    }
    let mut met = line("frame: the window's UI pass (CPU)", &mut frames, Some(4.0));
    line("tessellation of that frame (CPU)", &mut tessellation, None);
    line("UI pass + tessellation (CPU)", &mut whole, Some(4.0));

    println!("(c) keystroke in the search box to the filtered list");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    harness.run_steps(2);
    let mut keys = Vec::new();
    let mut keys_wall = Vec::new();
    let word = "müller fin";
    for _ in 0..4 {
        let mut typed = String::new();
        for c in word.chars() {
            typed.push(c);
            harness.event(egui::Event::Text(c.to_string()));
            let wall = Instant::now();
            let (frame, _) = timed_step(&mut harness);
            keys_wall.push(wall.elapsed());
            keys.push(frame);
            assert_eq!(
                harness.state().state().view.search(),
                typed,
                "the keystroke reached the search"
            );
        }
        for _ in 0..word.chars().count() {
            typed.pop();
            harness.key_press(egui::Key::Backspace);
            let wall = Instant::now();
            let (frame, _) = timed_step(&mut harness);
            keys_wall.push(wall.elapsed());
            keys.push(frame);
            assert_eq!(harness.state().state().view.search(), typed);
        }
    }
    met &= line(
        "keystroke → filtered list drawn (UI thread CPU)",
        &mut keys,
        Some(16.0),
    );
    line("same, wall clock (2 shared cores)", &mut keys_wall, None);
    met
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` also runs bench binaries, without `--bench`.
    if !args.iter().any(|a| a == "--bench") {
        println!("p3_request_list: a benchmark; run it with `cargo bench --bench p3_request_list`");
        return ExitCode::SUCCESS;
    }
    let count = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(DEFAULT_REQUESTS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let start = Instant::now();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            requests: count,
            ..EmulatorConfig::default()
        }))
        .expect("the emulator starts on loopback");
    println!(
        "P3 request list: {count} requests from the CM emulator at {} (demo data generated in {:.0} ms)",
        emulator.base_url(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    let client = CmClient::new(&ClientConfig::new(emulator.base_url())).expect("client");
    let only = |name: &str| {
        let picked: Vec<&String> = args
            .iter()
            .filter(|a| *a == "fetch" || *a == "window")
            .collect();
        picked.is_empty() || picked.iter().any(|a| *a == name)
    };
    let mut met = true;
    if only("fetch") {
        met &= fetch_and_parse(&runtime, &client, count);
    }
    if only("window") {
        met &= scroll_and_search(&runtime, client);
    }
    println!(
        "  all goals (medians): {}",
        if met { "met" } else { "NOT met" }
    );
    drop(emulator);
    ExitCode::SUCCESS
}
