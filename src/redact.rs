//! Secret redaction: a pure library over strings, used by every writer of files or streams
//! (reports, `analyze`, `watch --headless`, the journal's copies of evidence).
//!
//! A secret is replaced by a stable marker `[REDACTED:<kind>:<hash6>]`, where `hash6` is the
//! first six hex digits of a keyed SHA-256 of the secret: the same secret always gets the same
//! marker (so responders can see that two requests used one token) without the marker revealing
//! it. Redaction is idempotent: markers are never redacted again.
//!
//! What is recognised (see [`SecretKind`]): secret-named query/path parameters (names matched
//! case-insensitively with camelCase, brackets, `-` and `.` folded to `_`: `accessToken`,
//! `user[password]`, `X-Api-Key`), bearer tokens, `Basic` credentials, AWS access key ids,
//! provider keys (OpenAI/Anthropic `sk-`, Stripe, GitHub, GitLab, Slack, Hugging Face,
//! Google `AIza…` and `ya29.` tokens), JWTs, PEM private key blocks, and userinfo in URLs,
//! nested ones included (`u=//admin:pw@intra/`).
//!
//! A string with `%XX` escapes is matched *decoded once* (ASCII escapes only), so encoded
//! names and values (`api%5Fkey=`, `url=http%3A%2F%2Fadmin%3Apw%40intra`,
//! `Authorization:%20Bearer%20…`) are found; the marker replaces the encoded bytes and hashes
//! the decoded secret. The scanner is hand-written and single-pass per rule; strings with no
//! trigger byte are not copied, so running it on every string of a report is cheap.

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
    /// Userinfo in a URL (`https://user:pass@host`, `//user:pass@host`) and HTTP
    /// `Basic <base64 user:pass>` credentials.
    BasicAuth,
    /// A PEM private key block (`-----BEGIN … PRIVATE KEY-----` … `-----END …-----`).
    PrivateKey,
}

impl SecretKind {
    /// Every kind, in declaration (and report) order.
    pub const ALL: [SecretKind; 7] = [
        SecretKind::Param,
        SecretKind::Bearer,
        SecretKind::AwsKey,
        SecretKind::ApiKey,
        SecretKind::Jwt,
        SecretKind::BasicAuth,
        SecretKind::PrivateKey,
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
            SecretKind::PrivateKey => "private_key",
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

/// Parameter names (lower-case; camelCase humps, brackets, `-` and `.` folded to `_`) whose
/// values are always secrets.
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
    "passphrase",
    "credential",
    "credentials",
    "cred",
    "creds",
    "privatekey",
    "secretkey",
    "accesstoken",
    "refreshtoken",
    "clientsecret",
    "otp",
    "totp",
    "cookie",
];

/// Name suffixes that make a parameter secret (`private_token`, `x_api_key`, `db_password`).
const SECRET_SUFFIXES: &[&str] = &[
    "_token",
    "_key",
    "apikey",
    "_secret",
    "_password",
    "_passwd",
    "_pwd",
    "_passphrase",
    "_credential",
    "_credentials",
    "_sig",
    "_signature",
];

/// Prefixes of API keys recognised as a whole word, with the minimum length of what follows.
const KEY_PREFIXES: &[(&str, usize)] = &[
    ("sk-", 20),
    ("sk_live_", 16),
    ("sk_test_", 16),
    ("rk_live_", 16),
    ("ghp_", 30),
    ("gho_", 30),
    ("ghs_", 30),
    ("ghu_", 30),
    ("ghr_", 30),
    ("github_pat_", 30),
    ("glpat-", 20),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("xoxa-", 20),
    ("xoxr-", 20),
    ("xoxs-", 20),
    ("xapp-", 20),
    ("hf_", 30),
    ("whsec_", 20),
    ("rk_test_", 16),
];

/// Google API keys: `AIza` and 35 more key characters.
const GOOGLE_KEY_LEN: usize = 39;

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
        for rule in [
            Rule::Pem,
            Rule::UrlUserinfo,
            Rule::Words,
            Rule::Bearer,
            Rule::Basic,
            Rule::Params,
            Rule::PathSegments,
        ] {
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
    ///
    /// A text with `%XX` escapes is matched decoded (see the module docs): spans found in the
    /// decoded text are mapped back onto the bytes they came from.
    fn apply(&self, rule: Rule, text: &str, counts: &mut RedactionCounts) -> Option<String> {
        let decoded = percent_decode_ascii(text);
        let (scan, map) = match &decoded {
            Some((d, m)) => (d.as_str(), Some(m.as_slice())),
            None => (text, None),
        };
        let spans = match rule {
            Rule::Pem => find_pem(scan),
            Rule::UrlUserinfo => find_userinfo(scan),
            Rule::Words => find_words(scan),
            Rule::Bearer => find_bearer(scan),
            Rule::Basic => find_basic(scan),
            Rule::Params => find_params(scan),
            Rule::PathSegments => find_path_segments(scan),
        };
        if spans.is_empty() {
            return None;
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len() + 16 * spans.len());
        let mut last = 0;
        for (start, end, kind) in spans {
            let (mut from, mut to) = map.map_or((start, end), |m| (m[start], m[end]));
            from = from.max(last);
            if kind == SecretKind::Param && map.is_some() {
                // A value cut short by a decoded delimiter (`token=abc%26def`): the rest of
                // the encoded value goes too.
                while to < bytes.len() && !ends_value(bytes[to]) {
                    to += 1;
                }
            }
            if to <= from {
                continue;
            }
            out.push_str(&text[last..from]);
            out.push_str(&self.marker(kind, &scan[start..end]));
            counts.add(kind);
            last = to;
        }
        out.push_str(&text[last..]);
        Some(out)
    }
}

#[derive(Debug, Clone, Copy)]
enum Rule {
    Pem,
    UrlUserinfo,
    Words,
    Bearer,
    Basic,
    Params,
    PathSegments,
}

/// `text` with its `%XX` escapes of ASCII bytes decoded once (other escapes kept, so the
/// result is still UTF-8), and for every decoded byte (plus the end) the offset in `text`
/// it starts at. `None` when `text` has no such escape.
fn percent_decode_ascii(text: &str) -> Option<(String, Vec<usize>)> {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let escape_at = |i: usize| -> Option<u8> {
        if bytes.get(i) != Some(&b'%') {
            return None;
        }
        let v = hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?;
        u8::try_from(v).ok().filter(u8::is_ascii)
    };
    let first = memchr::memchr_iter(b'%', bytes).find(|&i| escape_at(i).is_some())?;
    let mut out = Vec::with_capacity(bytes.len());
    let mut map = Vec::with_capacity(bytes.len() + 1);
    out.extend_from_slice(&bytes[..first]);
    map.extend(0..first);
    let mut i = first;
    while i < bytes.len() {
        if let Some(b) = escape_at(i) {
            out.push(b);
            map.push(i);
            i += 3;
        } else {
            out.push(bytes[i]);
            map.push(i);
            i += 1;
        }
    }
    map.push(bytes.len());
    // Only ASCII bytes were substituted for ASCII escapes: still valid UTF-8.
    String::from_utf8(out).ok().map(|s| (s, map))
}

/// PEM private key blocks: from `-----BEGIN …PRIVATE KEY-----` to the matching `-----END
/// …-----` (or the end of the text, for a block cut short).
fn find_pem(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans: Vec<Span> = Vec::new();
    for begin in memchr::memmem::find_iter(bytes, b"-----BEGIN ") {
        if spans.last().is_some_and(|s| s.1 > begin) {
            continue;
        }
        let head_end = memchr::memmem::find(&bytes[begin + 11..], b"-----")
            .map_or(bytes.len(), |i| begin + 11 + i);
        if !bytes[begin..head_end].ends_with(b"PRIVATE KEY") {
            continue;
        }
        let end = memchr::memmem::find(&bytes[head_end..], b"-----END ")
            .and_then(|e| {
                let e = head_end + e + 9;
                memchr::memmem::find(&bytes[e..], b"-----").map(|c| e + c + 5)
            })
            .unwrap_or(bytes.len());
        spans.push((begin, end, SecretKind::PrivateKey));
    }
    spans
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
    // `scheme://` or a scheme-relative `//` that starts a value (`u=//admin:pw@intra/`).
    for slashes in memchr::memmem::find_iter(bytes, b"//") {
        let opens_authority = slashes == 0
            || matches!(bytes[slashes - 1], b':' | b'=' | b'"' | b'\'' | b'(')
            || bytes[slashes - 1].is_ascii_whitespace();
        if !opens_authority {
            continue;
        }
        let start = slashes + 2;
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
            b'A' if word.len() == GOOGLE_KEY_LEN && word.starts_with("AIza") => {
                spans.push((start, i, SecretKind::ApiKey));
            }
            // Google OAuth access tokens: `ya29.` and the token.
            b'y' if word == "ya29" && bytes.get(i) == Some(&b'.') => {
                let mut end = i + 1;
                while end < bytes.len() && is_word_byte(bytes[end]) {
                    end += 1;
                }
                if end - i > 20 {
                    spans.push((start, end, SecretKind::ApiKey));
                    i = end;
                }
            }
            b's' | b'r' | b'g' | b'x' | b'h' | b'w'
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
    let scheme = AuthScheme {
        word: b"bearer",
        encoded_space: true,
        token_byte: is_token_byte,
        accept: |token| token.len() >= 8,
        kind: SecretKind::Bearer,
    };
    scheme.find(text)
}

/// `Basic <base64>` HTTP credentials (case-insensitive scheme), counted when the base64
/// decodes to `user:password`, so "Visual Basic 6" or "basic authentication" stay.
fn find_basic(text: &str) -> Vec<Span> {
    let scheme = AuthScheme {
        word: b"basic",
        encoded_space: false,
        token_byte: |b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='),
        accept: |token| token.len() >= 4 && base64_has_colon(token),
        kind: SecretKind::BasicAuth,
    };
    scheme.find(text)
}

/// An HTTP authorization scheme followed by its credentials (`Bearer <token>`,
/// `Basic <base64>`): the word (case-insensitive, not inside a longer word), at least one
/// separator (spaces or `+`, and `%20` where `encoded_space`), then the token.
struct AuthScheme {
    /// Lower-case scheme name.
    word: &'static [u8],
    encoded_space: bool,
    token_byte: fn(u8) -> bool,
    accept: fn(&[u8]) -> bool,
    kind: SecretKind,
}

impl AuthScheme {
    fn find(&self, text: &str) -> Vec<Span> {
        let bytes = text.as_bytes();
        let n = self.word.len();
        let mut spans = Vec::new();
        let mut i = 0;
        while i + n < bytes.len() {
            let Some(pos) =
                memchr::memchr2(self.word[0], self.word[0].to_ascii_uppercase(), &bytes[i..])
            else {
                break;
            };
            let at = i + pos;
            i = at + 1;
            if at + n >= bytes.len()
                || !bytes[at..at + n].eq_ignore_ascii_case(self.word)
                || (at > 0 && bytes[at - 1].is_ascii_alphanumeric())
            {
                continue;
            }
            let mut j = at + n;
            let sep_start = j;
            loop {
                if j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'+') {
                    j += 1;
                } else if self.encoded_space && bytes[j..].starts_with(b"%20") {
                    j += 3;
                } else {
                    break;
                }
            }
            if j == sep_start {
                continue;
            }
            let tok_start = j;
            while j < bytes.len() && (self.token_byte)(bytes[j]) {
                j += 1;
            }
            if (self.accept)(&bytes[tok_start..j]) {
                spans.push((tok_start, j, self.kind));
                i = j;
            }
        }
        spans
    }
}

/// Whether standard base64 `b64` decodes to bytes containing a `:` (`user:password`).
fn base64_has_colon(b64: &[u8]) -> bool {
    let val = |b: u8| match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut acc, mut bits) = (0_u32, 0_u32);
    for &b in b64.iter().take_while(|&&b| b != b'=') {
        let Some(v) = val(b) else { return false };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if (acc >> bits) & 0xff == u32::from(b':') {
                return true;
            }
            acc &= (1 << bits) - 1;
        }
    }
    false
}

/// Whether a parameter name (as written) names a secret.
/// Runs on every `=` and path segment, so it normalizes into a stack buffer (no allocation).
///
/// Normalised: lower case; a camelCase hump (`accessToken`), `[`, `]`, `-` and `.` become one
/// `_` (`user[password]` → `user_password`), leading/trailing separators dropped. The name
/// is secret when it, or its last bracketed or `_` part, is a secret name, or it ends with a
/// secret suffix.
fn is_secret_name(name: &str) -> bool {
    // 64 bytes plus at most one `_` per camelCase hump (every second byte).
    let mut buf = [0u8; 128];
    let src = name.as_bytes();
    if src.is_empty() || src.len() > 64 {
        return false;
    }
    let mut n = 0;
    let mut prev_lower = false;
    for &b in src {
        let sep = matches!(b, b'-' | b'.' | b'[' | b']' | b'_');
        if sep {
            if n > 0 && buf[n - 1] != b'_' {
                buf[n] = b'_';
                n += 1;
            }
            prev_lower = false;
            continue;
        }
        if b.is_ascii_uppercase() && prev_lower && buf[n - 1] != b'_' {
            buf[n] = b'_';
            n += 1;
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    while n > 0 && buf[n - 1] == b'_' {
        n -= 1;
    }
    let norm = &buf[..n];
    let last = norm.rsplit(|&b| b == b'_').next().unwrap_or(norm);
    let is_name = |w: &[u8]| SECRET_PARAMS.iter().any(|p| p.as_bytes() == w);
    is_name(norm)
        || (last.len() > 3 && is_name(last) && last != b"code" && last != b"private")
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
        while n > 0 && (is_word_byte(bytes[n - 1]) || matches!(bytes[n - 1], b'.' | b'[' | b']')) {
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
            assert!(matches!(p.as_bytes()[0], b's' | b'r' | b'g' | b'x' | b'h' | b'w'), "{p}");
        }
        for p in AWS_PREFIXES {
            assert!(p.starts_with('A'));
        }
    }

    /// The canaries of issue 15 that reached the default outputs, plus the common provider
    /// key shapes: each must lose its secret, and keep what is not secret.
    #[test]
    fn issue_15_canaries_are_redacted() {
        let tok = "a8F3k29dLq0Zx7Yb";
        let cases: &[(&str, &str, SecretKind)] = &[
            ("/x/Authorization:%20Bearer%20a8F3k29dLq0Zx7Yb", tok, SecretKind::Bearer),
            ("/cb?accessToken=a8F3k29dLq0Zx7Yb", tok, SecretKind::Param),
            ("/cb?clientSecret=a8F3k29dLq0Zx7Yb&x=1", tok, SecretKind::Param),
            ("/cb?refreshToken=a8F3k29dLq0Zx7Yb", tok, SecretKind::Param),
            ("/login?user[name]=bob&user[password]=hunter2hunter2", "hunter2", SecretKind::Param),
            ("/x?auth[token]=a8F3k29dLq0Zx7Yb", tok, SecretKind::Param),
            ("/x?api%5Fkey=a8F3k29dLq0Zx7Yb", tok, SecretKind::Param),
            ("/x?API%2DKEY=a8F3k29dLq0Zx7Yb", tok, SecretKind::Param),
            ("curl/8 (Basic YWRtaW46aHVudGVyMg==)", "YWRtaW46aHVudGVyMg", SecretKind::BasicAuth),
            ("/r?u=//admin:pw0rd@intra/", "pw0rd", SecretKind::BasicAuth),
            ("/r?url=http%3A%2F%2Fadmin%3Apw0rd%40intra", "pw0rd", SecretKind::BasicAuth),
            ("/k?privateKey=a8F3k29dLq0Zx7Yb", tok, SecretKind::Param),
            ("/k?passphrase=correcthorse", "correcthorse", SecretKind::Param),
            ("/k?credential=a8F3k29dLq0Zx7Yb", tok, SecretKind::Param),
            ("/maps?k=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "AIzaSy", SecretKind::ApiKey),
            ("x ya29.a0AfH6SMBx1y2z3A4b5C6d7E8f9G0h", "a0AfH6", SecretKind::ApiKey),
            ("ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", SecretKind::AwsKey),
            ("ghu_16C7e42F292c6912E7710c838347Ae178B4a", "16C7e42F", SecretKind::ApiKey),
            ("xapp-1-A0123456789-0123456789012-abcdef", "A0123456789", SecretKind::ApiKey),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSpY", "MfKQ9r8G", SecretKind::ApiKey),
            ("sk-ant-api03-AbCdEf0123456789AbCdEf0123", "AbCdEf0123", SecretKind::ApiKey),
            (
                "/u?k=-----BEGIN%20RSA%20PRIVATE%20KEY-----%0AMIIEpAIBAAKCAQEA75%0A-----END%20RSA%20PRIVATE%20KEY-----&n=1",
                "MIIEpAIBAAKCAQEA75",
                SecretKind::PrivateKey,
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0",
                "MIIEvQ",
                SecretKind::PrivateKey,
            ),
        ];
        for (input, secret, kind) in cases {
            let (out, c) = red(input);
            assert!(!out.contains(secret), "{secret} leaked: {input} -> {out}");
            assert!(count(&c, *kind) >= 1, "{kind:?} not counted: {input} -> {out}");
            let (twice, c2) = red(&out);
            assert_eq!((twice.as_str(), c2.total()), (out.as_str(), 0), "idempotent: {input}");
        }
        // Names and context stay readable.
        let (out, _) = red("/login?user[name]=bob&user[password]=hunter2hunter2");
        assert!(out.starts_with("/login?user[name]=bob&user[password]=[REDACTED:param:"), "{out}");
        let (out, _) = red("/r?u=//admin:pw0rd@intra/");
        assert!(out.ends_with("]@intra/"), "{out}");
        // An encoded delimiter inside a value does not leave its tail behind.
        let (out, _) = red("/x?token=abc%26def&y=2");
        assert!(!out.contains("def") && out.ends_with("&y=2"), "{out}");
        // The same secret, encoded or not, gets the same marker.
        let (a, _) = red("/x?api_key=s3cr3tvalue");
        let (b, _) = red("/x?api%5Fkey=s3cr3tvalue");
        assert_eq!(a, b.replace("api%5Fkey", "api_key"));
    }

    #[test]
    fn look_alikes_of_the_new_rules_are_kept() {
        for s in [
            "Mozilla/5.0 (Visual Basic 6.0; basic authentication)",
            "/a//b//c",
            "/x?sort=asc&page=2&user[name]=bob",
            "/x?private=true&monkey=1",
            "-----BEGIN CERTIFICATE-----",
            "AIzaTooShort",
        ] {
            let (out, c) = red(s);
            assert_eq!((out.as_str(), c.total()), (s, 0), "{s}");
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for s in [
            "=",
            "token=",
            "bearer",
            "Bearer ",
            "://",
            "://@",
            "/token/",
            "é=ü",
            "a\u{0}=b",
            "%",
            "%4",
            "%e9%",
            "a%41",
            "//@",
            "Basic ",
            "basic ====",
            "-----BEGIN ",
            "[]=x",
            "A[=",
        ] {
            let _ = red(s);
        }
    }
}
