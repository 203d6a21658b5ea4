//! X filtered-stream rules, managed from Sunward. The wanted rules live in the source's options
//! (`options.rules = [{value, tag}]`, set by `sunward source rules` or `[[sources]] rules` in the
//! config); each time an `x` source connects it makes the app's rules on X match them
//! (`GET`/`POST /2/tweets/search/stream/rules`). Only rules whose tag starts with `sunward` are
//! ever deleted, so rules another tool of the same X app manages are left alone.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::fetch::{describe, PollError};
use super::Secret;

/// Tag prefix of the rules Sunward owns.
pub const TAG_PREFIX: &str = "sunward";
/// X's limit on a rule's length (Pro access; lower tiers are stricter and X says so).
pub const MAX_RULE_CHARS: usize = 1024;

/// A rule as configured: the filter and an optional label (it becomes `sunward:<tag>` on X).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WantedRule {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl WantedRule {
    pub fn x_tag(&self) -> String {
        match &self.tag {
            Some(t) if !t.trim().is_empty() => format!("{TAG_PREFIX}:{}", t.trim()),
            _ => TAG_PREFIX.to_string(),
        }
    }
}

/// A rule as X has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XRule {
    pub id: String,
    pub value: String,
    #[serde(default)]
    pub tag: Option<String>,
}

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub deleted: Vec<String>,
    pub kept: usize,
}

/// Checks a wanted rule before it is stored.
pub fn validate(rule: &WantedRule) -> Result<(), String> {
    let v = rule.value.trim();
    if v.is_empty() {
        return Err("an X rule needs a filter, e.g. `@SkylarkAir -is:retweet`".into());
    }
    if v.chars().count() > MAX_RULE_CHARS {
        return Err(format!(
            "an X rule is at most {MAX_RULE_CHARS} characters; split `{}...` into several rules",
            v.chars().take(40).collect::<String>()
        ));
    }
    Ok(())
}

/// The wanted rules in a source's options (none when absent or malformed).
pub fn wanted(options: &Value) -> Vec<WantedRule> {
    options
        .get("rules")
        .and_then(|r| serde_json::from_value(r.clone()).ok())
        .unwrap_or_default()
}

/// `https://api.x.com/2/tweets/search/stream?...` -> `.../stream/rules`.
pub fn rules_url(stream_url: &str) -> Result<reqwest::Url, PollError> {
    let mut u = reqwest::Url::parse(stream_url)
        .map_err(|e| PollError::content(format!("bad URL {stream_url}: {e}")))?;
    u.set_query(None);
    let path = format!("{}/rules", u.path().trim_end_matches('/'));
    u.set_path(&path);
    Ok(u)
}

async fn call(req: reqwest::RequestBuilder, what: &str) -> Result<Value, PollError> {
    let res = req
        .send()
        .await
        .map_err(|e| PollError::new(format!("{what}: {}", describe(&e))))?;
    let status = res.status();
    let retry_after =
        super::fetch::server_delay(res.headers(), chrono::Utc::now().timestamp_millis());
    let body = res
        .bytes()
        .await
        .map_err(|e| PollError::new(format!("{what}: {}", describe(&e))))?;
    if !status.is_success() {
        let detail = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let mut e = if status.is_server_error() || status.as_u16() == 429 {
            PollError::new(format!("{what}: HTTP {status}: {detail}"))
        } else {
            PollError::content(format!("{what}: HTTP {status}: {detail}"))
        };
        e.retry_after = retry_after;
        return Err(e);
    }
    serde_json::from_slice(&body)
        .map_err(|e| PollError::content(format!("{what}: the answer is not JSON: {e}")))
}

/// The app's current rules on X.
pub async fn list(
    client: &reqwest::Client,
    stream_url: &str,
    token: &Secret,
) -> Result<Vec<XRule>, PollError> {
    let v = call(
        client
            .get(rules_url(stream_url)?)
            .bearer_auth(token.expose()),
        "listing the X stream rules",
    )
    .await?;
    Ok(v.get("data")
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default())
}

/// Makes X's rules match `wanted`: adds the missing ones, deletes Sunward-tagged rules that
/// are no longer wanted, leaves everything else.
pub async fn sync(
    client: &reqwest::Client,
    stream_url: &str,
    token: &Secret,
    wanted: &[WantedRule],
) -> Result<SyncReport, PollError> {
    let have = list(client, stream_url, token).await?;
    let url = rules_url(stream_url)?;
    let is_wanted = |r: &XRule| wanted.iter().any(|w| w.value.trim() == r.value.trim());
    let stale: Vec<&XRule> = have
        .iter()
        .filter(|r| r.tag.as_deref().is_some_and(|t| t.starts_with(TAG_PREFIX)) && !is_wanted(r))
        .collect();
    let missing: Vec<&WantedRule> = wanted
        .iter()
        .filter(|w| !have.iter().any(|r| r.value.trim() == w.value.trim()))
        .collect();
    let mut report = SyncReport {
        kept: have.len() - stale.len(),
        ..SyncReport::default()
    };
    if !stale.is_empty() {
        let ids: Vec<&str> = stale.iter().map(|r| r.id.as_str()).collect();
        call(
            client
                .post(url.clone())
                .bearer_auth(token.expose())
                .json(&json!({ "delete": { "ids": ids } })),
            "deleting X stream rules",
        )
        .await?;
        report.deleted = stale.iter().map(|r| r.value.clone()).collect();
    }
    if !missing.is_empty() {
        let add: Vec<Value> = missing
            .iter()
            .map(|w| json!({ "value": w.value.trim(), "tag": w.x_tag() }))
            .collect();
        let v = call(
            client
                .post(url)
                .bearer_auth(token.expose())
                .json(&json!({ "add": add })),
            "adding X stream rules",
        )
        .await?;
        // X answers 201 with per-rule errors for invalid rules: say which and why.
        if let Some(errors) = v.get("errors").and_then(Value::as_array) {
            let msgs: Vec<String> = errors
                .iter()
                .filter(|e| e["title"].as_str() != Some("DuplicateRule"))
                .map(|e| {
                    format!(
                        "`{}`: {}",
                        e["value"].as_str().unwrap_or("?"),
                        e["details"]
                            .as_array()
                            .and_then(|d| d.first())
                            .and_then(Value::as_str)
                            .or_else(|| e["title"].as_str())
                            .unwrap_or("rejected")
                    )
                })
                .collect();
            if !msgs.is_empty() {
                return Err(PollError::content(format!(
                    "X refused stream rules: {}; fix them with `sunward source rules`",
                    msgs.join("; ")
                )));
            }
        }
        report.added = missing.iter().map(|w| w.value.trim().to_string()).collect();
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_url_drops_the_query() {
        let u = rules_url("https://api.x.com/2/tweets/search/stream?tweet.fields=lang").unwrap();
        assert_eq!(u.as_str(), "https://api.x.com/2/tweets/search/stream/rules");
        let u = rules_url("http://127.0.0.1:9/2/tweets/search/stream/").unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/2/tweets/search/stream/rules"
        );
    }

    #[test]
    fn tags_and_validation() {
        let r = WantedRule {
            value: "@SkylarkAir".into(),
            tag: Some("brand".into()),
        };
        assert_eq!(r.x_tag(), "sunward:brand");
        assert!(validate(&r).is_ok());
        let empty = WantedRule {
            value: "  ".into(),
            tag: None,
        };
        assert!(validate(&empty).unwrap_err().contains("needs a filter"));
        let long = WantedRule {
            value: "a".repeat(2000),
            tag: None,
        };
        assert!(validate(&long).is_err());
        assert_eq!(
            wanted(&json!({"rules": [{"value": "x"}]})),
            vec![WantedRule {
                value: "x".into(),
                tag: None
            }]
        );
        assert!(wanted(&json!({"rules": "garbage"})).is_empty());
    }
}
