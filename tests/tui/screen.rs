//! Drawing the dashboard into a `TestBackend` and reading it back as text: shared by the TUI
//! tests and by the tests that check what every output (the dashboard among them) shows.

use leakline::tui::app::App;
use leakline::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

pub fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    terminal.draw(|f| view::render(app, f.area(), f.buffer_mut())).expect("draw");
    terminal
}

pub fn text_of(buf: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}
