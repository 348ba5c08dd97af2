//! Any JSON lines with a user mapping (`[access.fields]`): each request field names a key,
//! or a dotted path into nested objects (`request.remote_ip`).
//!
//! `client`, when mapped, is taken as the already-resolved client and overrides proxy
//! resolution; otherwise the client is resolved from `peer` and `forwarded_for` like every
//! other format. `duration` is read as seconds (nginx `request_time` style).

use super::json::get_path;
use super::json_table::{Gathered, Slot, fill};
use super::{FieldMap, LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

pub(crate) fn parse(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    let Some(map) = opts.fields.as_ref() else {
        return LineOutcome::Malformed(
            "format json needs an [access.fields] mapping (none configured)".into(),
        );
    };
    if super::json::for_each_member(line, |_, _| true).is_err() {
        return LineOutcome::Malformed("json: not a JSON object".into());
    }
    let mut g = Gathered::new();
    for (path, slot) in slots(map) {
        if let Some(path) = path
            && let Some(v) = get_path(line, path)
        {
            g.set(slot, 0, v);
        }
    }
    fill(&g, opts, sc, out)
}

fn slots(m: &FieldMap) -> [(Option<&str>, Slot); 14] {
    [
        (m.time.as_deref(), Slot::Time),
        (m.client.as_deref(), Slot::Client),
        (m.peer.as_deref(), Slot::Peer),
        (m.forwarded_for.as_deref(), Slot::Xff),
        (m.method.as_deref(), Slot::Method),
        (m.target.as_deref(), Slot::Target),
        (m.request.as_deref(), Slot::Request),
        (m.protocol.as_deref(), Slot::Protocol),
        (m.status.as_deref(), Slot::Status),
        (m.bytes.as_deref(), Slot::Bytes),
        (m.user_agent.as_deref(), Slot::UserAgent),
        (m.referer.as_deref(), Slot::Referer),
        (m.host.as_deref(), Slot::Host),
        (m.duration.as_deref(), Slot::DurationSecs),
    ]
}
