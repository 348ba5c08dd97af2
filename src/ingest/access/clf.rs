//! nginx/Apache common and combined (CLF) lines, with the variants seen in the wild.
//!
//! `[vhost] client ident user [time] "request" status bytes ["referer" "ua"] [extras...]`
//!
//! Field 1 (everything before ident/user) is read by groups, from the right:
//! - the right-most group is the **peer** (the TCP peer nginx/Apache logged). When that group
//!   is itself an X-Forwarded-For chain (`a, b, c` — nginx `$http_x_forwarded_for` used as the
//!   first field, or realip output), the peer is its right-most entry (the hop nearest to this
//!   server) and the whole chain is kept in `forwarded_for`, so `resolve_client` walks it;
//! - a quoted group or a comma chain before the peer is an X-Forwarded-For value
//!   (`"a, b" peer` or `a, b peer`);
//! - a single bare word before the peer is the vhost (`$host $remote_addr`, Apache
//!   `vhost_combined`), stored in `host`.
//!
//! A host name in the peer position (Apache `HostnameLookups On`, `localhost`, nginx's
//! `unix:` for a Unix socket peer) is accepted with `peer = None` and kept as `client_name`. Trailing extras are read generically: the first quoted extra that is a
//! list of addresses fills `forwarded_for` (nginx "main"), the first bare number with a
//! fraction is nginx `$request_time` in seconds, and `<n>ms` is Traefik's CLF duration.
//!
//! The usual shape (`a.b.c.d - - [...] "GET /x HTTP/1.1" 200 5 "-" "ua"`) is first offered to
//! the fast paths in `clf_fast.rs`, which read it in one forward pass or decline; the code
//! here is the reference they are tested against, and reads everything they decline. Only
//! the fast paths read a request light (`ParseOptions::light`: validated, strings skipped).
//!
//! The time is logged at the end of the request (both nginx and Apache log on completion,
//! with Apache's `%t` being the receipt time: we keep whatever the line says).

use super::clf_fast::{self, Rest};
use super::escape::{LineText, TextBlock};
use super::fields::{
    decimal_to_us, is_hostish, looks_like_xff, parse_ip_loose, parse_status, parse_u64,
    split_request_line, trim,
};
use super::tokens::{Cursor, Tok};
use super::{LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

/// Parse one CLF line into `out` (already cleared).
pub(crate) fn parse(
    line: &[u8],
    block: TextBlock<'_>,
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    outcome(parse_inner(line, block, opts, sc, out, Stages::Fast))
}

/// [`parse`] with every fast path off: the reference the fast paths are tested against.
#[cfg(test)]
pub(crate) fn parse_general(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    outcome(parse_inner(line, TextBlock::NONE, opts, sc, out, Stages::General))
}

fn outcome(r: Result<(), String>) -> LineOutcome {
    match r {
        Ok(()) => LineOutcome::Request,
        Err(reason) => LineOutcome::Malformed(reason),
    }
}

/// Whether a stage may first try its fast path (`clf_fast`), which either gives exactly what
/// the general code gives or declines without touching `out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stages {
    Fast,
    #[cfg_attr(not(test), allow(dead_code))]
    General,
}

// Always inlined into `parse` (its only caller outside tests): since the light path made it
// larger, the compiler kept it out of line, which cost up to 20 instructions a line
// (callgrind, `examples/parse_profile.rs`).
#[allow(clippy::inline_always)]
#[inline(always)]
fn parse_inner(
    line: &[u8],
    block: TextBlock<'_>,
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
    stages: Stages,
) -> Result<(), String> {
    let fast_head = if stages == Stages::Fast { clf_fast::head(line) } else { None };
    // The text of the part each stage converts comes from `block` when the decoder already
    // validated it, else is validated here, from where that stage starts (`LineText`
    // converts what lies outside its bytes field by field, which gives the same strings).
    let (text, lb) = if let Some((peer, lb)) = fast_head {
        out.peer = Some(peer);
        (None, lb)
    } else {
        let text = block.text(line);
        (Some(text), head(&text, line, out)?)
    };

    let after = &line[lb + 1..];
    let ((time, offset), rb) = sc.clf_time.parse_bracketed(after, opts.default_tz)?;
    out.time = time;
    out.utc_offset_secs = offset;

    let rest = &after[rb + 1..];
    // A light request (see `ParseOptions::light`) needs its client known before the rest is
    // read: it is decided after the fast head only, whose field 1 is a lone address (the
    // peer, with no X-Forwarded-For before it), and only for a peer that is the client.
    let light = fast_head.is_some_and(|(peer, _)| opts.is_light(peer));
    let fast_rest = match stages {
        Stages::Fast if light => clf_fast::rest_light(rest, out),
        Stages::Fast => clf_fast::rest(rest, block, out),
        Stages::General => None,
    };
    let (text, mut cur) = match fast_rest {
        Some(Rest::Complete) => return Ok(()),
        Some(Rest::From(end)) => {
            let rest = &rest[end..];
            (text.unwrap_or_else(|| block.text(rest)), Cursor::new(rest))
        }
        None => {
            let text = text.unwrap_or_else(|| block.text(rest));
            let mut cur = Cursor::new(skip_bracketed(rest));
            request(&text, &mut cur, sc, out)?;
            (text, cur)
        }
    };

    let mut next = cur.next().map_err(|e| format!("referer: {e}"))?;
    if let Some(Tok::Quoted(referer)) = next {
        text.push_field_known(&mut out.referer, referer, cur.escapes(), &mut sc.buf);
        let ua = cur.quoted("user_agent")?;
        text.push_field_known(&mut out.user_agent, ua, cur.escapes(), &mut sc.buf);
        next = cur.next().map_err(|e| format!("extra field: {e}"))?;
    }
    while let Some(tok) = next {
        extra(&text, tok, out);
        next = cur.next().map_err(|e| format!("extra field: {e}"))?;
    }
    Ok(())
}

/// Everything before the time: field 1 into `out`; the index of the `[`.
fn head(text: &LineText<'_>, line: &[u8], out: &mut Request) -> Result<usize, String> {
    let lb = memchr::memchr(b'[', line).ok_or("time: no '[' found")?;
    let head = trim(&line[..lb]);
    let (rest, _user) =
        rsplit_word(head).ok_or("user: ident/user fields missing before the time")?;
    let (mut addr, ident) =
        rsplit_word(rest).ok_or("ident: ident/user fields missing before the time")?;
    if addr.is_empty() {
        // Caddy 0.x / minimal common: `client user [time]`, one ident field fewer.
        if ident == b"-" || (parse_ip_loose(ident).is_none() && !is_hostish(ident)) {
            return Err("client: missing before ident/user".into());
        }
        addr = ident;
    }
    // `client -> server`: the client and server addresses (the server kept as the host).
    if let Some(arrow) = memchr::memmem::find(addr, b" -> ") {
        let server = trim(&addr[arrow + 4..]);
        if parse_ip_loose(server).is_none() && !is_hostish(server) {
            return Err("client: the address after '->' is not an address".into());
        }
        text.push(&mut out.host, server);
        addr = trim(&addr[..arrow]);
    }
    parse_addr_part(text, addr, out)?;
    Ok(lb)
}

/// Skip bracketed fields between the time and the request (a `[82775]` process id).
fn skip_bracketed(mut rest: &[u8]) -> &[u8] {
    loop {
        let t = trim(rest);
        if t.first() != Some(&b'[') {
            return rest;
        }
        match memchr::memchr(b']', t) {
            Some(end) if !t[1..end].contains(&b'"') => rest = &t[end + 1..],
            _ => return rest,
        }
    }
}

/// The request line, status and bytes.
fn request(
    text: &LineText<'_>,
    cur: &mut Cursor<'_>,
    sc: &mut Scratch,
    out: &mut Request,
) -> Result<(), String> {
    let request = cur.quoted("request")?;
    split_request_line(text, request, out, &mut sc.buf);
    let status = cur.bare("status")?;
    out.status = parse_status(status).ok_or("status: not a number")?;
    let bytes = cur.bare("bytes")?;
    out.bytes_sent =
        if bytes == b"-" { 0 } else { parse_u64(bytes).ok_or("bytes: not a number")? };
    Ok(())
}

/// One trailing extra field (see the module docs).
fn extra(text: &LineText<'_>, tok: Tok<'_>, out: &mut Request) {
    match tok {
        Tok::Quoted(b) => {
            if out.forwarded_for.is_empty() && b != b"-" && looks_like_xff(b) {
                text.push(&mut out.forwarded_for, trim(b));
            }
        }
        Tok::Bare(b) => {
            if out.duration_us.is_some() {
                return;
            }
            if let Some(ms) = b.strip_suffix(b"ms") {
                out.duration_us = decimal_to_us(ms, 1000);
            } else if memchr::memchr(b'.', b).is_some() {
                out.duration_us = decimal_to_us(b, 1_000_000);
            }
        }
    }
}

/// A client logged by name (a host name, `localhost`, nginx's `unix:` socket peer): kept
/// as `client_name`.
fn client_name(text: &LineText<'_>, word: &[u8], out: &mut Request) -> Result<(), String> {
    if !is_hostish(word) && !word.starts_with(b"unix:") {
        return Err("client: not an address or host name".into());
    }
    let mut name = String::new();
    text.push(&mut name, word);
    out.client_name = Some(name.into_boxed_str());
    Ok(())
}

/// Keep an X-Forwarded-For value from field 1 (`-` means none).
fn push_xff(text: &LineText<'_>, out: &mut Request, chain: &[u8]) {
    let chain = trim(chain);
    if chain != b"-" {
        text.push(&mut out.forwarded_for, chain);
    }
}

/// Split off the last space-separated word: `(before, word)`.
fn rsplit_word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = trim(s);
    if s.is_empty() {
        return None;
    }
    match memchr::memrchr(b' ', s) {
        Some(i) => Some((trim(&s[..i]), &s[i + 1..])),
        None => Some((&b""[..], s)),
    }
}

#[derive(Clone, Copy)]
enum Group<'a> {
    Single(&'a [u8]),
    /// A quoted value or an unquoted comma chain.
    Chain(&'a [u8]),
}

/// Read field 1 (see the module docs) into `peer`, `forwarded_for` and `host`.
fn parse_addr_part(text: &LineText<'_>, addr: &[u8], out: &mut Request) -> Result<(), String> {
    // Fast path: one plain word (the usual `$remote_addr`).
    if !addr.iter().any(|&b| matches!(b, b' ' | b'"' | b',')) {
        out.peer = parse_ip_loose(addr);
        if out.peer.is_none() {
            return client_name(text, addr, out);
        }
        return Ok(());
    }
    let mut groups: [Option<Group<'_>>; 3] = [None; 3];
    let mut n = 0;
    let mut i = 0;
    while i < addr.len() {
        if addr[i] == b' ' {
            i += 1;
            continue;
        }
        if n == groups.len() {
            return Err("client: too many words before ident/user".into());
        }
        if addr[i] == b'"' {
            let end = memchr::memchr(b'"', &addr[i + 1..]).ok_or("client: unterminated quote")?;
            let inner = &addr[i + 1..i + 1 + end];
            i += end + 2;
            // A quoted X-Forwarded-For: a list of addresses (or `-`), then a space.
            if addr.get(i).is_some_and(|&b| b != b' ') {
                return Err("client: text glued to a closing quote".into());
            }
            if inner != b"-" && !looks_like_xff(inner) {
                return Err("client: quoted value is not an address list".into());
            }
            groups[n] = Some(Group::Chain(inner));
        } else {
            let start = i;
            loop {
                let end = memchr::memchr(b' ', &addr[i..]).map_or(addr.len(), |o| i + o);
                i = end;
                // A word ending in ',' continues the chain after the spaces.
                if end > start && addr[end - 1] == b',' && end < addr.len() {
                    while i < addr.len() && addr[i] == b' ' {
                        i += 1;
                    }
                    continue;
                }
                break;
            }
            let word = &addr[start..i];
            groups[n] = Some(if memchr::memchr(b',', word).is_some() {
                Group::Chain(word)
            } else {
                Group::Single(word)
            });
        }
        n += 1;
    }
    let Some(last) = groups[..n].last().copied().flatten() else {
        return Err("client: missing before ident/user".into());
    };
    let peer_word = match last {
        Group::Single(w) => w,
        Group::Chain(c) => {
            push_xff(text, out, c);
            let right = c.rsplit(|&b| b == b',').next().unwrap_or(c);
            trim(right)
        }
    };
    out.peer = parse_ip_loose(peer_word);
    if out.peer.is_none() {
        client_name(text, peer_word, out)?;
    }
    for (idx, g) in groups[..n.saturating_sub(1)].iter().enumerate().rev() {
        match g {
            Some(Group::Chain(c)) if out.forwarded_for.is_empty() => push_xff(text, out, c),
            Some(Group::Single(w)) if idx == 0 && is_hostish(w) => text.push(&mut out.host, w),
            _ => return Err("client: unexpected words before the client address".into()),
        }
    }
    Ok(())
}
