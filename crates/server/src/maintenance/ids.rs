//! Public ids: `p3` for a plan, `w7` for a window (a plan's phase), `d2` for a downtime. The
//! prefix tells operators (and `holdfast maintenance show`) which kind of thing an id names.

use holdfast_store::maintenance::{DowntimeId, PlanId, WindowId};

/// What an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyId {
    /// A plan.
    Plan(PlanId),
    /// A window.
    Window(WindowId),
    /// A downtime.
    Downtime(DowntimeId),
}

/// `p3`.
pub fn plan(id: PlanId) -> String {
    format!("p{}", id.0)
}

/// `w7`.
pub fn window(id: WindowId) -> String {
    format!("w{}", id.0)
}

/// `d2`.
pub fn downtime(id: DowntimeId) -> String {
    format!("d{}", id.0)
}

/// Reads `p3`, `w7` or `d2`; a bare number is a window.
pub fn parse(text: &str) -> Option<AnyId> {
    let text = text.trim();
    let (kind, digits) = match text.chars().next()? {
        c @ ('p' | 'w' | 'd' | 'P' | 'W' | 'D') => (c.to_ascii_lowercase(), &text[1..]),
        _ => ('w', text),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    Some(match kind {
        'p' => AnyId::Plan(PlanId(n)),
        'd' => AnyId::Downtime(DowntimeId(n)),
        _ => AnyId::Window(WindowId(n)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back() {
        assert_eq!(parse("p3"), Some(AnyId::Plan(PlanId(3))));
        assert_eq!(parse("w7"), Some(AnyId::Window(WindowId(7))));
        assert_eq!(parse("7"), Some(AnyId::Window(WindowId(7))));
        assert_eq!(parse("d2"), Some(AnyId::Downtime(DowntimeId(2))));
        assert_eq!(parse("x1"), None);
        assert_eq!(parse("p"), None);
        assert_eq!(parse("w-1"), None);
    }
}
