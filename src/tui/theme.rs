//! Colours and emphasis. Every state is carried by a *word* first and colour second, so the
//! monochrome theme (`NO_COLOR`, <https://no-color.org>) loses nothing but the hue.

use ratatui::style::{Color, Modifier, Style};

/// The palette in use. `color == false` means monochrome: only bold, reverse, dim, underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// The theme for the current environment: monochrome when `NO_COLOR` is set to anything
    /// non-empty (the convention's rule).
    #[must_use]
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    #[must_use]
    pub fn new(no_color: bool) -> Theme {
        Theme { color: !no_color }
    }

    fn pick(self, colored: Style, mono: Style) -> Style {
        if self.color { colored } else { mono }
    }

    /// Something is exposed right now: the loudest style on screen.
    #[must_use]
    pub fn danger(self) -> Style {
        self.pick(
            Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
    }

    /// Red text (open windows in tables and bars) without a background.
    #[must_use]
    pub fn danger_text(self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Was exposed, now closed: attention but not alarm.
    #[must_use]
    pub fn warn(self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    #[must_use]
    pub fn warn_text(self) -> Style {
        self.pick(Style::new().fg(Color::Yellow), Style::new())
    }

    /// Nothing seen.
    #[must_use]
    pub fn ok(self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Green).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    #[must_use]
    pub fn ok_text(self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// Secondary information (units, hints, uncertain bounds).
    #[must_use]
    pub fn dim(self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new().add_modifier(Modifier::DIM))
    }

    /// Column headers and section titles.
    #[must_use]
    pub fn header(self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )
    }

    /// The selected row.
    #[must_use]
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The active tab.
    #[must_use]
    pub fn tab_active(self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    /// Internal traffic in the sparkline.
    #[must_use]
    pub fn internal(self) -> Style {
        self.pick(Style::new().fg(Color::Blue), Style::new().add_modifier(Modifier::DIM))
    }

    /// External traffic in the sparkline.
    #[must_use]
    pub fn external(self) -> Style {
        self.pick(Style::new().fg(Color::Magenta), Style::new())
    }

    /// Key names in hints and help.
    #[must_use]
    pub fn key(self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monochrome_has_no_colours() {
        let t = Theme::new(true);
        for s in [t.danger(), t.danger_text(), t.warn(), t.ok(), t.dim(), t.header(), t.key()] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert!(t.danger().add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn colour_theme_marks_danger_red() {
        let t = Theme::new(false);
        assert_eq!(t.danger().bg, Some(Color::Red));
        assert_eq!(t.danger_text().fg, Some(Color::Red));
    }
}
