//! The SQL leakline sends to ClickHouse: column expressions by type, the time range, and the
//! "certainly ours" predicate that splits the rows between the external query (rows sent)
//! and the per-minute `GROUP BY` (rows only counted).
//!
//! Only functions that exist on ClickHouse 18.16 (Debian's package) and on current servers
//! are used, and none that throws on bad input in newer versions (`IPv4StringToNum` does
//! since 22.x): addresses in `String` columns are tested with RE2 `match` against a regex
//! built here for each range, which accepts exactly the strict textual forms leakline's own
//! parser reads the same way (dotted quads without leading zeros; IPv6 without a zone or an
//! embedded IPv4). A row the regexes cannot decide is sent and decided locally: the
//! predicate may call fewer rows ours than the local rule does, never more.

use std::fmt::Write as _;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What a column's ClickHouse type is, for leakline's purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `DateTime`, `DateTime('zone')`, `DateTime64(…)`.
    DateTime,
    /// `UInt*`.
    Unsigned,
    /// `Int*`.
    Signed,
    /// `Float*`, `Decimal*`.
    Float,
    /// `IPv4` (a domain over `UInt32`; 19.3+).
    Ipv4,
    /// `IPv6` (19.3+), or `FixedString(16)` (18.16 stores IPv6 there).
    Ipv6,
    /// `String`, `FixedString(n)`, `Enum*`, anything else (read as text).
    Text,
}

/// One column as the probe reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub kind: ColumnKind,
    pub nullable: bool,
    /// The type as the server wrote it.
    pub type_name: String,
}

impl Column {
    /// Read a type name as the server writes it (`Nullable(LowCardinality(String))`, …).
    #[must_use]
    pub fn from_type(type_name: &str) -> Column {
        let mut t = type_name.trim();
        let mut nullable = false;
        loop {
            if let Some(inner) = t.strip_prefix("Nullable(").and_then(|s| s.strip_suffix(')')) {
                nullable = true;
                t = inner;
            } else if let Some(inner) =
                t.strip_prefix("LowCardinality(").and_then(|s| s.strip_suffix(')'))
            {
                t = inner;
            } else {
                break;
            }
        }
        let kind = if t.starts_with("DateTime") {
            ColumnKind::DateTime
        } else if t.starts_with("UInt") {
            ColumnKind::Unsigned
        } else if t.starts_with("Int") {
            ColumnKind::Signed
        } else if t.starts_with("Float") || t.starts_with("Decimal") {
            ColumnKind::Float
        } else if t == "IPv4" {
            ColumnKind::Ipv4
        } else if t == "IPv6" || t == "FixedString(16)" {
            ColumnKind::Ipv6
        } else {
            ColumnKind::Text
        };
        Column { kind, nullable, type_name: type_name.trim().to_string() }
    }
}

/// A column name as an identifier (backquoted; a backquote or backslash in it escaped).
#[must_use]
pub fn ident(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    s.push('`');
    for c in name.chars() {
        if matches!(c, '`' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('`');
    s
}

/// A string literal (single quotes; backslash and quote escaped).
#[must_use]
pub fn literal(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('\'');
    for c in text.chars() {
        if matches!(c, '\'' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('\'');
    s
}

/// The expression selected for a mapped field: times as epoch seconds, numeric addresses as
/// text; everything else as stored.
#[must_use]
pub fn select_expr(name: &str, col: &Column, is_time: bool, is_address: bool) -> String {
    let id = ident(name);
    match col.kind {
        ColumnKind::DateTime if is_time => format!("toUnixTimestamp({id})"),
        ColumnKind::Ipv4 => format!("IPv4NumToString({id})"),
        ColumnKind::Unsigned if is_address => format!("IPv4NumToString({id})"),
        ColumnKind::Ipv6 => format!("IPv6NumToString({id})"),
        _ => id,
    }
}

/// The address column as text for the range regexes (`''` for NULL).
#[must_use]
pub fn address_text(name: &str, col: &Column) -> String {
    let e = select_expr(name, col, false, true);
    let e = if matches!(col.kind, ColumnKind::Text) { format!("toString({e})") } else { e };
    if col.nullable { format!("ifNull({e}, '')") } else { e }
}

/// One decimal octet, strict (no leading zero), as `std` and leakline parse it.
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/// A regex matching exactly the dotted quads inside `net`.
#[must_use]
pub fn ipv4_regex(net: &Ipv4Net) -> String {
    let octets = net.network().octets();
    let len = u32::from(net.prefix_len());
    let mut parts = Vec::with_capacity(4);
    for (i, &o) in octets.iter().enumerate() {
        let fixed = len.saturating_sub(8 * i as u32).min(8);
        parts.push(match fixed {
            8 => o.to_string(),
            0 => OCTET.to_string(),
            bits => {
                let span = 1u16 << (8 - bits);
                let lo = u16::from(o);
                let values: Vec<String> = (lo..lo + span).map(|v| v.to_string()).collect();
                format!("(?:{})", values.join("|"))
            }
        });
    }
    format!("^{}$", parts.join("\\."))
}

/// A regex matching the valid IPv6 texts (1–4 hex digits per group, at most one `::`), with
/// no zone and no embedded IPv4.
#[must_use]
pub fn ipv6_strict_regex() -> String {
    const H: &str = "[0-9a-fA-F]{1,4}";
    let groups = |n: usize| -> String {
        match n {
            0 => String::new(),
            1 => H.to_string(),
            _ => format!("{H}(?::{H}){{{}}}", n - 1),
        }
    };
    let mut alts = vec![groups(8)];
    for left in 0..=7 {
        for right in 0..=(7 - left) {
            alts.push(format!("{}::{}", groups(left), groups(right)));
        }
    }
    format!("^(?:{})$", alts.join("|"))
}

/// A regex that, on a valid IPv6 text (see [`ipv6_strict_regex`]), matches only addresses
/// inside `net`: the network's leading groups written out (zero-padded or not, any case);
/// a partly fixed group must be written with its four digits. Compressed forms that hide
/// fixed groups do not match (they are sent and decided locally), except the network's
/// canonical text for a single address (`::1`).
#[must_use]
pub fn ipv6_prefix_regex(net: &Ipv6Net) -> String {
    let segs = net.network().segments();
    let len = usize::from(net.prefix_len());
    let mut re = String::from("^(?i)(?:");
    for (i, &g) in segs.iter().enumerate().take(len / 16) {
        let hex = format!("{g:x}");
        let sep = if i == 7 { "$" } else { ":" };
        if g == 0 {
            let _ = write!(re, "0{{1,4}}{sep}");
        } else {
            let _ = write!(re, "0{{0,{}}}{hex}{sep}", 4 - hex.len());
        }
    }
    let bits = len % 16;
    if bits > 0 {
        let g = segs[len / 16];
        let nibbles = bits.div_ceil(4);
        let top = u32::from(g) >> (16 - 4 * nibbles);
        let span = 1u32 << (4 * nibbles - bits);
        let values: Vec<String> = (top..top + span).map(|v| format!("{v:0nibbles$x}")).collect();
        let _ = write!(re, "(?:{})[0-9a-f]{{{}}}(?::|$)", values.join("|"), 4 - nibbles);
    }
    re.push(')');
    if len == 128 {
        let _ = write!(re, "|^(?i){}$", net.network().to_string().replace('.', "\\."));
    }
    re
}

/// Whether `net` may hold IPv4-mapped addresses (`::ffff:a.b.c.d`), which leakline treats
/// as their IPv4 address: never pushed down.
fn touches_mapped(net: &Ipv6Net) -> bool {
    let mapped: Ipv6Net = "::ffff:0:0/96".parse().expect("constant");
    net.contains(&mapped.network()) || mapped.contains(&net.network())
}

/// `1` when the text `expr` is an address inside one of `nets`, by the regexes above
/// (`None` when no range can be pushed down).
#[must_use]
pub fn in_ranges(expr: &str, nets: &[IpNet]) -> Option<String> {
    let mut terms = Vec::new();
    let mut strict = None;
    for net in nets {
        match net {
            IpNet::V4(n) => terms.push(format!("match({expr}, {})", literal(&ipv4_regex(n)))),
            IpNet::V6(n) if !touches_mapped(n) => {
                let strict = strict.get_or_insert_with(|| literal(&ipv6_strict_regex())).clone();
                terms.push(format!(
                    "(match({expr}, {strict}) AND match({expr}, {}))",
                    literal(&ipv6_prefix_regex(n))
                ));
            }
            IpNet::V6(_) => {}
        }
    }
    (!terms.is_empty()).then(|| format!("({})", terms.join(" OR ")))
}

/// A condition that a numeric field reads locally as a valid value (status: at most three
/// digits; bytes: a `u64`); `None` when every value of the type does.
#[must_use]
pub fn valid_number(name: &str, col: &Column, max_digits: usize) -> Option<String> {
    let id = ident(name);
    let cond = match col.kind {
        ColumnKind::Unsigned if max_digits <= 3 => format!("{id} <= 999"),
        ColumnKind::Unsigned => return None,
        ColumnKind::Signed if max_digits <= 3 => format!("({id} >= 0 AND {id} <= 999)"),
        ColumnKind::Signed => format!("{id} >= 0"),
        _ => format!(
            "match(toString({id}), {})",
            literal(&format!("^(?:-|[0-9]{{1,{max_digits}}})?$"))
        ),
    };
    Some(if col.nullable { format!("({id} IS NULL OR {cond})") } else { cond })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap()
    }

    #[test]
    fn ipv4_regexes_match_exactly_the_range() {
        for cidr in ["10.0.0.0/8", "172.16.0.0/12", "192.168.1.128/25", "127.0.0.1/32", "0.0.0.0/0"]
        {
            let net: Ipv4Net = cidr.parse().unwrap();
            let r = re(&ipv4_regex(&net));
            for probe in [
                "10.1.2.3",
                "11.0.0.1",
                "172.16.0.1",
                "172.31.255.255",
                "172.32.0.1",
                "192.168.1.127",
                "192.168.1.128",
                "192.168.1.255",
                "127.0.0.1",
                "127.0.0.2",
                "8.8.8.8",
                "010.0.0.1",
                "10.0.0.1:80",
                " 10.0.0.1",
                "10.0.0",
                "256.0.0.1",
            ] {
                let parsed = probe.parse::<std::net::Ipv4Addr>().ok();
                let expected = parsed.is_some_and(|ip| net.contains(&ip));
                assert_eq!(r.is_match(probe), expected, "{cidr} {probe}");
            }
        }
    }

    #[test]
    fn ipv6_regexes_never_say_more_than_the_range() {
        let strict = re(&ipv6_strict_regex());
        for cidr in ["fc00::/7", "fe80::/10", "::1/128", "2001:db8::/32", "2001:db8:0:1::/64"] {
            let net: Ipv6Net = cidr.parse().unwrap();
            let prefix = re(&ipv6_prefix_regex(&net));
            for probe in [
                "fc00::1",
                "fd12:3456::1",
                "FD12:3456::1",
                "fe80::1",
                "febf::1",
                "fec0::1",
                "::1",
                "0:0:0:0:0:0:0:1",
                "2001:db8::5",
                "2001:0db8:0:0:0:0:0:5",
                "2001:db8:0:1::7",
                "2001:db8:0:2::7",
                "2001:db9::1",
                "::",
                "1::",
                "fc00:::1",
                "::ffff:10.0.0.1",
                "fe80::1%eth0",
                "::2",
            ] {
                let says = strict.is_match(probe) && prefix.is_match(probe);
                let truth =
                    probe.parse::<std::net::Ipv6Addr>().ok().is_some_and(|ip| net.contains(&ip));
                assert!(!says || truth, "{cidr} {probe}: the regex says inside, it is not");
                // The common spellings are pushed down.
                if ["fc00::1", "fd12:3456::1", "fe80::1", "::1", "2001:db8::5", "2001:db8:0:1::7"]
                    .contains(&probe)
                    && truth
                {
                    assert!(says, "{cidr} {probe}: should be pushed down");
                }
            }
        }
        assert!(!strict.is_match("1.2.3.4"));
        assert!(strict.is_match("1:2:3:4:5:6:7:8"));
        assert!(!strict.is_match("1:2:3:4:5:6:7:8:9"));
    }

    #[test]
    fn types_and_predicates() {
        let c = Column::from_type("Nullable(LowCardinality(String))");
        assert_eq!((c.kind, c.nullable), (ColumnKind::Text, true));
        assert_eq!(Column::from_type("DateTime('UTC')").kind, ColumnKind::DateTime);
        assert_eq!(Column::from_type("FixedString(16)").kind, ColumnKind::Ipv6);
        let nets: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::/0".parse().unwrap()];
        let p = in_ranges("`ip`", &nets).unwrap();
        assert!(p.starts_with("(match(`ip`, '^10\\\\.") && !p.contains("OR"), "{p}");
        assert_eq!(in_ranges("`ip`", &nets[1..]), None);
        assert_eq!(ident("a`b"), "`a\\`b`");
        assert_eq!(literal("it's"), "'it\\'s'");
    }
}
