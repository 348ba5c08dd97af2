//! The Events view's filter language (like lnav's and k9s's): whitespace-separated terms, all
//! of which must match (AND).
//!
//! - `word`: case-insensitive substring of the row's text (client, method, path, user agent,
//!   service; scans: target, tool, state, details).
//! - `field:value` with field `service`, `class`, `status`, `method` or `client`:
//!   `service:` and `client:` match a case-insensitive substring, `method:` the whole method,
//!   `class:` the start of the actor class (`class:scan` = scanner), `status:` a three-character
//!   pattern where `x` is any digit (`status:4xx`, `status:404`, `status:50x`).
//! - `2xx`, `404` alone: the same as `status:2xx`, `status:404`.
//! - `/re/` (alone or as a field's value): a regular expression, case-sensitive as written
//!   (`(?i)` makes it insensitive).
//! - `-term`: the term negated.
//!
//! Pure: parsing never panics; a bad term (unknown field, invalid regex, bad status pattern)
//! makes [`Filter::error`] say which and why.

use regex::Regex;

use crate::model::snapshot::ActorClass;
use crate::model::{Event, Request, ScanObservation};

/// What a row is matched against: the event plus what the feed knows about it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub event: &'a Event,
    /// The service of the event's source (empty when unknown).
    pub service: &'a str,
    /// The client's actor class in the latest snapshot (requests only).
    pub class: Option<ActorClass>,
}

/// The fields a term may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Service,
    Class,
    Status,
    Method,
    Client,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        match name.to_ascii_lowercase().as_str() {
            "service" => Some(Field::Service),
            "class" => Some(Field::Class),
            "status" => Some(Field::Status),
            "method" => Some(Field::Method),
            "client" => Some(Field::Client),
            _ => None,
        }
    }
}

/// How a value is compared.
#[derive(Debug, Clone)]
enum Pattern {
    /// Lower-cased; substring (or whole, for `method:`/prefix for `class:`) case-insensitive.
    Text(String),
    Regex(Regex),
    /// Three positions, `None` = any digit.
    Status([Option<u8>; 3]),
}

#[derive(Debug, Clone)]
struct Term {
    negated: bool,
    /// `None`: free text over the row.
    field: Option<Field>,
    pattern: Pattern,
}

/// A parsed filter. The empty filter matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    source: String,
    terms: Vec<Term>,
    error: Option<String>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.source == other.source
    }
}

/// `4xx`, `404`, `50x` → digit pattern.
fn status_pattern(s: &str) -> Option<[Option<u8>; 3]> {
    let b = s.as_bytes();
    if b.len() != 3 || !(b'1'..=b'5').contains(&b[0]) {
        return None;
    }
    let mut out = [None; 3];
    for (slot, &c) in out.iter_mut().zip(b) {
        *slot = match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'x' | b'X' => None,
            _ => return None,
        };
    }
    Some(out)
}

/// `/re/` → the pattern inside, if the value is written that way.
fn regex_body(s: &str) -> Option<&str> {
    (s.len() >= 2 && s.starts_with('/') && s.ends_with('/')).then(|| &s[1..s.len() - 1])
}

fn compile(body: &str) -> Result<Pattern, String> {
    Regex::new(body).map(Pattern::Regex).map_err(|e| {
        // The regex crate's message spans lines (pattern, caret, reason): keep the reason.
        let reason = e.to_string();
        let last = reason.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("invalid");
        format!("invalid regex /{body}/: {}", last.trim().trim_start_matches("error: "))
    })
}

fn parse_term(word: &str) -> Result<Term, String> {
    let (negated, body) = match word.strip_prefix('-') {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, word),
    };
    if let Some(re) = regex_body(body) {
        return Ok(Term { negated, field: None, pattern: compile(re)? });
    }
    if let Some((name, value)) = body.split_once(':') {
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()) {
            let Some(field) = Field::parse(name) else {
                if value.starts_with('/') {
                    // `http://…`: a URL, not a field.
                    return Ok(Term {
                        negated,
                        field: None,
                        pattern: Pattern::Text(body.to_lowercase()),
                    });
                }
                return Err(format!(
                    "unknown field “{name}:” (service, class, status, method, client; /re/ for a literal)"
                ));
            };
            if value.is_empty() {
                return Err(format!("“{name}:” needs a value"));
            }
            let pattern = if let Some(re) = regex_body(value) {
                compile(re)?
            } else if field == Field::Status {
                Pattern::Status(status_pattern(value).ok_or_else(|| {
                    format!("status:{value}: expected three characters like 404, 4xx or 50x")
                })?)
            } else {
                Pattern::Text(value.to_lowercase())
            };
            return Ok(Term { negated, field: Some(field), pattern });
        }
    }
    if let Some(p) = status_pattern(body)
        .filter(|p| p[1..].iter().all(Option::is_none) || p.iter().all(Option::is_some))
    {
        return Ok(Term { negated, field: Some(Field::Status), pattern: Pattern::Status(p) });
    }
    Ok(Term { negated, field: None, pattern: Pattern::Text(body.to_lowercase()) })
}

impl Filter {
    /// Parse the filter text. Never fails: a bad term is left out and [`Filter::error`] names
    /// it (the first one).
    #[must_use]
    pub fn parse(text: &str) -> Filter {
        let mut terms = Vec::new();
        let mut error = None;
        for word in text.split_whitespace() {
            match parse_term(word) {
                Ok(t) => terms.push(t),
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        Filter { source: text.trim().to_owned(), terms, error }
    }

    /// The text the filter was parsed from.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.source
    }

    /// Why a term could not be parsed, if one could not.
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether a term depends on the feed's labels (service, class), which change with
    /// snapshots.
    #[must_use]
    pub fn uses_labels(&self) -> bool {
        self.terms.iter().any(|t| matches!(t.field, Some(Field::Service | Field::Class) | None))
    }

    #[must_use]
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        self.terms.iter().all(|t| term_matches(t, s) != t.negated)
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() && needle_lower.is_ascii() {
        let h = hay.as_bytes();
        let n = needle_lower.as_bytes();
        if n.is_empty() {
            return true;
        }
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle_lower)
}

fn text_matches(pattern: &Pattern, hay: &str) -> bool {
    match pattern {
        Pattern::Text(t) => contains_ci(hay, t),
        Pattern::Regex(re) => re.is_match(hay),
        Pattern::Status(_) => false,
    }
}

fn client_text(r: &Request) -> String {
    r.client.or(r.peer).map(|ip| ip.to_string()).unwrap_or_default()
}

fn scan_texts(s: &ScanObservation) -> [String; 5] {
    [
        s.address.map(|ip| ip.to_string()).unwrap_or_default(),
        s.hostname.clone(),
        s.tool.as_str().to_owned(),
        s.state.label(s.scanner_state).to_owned(),
        s.details.clone(),
    ]
}

fn term_matches(term: &Term, s: &Subject<'_>) -> bool {
    let p = &term.pattern;
    match (term.field, s.event) {
        (None, Event::Request(r)) => {
            text_matches(p, &client_text(r))
                || text_matches(p, &r.method)
                || text_matches(p, r.path())
                || text_matches(p, &r.user_agent)
                || text_matches(p, s.service)
        }
        (None, Event::Scan(o)) => {
            scan_texts(o).iter().any(|h| text_matches(p, h)) || text_matches(p, s.service)
        }
        (Some(Field::Service), _) => text_matches(p, s.service),
        (Some(Field::Class), _) => {
            let Some(class) = s.class.map(ActorClass::as_str) else { return false };
            match p {
                Pattern::Text(t) => class.starts_with(t.as_str()),
                _ => text_matches(p, class),
            }
        }
        (Some(Field::Status), Event::Request(r)) => match p {
            Pattern::Status(digits) => {
                let actual = [r.status / 100, r.status / 10 % 10, r.status % 10];
                r.status < 1000
                    && digits.iter().zip(actual).all(|(d, a)| d.is_none_or(|d| u16::from(d) == a))
            }
            _ => text_matches(p, &r.status.to_string()),
        },
        (Some(Field::Method), Event::Request(r)) => match p {
            Pattern::Text(t) => r.method.eq_ignore_ascii_case(t),
            _ => text_matches(p, &r.method),
        },
        (Some(Field::Client), Event::Request(r)) => text_matches(p, &client_text(r)),
        (Some(Field::Client), Event::Scan(o)) => {
            text_matches(p, &scan_texts(o)[0]) || text_matches(p, &o.hostname)
        }
        (Some(Field::Status | Field::Method), Event::Scan(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Request;

    fn req(status: u16, method: &str, path: &str, ua: &str) -> Event {
        Event::Request(Request {
            status,
            method: method.to_owned(),
            target: path.to_owned(),
            user_agent: ua.to_owned(),
            client: "203.0.113.7".parse().ok(),
            ..Request::default()
        })
    }

    fn subject<'a>(e: &'a Event, service: &'a str, class: ActorClass) -> Subject<'a> {
        Subject { event: e, service, class: Some(class) }
    }

    fn hit(filter: &str, e: &Event) -> bool {
        let f = Filter::parse(filter);
        assert!(f.error().is_none(), "{filter}: {:?}", f.error());
        f.matches(&subject(e, "model-gateway", ActorClass::Tool))
    }

    #[test]
    fn free_text_is_case_insensitive_over_the_row() {
        let e = req(200, "GET", "/v1/models", "python-requests/2.32");
        assert!(hit("", &e));
        assert!(hit("MODELS", &e));
        assert!(hit("python", &e));
        assert!(hit("203.0.113", &e));
        assert!(hit("gateway", &e), "the service is part of the row's text");
        assert!(!hit("chat", &e));
        assert!(hit("models python", &e), "terms are ANDed");
        assert!(!hit("models chat", &e));
    }

    #[test]
    fn status_classes_and_exact_codes() {
        let e = req(404, "GET", "/.git/config", "");
        assert!(hit("status:4xx", &e));
        assert!(hit("status:404", &e));
        assert!(hit("status:40x", &e));
        assert!(hit("4xx", &e));
        assert!(hit("404", &e));
        assert!(!hit("status:2xx", &e));
        assert!(!hit("status:403", &e));
        assert!(!hit("2xx", &e));
        // A bare number that is not a status pattern stays text.
        assert!(hit("6xx", &req(500, "GET", "/6xx", "")));
        assert!(Filter::parse("status:abc").error().is_some());
        assert!(Filter::parse("status:4044").error().is_some());
    }

    #[test]
    fn fields_service_class_method_client() {
        let e = req(200, "POST", "/v1/embeddings", "curl/8");
        assert!(hit("service:model", &e));
        assert!(!hit("service:admin", &e));
        assert!(hit("class:tool", &e));
        assert!(hit("class:TO", &e), "class matches a prefix");
        assert!(!hit("class:scanner", &e));
        assert!(hit("method:post", &e));
        assert!(!hit("method:pos", &e), "method matches the whole method");
        assert!(hit("client:203.0.113.7", &e));
        assert!(!hit("client:198.51", &e));
        assert!(hit("SERVICE:model-gateway", &e), "field names are case-insensitive");
    }

    #[test]
    fn negation() {
        let e = req(404, "GET", "/.git/config", "Shodan");
        assert!(hit("-2xx", &e));
        assert!(!hit("-4xx", &e));
        assert!(hit("-class:scanner", &e));
        assert!(!hit("-shodan", &e));
        assert!(hit("git -method:post", &e));
        // A lone dash is text, not an empty negation.
        let dash = Filter::parse("-");
        assert!(!dash.matches(&Subject { event: &e, service: "gw", class: None }));
        let e2 = req(200, "GET", "/a-b", "");
        assert!(dash.matches(&Subject { event: &e2, service: "gw", class: None }));
    }

    #[test]
    fn regexes_free_and_in_fields() {
        let e = req(200, "GET", "/v1/models", "python-requests/2.32");
        assert!(hit("/^python-/", &e));
        assert!(!hit("/^Python/", &e), "a regex is case-sensitive as written");
        assert!(hit("/(?i)^PYTHON/", &e));
        assert!(hit("service:/^model-/", &e));
        assert!(hit("method:/^(GET|HEAD)$/", &e));
        assert!(hit("-/chat|embeddings/", &e));
        assert!(!hit("/models$/ -2xx", &e));
        assert!(hit("status:/^2/", &e));
    }

    #[test]
    fn bad_terms_are_reported_never_panic() {
        let f = Filter::parse("models /([a-/");
        let err = f.error().unwrap_or_default();
        assert!(err.starts_with("invalid regex /([a-/"), "{err}");
        assert!(!err.contains('\n'));
        // The good terms still apply.
        assert!(!f.is_empty());
        let f = Filter::parse("sevice:x");
        assert!(f.error().is_some_and(|e| e.contains("unknown field “sevice:”")));
        assert!(Filter::parse("service:").error().is_some_and(|e| e.contains("needs a value")));
        // Colons in non-field words are text: a URL, a port.
        assert!(Filter::parse("http://x").error().is_none());
        assert!(Filter::parse("host:8080").error().is_some(), "alphabetic prefix is a field");
        assert!(Filter::parse("10.0.0.1:8080").error().is_none());
        assert!(Filter::parse("/").error().is_none());
    }

    #[test]
    fn scans_match_text_client_and_service_not_status() {
        let e = Event::Scan(ScanObservation {
            time: chrono::DateTime::UNIX_EPOCH,
            source: crate::model::SourceId(2),
            line: 9,
            address: "192.0.2.40".parse().ok(),
            hostname: String::new(),
            port: Some(443),
            transport: crate::model::Transport::Tcp,
            state: crate::model::PortState::Filtered,
            scanner_state: None,
            covered: None,
            tool: crate::model::ScanTool::Nmap,
            details: "https".to_owned(),
        });
        let s = Subject { event: &e, service: "model-gateway", class: None };
        assert!(Filter::parse("https").matches(&s));
        assert!(Filter::parse("client:192.0.2").matches(&s));
        assert!(Filter::parse("service:model").matches(&s));
        assert!(!Filter::parse("2xx").matches(&s));
        assert!(!Filter::parse("method:get").matches(&s));
        assert!(!Filter::parse("class:scanner").matches(&s));
        assert!(Filter::parse("-class:scanner").matches(&s));
    }
}
