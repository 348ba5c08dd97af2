//! The method section: the exposure rules of the correlator (issue 4) in plain words, so a
//! reader of the report knows exactly what each number means. Shared by Markdown and HTML.

/// Paragraphs, each `(lead-in, body)`; leakline's own wording (no markup, no attacker text).
pub const METHOD: &[(&str, &str)] = &[
    (
        "External.",
        "A request is external when its client address — after resolving X-Forwarded-For from \
         trusted proxies only — is in neither the internal ranges nor the allow list of the \
         case. A scan observation counts as evidence only when the scan ran from an external \
         vantage; internal scans are shown but prove nothing about exposure.",
    ),
    (
        "Positive evidence",
        "that a service was reachable at a moment: an external request logged for it, whatever \
         its status (the service answered), or an external scan that found its port open.",
    ),
    (
        "Negative evidence:",
        "an external scan that found the port closed or filtered, or the host unreachable.",
    ),
    (
        "Exposure window.",
        "A maximal run of positive evidence with no negative evidence in between, with evidence \
         in time order (at equal times positive evidence comes first). Silence never closes a \
         window: without negative evidence, a window stays open.",
    ),
    (
        "Bounds.",
        "The exposure began after the last negative evidence before the window (unknown when \
         there is none: exposed since before observation) and no later than the first positive \
         evidence. It ended no earlier than the last positive evidence and no later than the \
         first negative evidence after it. Durations are given as at least (first to last \
         positive evidence; to the snapshot time while open) and at most (negative to negative \
         evidence, when both exist).",
    ),
    (
        "Counts.",
        "Per window and service, only external requests are counted: successes have a status \
         below 400, bytes are the bytes sent to external clients, clients are distinct \
         addresses. A non-scanner success is a successful external request from a client that \
         matches no entry of the known-scanner list (user-agent substrings and published \
         address ranges, each with its source).",
    ),
    (
        "Time and determinism.",
        "All times are UTC, taken from the logs and scan files themselves; the correlator reads \
         no clock, and the result depends only on the set of events, never on file order or \
         arrival order.",
    ),
    (
        "Redaction.",
        "Unless turned off, secrets in logged strings (secret-named query and path parameters, \
         bearer tokens, AWS access keys, sk-style API keys, JWTs, credentials in URLs) are \
         replaced by a marker [REDACTED:kind:hash]; the same secret always gets the same \
         marker, so reuse stays visible without revealing the secret.",
    ),
];
