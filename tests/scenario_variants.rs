//! The shared ground truth must survive a change of shape: offsets, a trusted proxy with
//! X-Forwarded-For, a logrotate set with a gzip member, and another nginx JSON layout.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios").join(name)
}

#[test]
fn transformed_model_gateway_matches_the_ground_truth() {
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .args(["analyze", "--format", "json", "--config"])
        .arg(fixture("model-gateway-variant/leakline.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("model-gateway/expected.json")).unwrap(),
    )
    .unwrap();

    let services = got["services"].as_array().unwrap();
    assert_eq!(services[0]["name"], "model-gateway");
    let windows = services[0]["windows"].as_array().unwrap();
    let want = expected["model-gateway"].as_array().unwrap();
    assert_eq!(windows.len(), want.len());
    for (w, e) in windows.iter().zip(want) {
        for (key, value) in e.as_object().unwrap() {
            if let Value::Object(fields) = value {
                for (field, v) in fields {
                    assert_eq!(&w[key][field], v, "window {key}.{field}");
                }
            } else {
                assert_eq!(&w[key], value, "window {key}");
            }
        }
    }

    // Every line of every shape was understood.
    let sources = got["sources"].as_array().unwrap();
    let formats: Vec<(&str, &str, u64)> = sources
        .iter()
        .map(|s| {
            let path = s["path"].as_str().unwrap();
            let name = path.rsplit('/').next().unwrap();
            (name, s["format"].as_str().unwrap(), s["malformed"].as_u64().unwrap())
        })
        .collect();
    for (name, format, malformed) in &formats {
        assert_eq!(*malformed, 0, "{name}");
        let want = match Path::new(name).extension().and_then(|e| e.to_str()) {
            Some("xml") => "nmap-xml",
            Some("jsonl") => "nuclei",
            Some("json") => "nginx-json",
            _ => "combined",
        };
        assert_eq!(*format, want, "{name}");
    }
    assert!(formats.iter().any(|(n, ..)| *n == "access.log.2.gz"), "{formats:?}");
    let events: u64 = sources.iter().map(|s| s["events"].as_u64().unwrap()).sum();
    assert_eq!(events, 3470);
}
