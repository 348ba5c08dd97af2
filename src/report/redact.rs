//! Secret redaction: a pure library over strings, used by every writer of files or streams
//! (reports, `analyze`, `watch --headless`, the journal's copies of evidence).
//!
//! A secret is replaced by a stable marker `[REDACTED:<kind>:<hash6>]`, where `hash6` is the
//! first six hex digits of a keyed SHA-256 of the secret: the same secret always gets the same
//! marker (so responders can see that two requests used one token) without the marker revealing
//! it. Redaction is idempotent: markers are never redacted again.
//!
//! What is recognised (see [`SecretKind`]): secret-named query/path parameters, bearer tokens,
//! AWS access key ids, `sk-`-style and other prefixed API keys, JWTs, and userinfo in URLs.
//! The scanner is hand-written and single-pass per rule; strings with no trigger byte are not
//! copied, so running it on every string of a report is cheap.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod apply;

pub use apply::{redact_event, redact_request, redact_scan, redact_snapshot};

/// The kinds of secret the redactor recognises. The `as_str` name appears in markers and in
/// the per-kind counts recorded in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// The value of a query or path parameter with a secret-like name (`token=`, `api_key=`…).
    Param,
    /// `Bearer <token>` (HTTP authorization scheme).
    Bearer,
    /// AWS access key id (`AKIA…`, `ASIA…`: 20 upper-case alphanumerics).
    AwsKey,
    /// Prefixed API keys: `sk-…`, `sk_live_…`, `ghp_…`, `github_pat_…`, `xoxb-…`, `hf_…`.
    ApiKey,
    /// A JSON Web Token (`eyJ….eyJ….sig`).
    Jwt,
    /// Userinfo in a URL (`https://user:pass@host`).
    BasicAuth,
}

impl SecretKind {
    /// Every kind, in declaration (and report) order.
    pub const ALL: [SecretKind; 6] = [
        SecretKind::Param,
        SecretKind::Bearer,
        SecretKind::AwsKey,
        SecretKind::ApiKey,
        SecretKind::Jwt,
        SecretKind::BasicAuth,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Param => "param",
            SecretKind::Bearer => "bearer",
            SecretKind::AwsKey => "aws_key",
            SecretKind::ApiKey => "api_key",
            SecretKind::Jwt => "jwt",
            SecretKind::BasicAuth => "basic_auth",
        }
    }
}

/// How many secrets of each kind were replaced (occurrences, not distinct secrets).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RedactionCounts(pub BTreeMap<SecretKind, u64>);

impl RedactionCounts {
    pub fn add(&mut self, kind: SecretKind) {
        *self.0.entry(kind).or_insert(0) += 1;
    }

    /// Total replacements over all kinds.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.values().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// Fold another set of counts into this one.
    pub fn merge(&mut self, other: &RedactionCounts) {
        for (kind, n) in &other.0 {
            *self.0.entry(*kind).or_insert(0) += n;
        }
    }
}

/// The marker prefix; text starting with it is never redacted again.
pub const MARKER_PREFIX: &str = "[REDACTED:";

/// Parameter names (lower-case, `-` folded to `_`) whose values are always secrets.
const SECRET_PARAMS: &[&str] = &[
    "key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "auth_token",
    "authorization",
    "sig",
    "signature",
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "client_secret",
    "session",
    "sessionid",
    "jsessionid",
    "phpsessid",
    "x_amz_signature",
    "x_amz_credential",
    "x_amz_security_token",
    "x_goog_signature",
    "code",
];

/// Name suffixes that make a parameter secret (`private_token`, `x_api_key`, `db_password`).
const SECRET_SUFFIXES: &[&str] = &["_token", "_key", "apikey", "_secret", "_password", "_sig"];

/// Prefixes of API keys recognised as a whole word, with the minimum length of what follows.
const KEY_PREFIXES: &[(&str, usize)] = &[
    ("sk-", 20),
    ("sk_live_", 16),
    ("sk_test_", 16),
    ("rk_live_", 16),
    ("ghp_", 30),
    ("gho_", 30),
    ("ghs_", 30),
    ("github_pat_", 30),
    ("glpat-", 20),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("hf_", 30),
];

/// The shortest word `KEY_PREFIXES` can match (a prefix plus its minimum tail).
const MIN_PREFIXED_KEY_LEN: usize = 23;

/// AWS access key id prefixes (the 4-letter "unique identifier" prefixes).
const AWS_PREFIXES: &[&str] =
    &["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA"];

/// Replaces secrets with stable markers. Cheap to clone; holds only the hashing key.
#[derive(Debug, Clone)]
pub struct Redactor {
    key: Vec<u8>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

impl Redactor {
    /// A redactor with the built-in key: markers are stable across runs and cases.
    #[must_use]
    pub fn new() -> Self {
        Redactor { key: b"leakline.redact/1".to_vec() }
    }

    /// A redactor whose markers are keyed by `key` (for example a case id), so markers of
    /// one case cannot be matched against guesses computed without the key.
    #[must_use]
    pub fn with_key(key: &[u8]) -> Self {
        let mut k = b"leakline.redact/1:".to_vec();
        k.extend_from_slice(key);
        Redactor { key: k }
    }

    /// The marker for `secret` of `kind`.
    #[must_use]
    pub fn marker(&self, kind: SecretKind, secret: &str) -> String {
        let mut h = Sha256::new();
        h.update((self.key.len() as u64).to_le_bytes());
        h.update(&self.key);
        h.update(secret.as_bytes());
        let digest = h.finalize();
        let short = hex::encode(&digest[..3]);
        format!("{MARKER_PREFIX}{}:{short}]", kind.as_str())
    }

    /// Redact `text`, counting replacements into `counts`. Borrowed when nothing was found.
    pub fn redact<'a>(&self, text: &'a str, counts: &mut RedactionCounts) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for rule in [Rule::UrlUserinfo, Rule::Words, Rule::Bearer, Rule::Params, Rule::PathSegments]
        {
            if let Some(changed) = self.apply(rule, &out, counts) {
                out = Cow::Owned(changed);
            }
        }
        out
    }

    /// Redact a `String` in place (no allocation when it holds no secret).
    pub fn redact_string(&self, text: &mut String, counts: &mut RedactionCounts) {
        if let Cow::Owned(new) = self.redact(text, counts) {
            *text = new;
        }
    }

    /// Run one rule; `None` when it found nothing.
    fn apply(&self, rule: Rule, text: &str, counts: &mut RedactionCounts) -> Option<String> {
        let spans = match rule {
            Rule::UrlUserinfo => find_userinfo(text),
            Rule::Words => find_words(text),
            Rule::Bearer => find_bearer(text),
            Rule::Params => find_params(text),
            Rule::PathSegments => find_path_segments(text),
        };
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 16 * spans.len());
        let mut last = 0;
        for (start, end, kind) in spans {
            out.push_str(&text[last..start]);
            out.push_str(&self.marker(kind, &text[start..end]));
            counts.add(kind);
            last = end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }
}

#[derive(Debug, Clone, Copy)]
enum Rule {
    UrlUserinfo,
    Words,
    Bearer,
    Params,
    PathSegments,
}

/// A secret found at `text[start..end]`; spans are sorted and disjoint.
type Span = (usize, usize, SecretKind);

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Bytes that may appear in a token value (base64, base64url, hex, JWT).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~' | b'+' | b'/' | b'=')
}

/// Bytes that end a parameter value.
fn ends_value(b: u8) -> bool {
    matches!(b, b'&' | b';' | b'#' | b'"' | b'\'' | b'<' | b'>' | b',' | b'`' | b'|' | b'\\')
        || b.is_ascii_whitespace()
        || b.is_ascii_control()
}

fn is_marker_at(text: &str, at: usize) -> bool {
    text.as_bytes()[at..].starts_with(MARKER_PREFIX.as_bytes())
}

/// `scheme://userinfo@host`: the userinfo.
fn find_userinfo(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for sep in memchr::memmem::find_iter(bytes, b"://") {
        let start = sep + 3;
        let mut end = start;
        let mut at = None;
        while end < bytes.len() {
            let b = bytes[end];
            // `[` ends the search too: it never occurs in a userinfo (RFC 3986 requires it
            // percent-encoded there), it opens an IPv6 host only after the `@`, and it starts
            // a redaction marker that replaced an earlier delimiter such as `?` — without it, a
            // second pass would read `://token=[REDACTED:…]&@` as credentials.
            if matches!(b, b'/' | b'?' | b'#' | b'"' | b'<' | b'>' | b'`' | b'\\' | b'[')
                || b.is_ascii_whitespace()
                || b.is_ascii_control()
            {
                break;
            }
            if b == b'@' {
                at = Some(end);
            }
            end += 1;
        }
        if let Some(at) = at
            && at > start
            && !is_marker_at(text, start)
            && spans.last().is_none_or(|s: &Span| s.1 <= start)
        {
            spans.push((start, at, SecretKind::BasicAuth));
        }
    }
    spans
}

/// Whole-word secrets: AWS key ids, prefixed API keys, JWTs.
fn find_words(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word_byte(bytes[i]) {
            i += 1;
        }
        // Dispatch on the first byte and length so ordinary words cost one comparison.
        let word = &text[start..i];
        match bytes[start] {
            b'e' => {
                if let Some(end) = jwt_end(bytes, start, i) {
                    spans.push((start, end, SecretKind::Jwt));
                    i = end;
                }
            }
            b'A' if word.len() == 20 && is_aws_key(word) => {
                spans.push((start, i, SecretKind::AwsKey));
            }
            b's' | b'r' | b'g' | b'x' | b'h'
                if word.len() >= MIN_PREFIXED_KEY_LEN && is_prefixed_key(word) =>
            {
                spans.push((start, i, SecretKind::ApiKey));
            }
            _ => {}
        }
    }
    spans
}

/// A JWT starting at the word `bytes[start..word_end]`: `eyJ<b64url>.<b64url>.<b64url>`
/// (the signature may be empty for `alg: none`). Returns the end of the token.
fn jwt_end(bytes: &[u8], start: usize, word_end: usize) -> Option<usize> {
    let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    if !bytes[start..word_end].starts_with(b"eyJ") || word_end - start < 10 {
        return None;
    }
    let mut end = word_end;
    for part in 0..2 {
        if end >= bytes.len() || bytes[end] != b'.' {
            return None;
        }
        let seg_start = end + 1;
        end = seg_start;
        while end < bytes.len() && b64(bytes[end]) {
            end += 1;
        }
        if part == 0 && end - seg_start < 4 {
            return None;
        }
    }
    Some(end)
}

fn is_aws_key(word: &str) -> bool {
    word.len() == 20
        && AWS_PREFIXES.iter().any(|p| word.starts_with(p))
        && word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn is_prefixed_key(word: &str) -> bool {
    KEY_PREFIXES.iter().any(|(prefix, min)| {
        word.strip_prefix(prefix).is_some_and(|rest| {
            rest.len() >= *min && rest.bytes().any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        })
    })
}

/// `Bearer <token>` (case-insensitive; separated by spaces, `+` or `%20`).
fn find_bearer(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 6 <= bytes.len() {
        let Some(pos) = memchr::memchr2(b'b', b'B', &bytes[i..]) else { break };
        let at = i + pos;
        i = at + 1;
        if at + 6 > bytes.len()
            || !bytes[at..at + 6].eq_ignore_ascii_case(b"bearer")
            || (at > 0 && bytes[at - 1].is_ascii_alphanumeric())
        {
            continue;
        }
        let mut j = at + 6;
        let sep_start = j;
        loop {
            if j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'+') {
                j += 1;
            } else if bytes[j..].starts_with(b"%20") {
                j += 3;
            } else {
                break;
            }
        }
        if j == sep_start {
            continue;
        }
        let tok_start = j;
        while j < bytes.len() && is_token_byte(bytes[j]) {
            j += 1;
        }
        if j - tok_start >= 8 {
            spans.push((tok_start, j, SecretKind::Bearer));
            i = j;
        }
    }
    spans
}

/// Whether a parameter name (as written) names a secret.
/// Runs on every `=` and path segment, so it normalizes into a stack buffer (no allocation).
fn is_secret_name(name: &str) -> bool {
    let mut buf = [0u8; 64];
    if name.is_empty() || name.len() > buf.len() {
        return false;
    }
    for (dst, b) in buf.iter_mut().zip(name.bytes()) {
        *dst = if b == b'-' || b == b'.' { b'_' } else { b.to_ascii_lowercase() };
    }
    let norm = &buf[..name.len()];
    SECRET_PARAMS.iter().any(|p| p.as_bytes() == norm)
        || SECRET_SUFFIXES.iter().any(|s| norm.ends_with(s.as_bytes()))
}

/// `name=value` where `name` is secret-like; the value is redacted.
fn find_params(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans: Vec<Span> = Vec::new();
    for eq in memchr::memchr_iter(b'=', bytes) {
        if spans.last().is_some_and(|s| s.1 > eq) {
            continue;
        }
        let mut n = eq;
        while n > 0 && (is_word_byte(bytes[n - 1]) || bytes[n - 1] == b'.') {
            n -= 1;
        }
        // `[` of a marker or a word glued to other text is not a parameter name boundary we trust
        // less than any other: any byte is accepted before the name.
        let name = &text[n..eq];
        if !is_secret_name(name) {
            continue;
        }
        let start = eq + 1;
        if start >= bytes.len() || is_marker_at(text, start) {
            continue;
        }
        let mut end = start;
        while end < bytes.len() && !ends_value(bytes[end]) {
            end += 1;
        }
        if end > start {
            spans.push((start, end, SecretKind::Param));
        }
    }
    spans
}

/// `/name/value` path segments where `name` is secret-like and `value` looks like a secret
/// (at least 12 bytes mixing letters and digits), so `/auth/login` is left alone.
fn find_path_segments(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans: Vec<Span> = Vec::new();
    let mut slashes = memchr::memchr_iter(b'/', bytes);
    let Some(mut prev) = slashes.next() else { return spans };
    for slash in slashes {
        let name = &text[prev + 1..slash];
        prev = slash;
        if !is_secret_name(name) || is_marker_at(text, slash + 1) {
            continue;
        }
        let start = slash + 1;
        let mut end = start;
        while end < bytes.len()
            && bytes[end] != b'/'
            && bytes[end] != b'?'
            && !ends_value(bytes[end])
        {
            end += 1;
        }
        let value = &bytes[start..end];
        let looks_secret = value.len() >= 12
            && value.iter().any(u8::is_ascii_digit)
            && value.iter().any(u8::is_ascii_alphabetic);
        if looks_secret {
            spans.push((start, end, SecretKind::Param));
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(s: &str) -> (String, RedactionCounts) {
        let mut c = RedactionCounts::default();
        let out = Redactor::new().redact(s, &mut c).into_owned();
        (out, c)
    }

    fn count(c: &RedactionCounts, k: SecretKind) -> u64 {
        c.0.get(&k).copied().unwrap_or(0)
    }

    #[test]
    fn query_params_are_redacted_and_names_kept() {
        let (out, c) = red("/v1/models?api_key=abc123&x=1&Access-Token=zzz;sig=QQ#frag");
        assert!(out.starts_with("/v1/models?api_key=[REDACTED:param:"), "{out}");
        assert!(out.contains("&x=1&Access-Token=[REDACTED:param:"), "{out}");
        assert!(out.contains(";sig=[REDACTED:param:"), "{out}");
        assert!(out.ends_with("#frag"), "{out}");
        assert!(!out.contains("abc123") && !out.contains("zzz") && !out.contains("QQ"));
        assert_eq!(count(&c, SecretKind::Param), 3);
    }

    #[test]
    fn harmless_params_and_paths_are_untouched() {
        for s in ["/search?q=token&page=2", "/auth/login", "/keys/list?sort=asc", "plain text", ""]
        {
            let (out, c) = red(s);
            assert_eq!(out, s);
            assert_eq!(c.total(), 0);
        }
    }

    #[test]
    fn path_segment_secrets_need_a_secret_looking_value() {
        let (out, c) = red("/api/token/a8F3k29dLq0Zx7/info");
        assert!(out.starts_with("/api/token/[REDACTED:param:") && out.ends_with("]/info"), "{out}");
        assert_eq!(c.total(), 1);
    }

    #[test]
    fn bearer_aws_apikey_jwt_basic_auth() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU";
        let input = format!(
            "Authorization: Bearer abcdef123456 AKIAIOSFODNN7EXAMPLE sk-proj-ABCdef1234567890abcdefXYZ {jwt} https://admin:hunter2@example.com/x"
        );
        let (out, c) = red(&input);
        for secret in
            ["abcdef123456", "AKIAIOSFODNN7EXAMPLE", "sk-proj-ABC", "eyJhbGci", "hunter2", "admin:"]
        {
            assert!(!out.contains(secret), "{secret} leaked in {out}");
        }
        for k in [
            SecretKind::Bearer,
            SecretKind::AwsKey,
            SecretKind::ApiKey,
            SecretKind::Jwt,
            SecretKind::BasicAuth,
        ] {
            assert_eq!(count(&c, k), 1, "{k:?} in {out}");
        }
        assert!(out.contains("https://[REDACTED:basic_auth:"), "{out}");
        assert!(out.ends_with("]@example.com/x"), "{out}");
    }

    #[test]
    fn same_secret_same_marker_and_keys_differ() {
        let (a, _) = red("?token=s3cr3t");
        let (b, _) = red("/x?a=1&token=s3cr3t");
        let ma = &a[a.find('[').unwrap()..];
        assert!(b.ends_with(ma));
        let (c, _) = red("?token=other");
        assert!(!c.ends_with(ma));
        let keyed = Redactor::with_key(b"case-1").marker(SecretKind::Param, "s3cr3t");
        assert_ne!(keyed, ma);
    }

    #[test]
    fn redaction_is_idempotent() {
        let inputs = [
            "?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig&key=AKIAIOSFODNN7EXAMPLE",
            "Bearer    sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
            "ftp://u@h/",
            "/token/ABCDEFGH12345678?password=p",
        ];
        for s in inputs {
            let (once, _) = red(s);
            let (twice, c2) = red(&once);
            assert_eq!(once, twice, "{s}");
            assert_eq!(c2.total(), 0);
        }
    }

    #[test]
    fn secret_param_value_that_is_a_jwt_is_counted_once() {
        let (out, c) = red("/cb?access_token=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.");
        assert_eq!(c.total(), 1, "{out}");
        assert_eq!(count(&c, SecretKind::Jwt), 1);
    }

    #[test]
    fn prefix_dispatch_matches_the_key_table() {
        let shortest = KEY_PREFIXES.iter().map(|(p, min)| p.len() + min).min();
        assert_eq!(shortest, Some(MIN_PREFIXED_KEY_LEN));
        for (p, _) in KEY_PREFIXES {
            assert!(matches!(p.as_bytes()[0], b's' | b'r' | b'g' | b'x' | b'h'), "{p}");
        }
        for p in AWS_PREFIXES {
            assert!(p.starts_with('A'));
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for s in ["=", "token=", "bearer", "Bearer ", "://", "://@", "/token/", "é=ü", "a\u{0}=b"]
        {
            let _ = red(s);
        }
    }
}
