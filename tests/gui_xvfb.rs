//! The real binary opens its window under Xvfb in demo mode and stays up.
//!
//! Needs `Xvfb` (Debian: xvfb) and, for the screenshot, ImageMagick's `import`.
//! Under CI (or ENROLL_STATION_REQUIRE_SERVICES) a missing Xvfb fails the test.

mod common;

use common::xvfb::{Reaped, on_path, services_required};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn screenshot(display: &str, path: &Path) -> bool {
    Command::new("import")
        .args(["-window", "root"])
        .arg(path)
        .env("DISPLAY", display)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_demo_window_opens_under_xvfb_and_stays_up() {
    if !on_path("Xvfb") {
        assert!(
            !services_required(),
            "Xvfb is required here but not installed (Debian: apt-get install xvfb)"
        );
        eprintln!("skipping: Xvfb is not installed");
        return;
    }
    let (_xvfb, display) = common::xvfb::start_xvfb();
    let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let stderr_path = log_dir.join("xvfb-demo-stderr.log");
    let stderr = std::fs::File::create(&stderr_path).expect("log file");
    // The demo journal and any configuration are the helper's, not the user's.
    let home = common::binary::StationHome::new();
    let mut station = Reaped(
        home.command()
            .arg("--demo")
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("ENROLL_STATION_LOG", "info")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the station starts"),
    );
    std::thread::sleep(Duration::from_secs(5));
    let status = station.0.try_wait().expect("process status");
    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        status.is_none(),
        "the window exited early ({status:?}); its log:\n{log}"
    );

    let shot_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shot_dir).expect("screenshot folder");
    let shot = shot_dir.join("demo-window.png");
    if on_path("import") {
        assert!(
            screenshot(&display, &shot),
            "the screenshot could not be taken"
        );
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "the screenshot is nearly empty ({size} bytes): nothing was drawn"
        );
    } else {
        assert!(
            !services_required(),
            "ImageMagick's import is required here for the screenshot"
        );
    }
}
