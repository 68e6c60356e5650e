//! An empty eframe window with the station's renderer and window size: the
//! memory floor P5 compares the station with (`benches/p5_startup.rs`).
//! Under Xvfb, Mesa's software OpenGL (llvmpipe) alone holds tens of MB, so
//! the station's own share is its memory above this floor.

fn main() -> eframe::Result {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .init();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Empty window")
            .with_inner_size([1200.0, 760.0]),
        ..Default::default()
    };
    eframe::run_ui_native("Empty window", options, |ui, _frame| {
        static FIRST_FRAME: std::sync::Once = std::sync::Once::new();
        FIRST_FRAME.call_once(|| tracing::info!("first frame"));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("An empty window");
        });
    })
}
