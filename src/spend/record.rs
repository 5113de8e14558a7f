//! One request as the spend log keeps it: who called, what was routed
//! where, what it used and cost, and how it ended. The request path fills
//! one in per request and hands it to the [`SpendWriter`](super::SpendWriter).

use std::fmt;
use std::str::FromStr;

/// Which API the request came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallType {
    Chat,
    Embeddings,
    Rerank,
    /// Anthropic's `/v1/messages`.
    Messages,
}

impl CallType {
    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Chat => "chat",
            CallType::Embeddings => "embeddings",
            CallType::Rerank => "rerank",
            CallType::Messages => "messages",
        }
    }
}

impl FromStr for CallType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "chat" => Ok(CallType::Chat),
            "embeddings" => Ok(CallType::Embeddings),
            "rerank" => Ok(CallType::Rerank),
            "messages" => Ok(CallType::Messages),
            other => Err(format!("unknown call type {other:?}")),
        }
    }
}

impl fmt::Display for CallType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the request ended for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpendStatus {
    Success,
    Failure,
}

impl SpendStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SpendStatus::Success => "success",
            SpendStatus::Failure => "failure",
        }
    }
}

impl FromStr for SpendStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "success" => Ok(SpendStatus::Success),
            "failure" => Ok(SpendStatus::Failure),
            other => Err(format!("unknown status {other:?}")),
        }
    }
}

/// One row of `sy_spend_logs`. Times are unix milliseconds (UTC).
#[derive(Clone, Debug, PartialEq)]
pub struct SpendRecord {
    /// The `x-litellm-call-id` of the response; unique.
    pub request_id: String,
    pub call_type: CallType,
    /// SHA-256 (hex) of the virtual key; `None` for the master key or an
    /// open gateway.
    pub key_hash: Option<String>,
    pub key_alias: Option<String>,
    /// The internal user who owns the key.
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// The customer: the request's `user` field.
    pub end_user: Option<String>,
    pub tags: Vec<String>,
    /// The model the client asked for.
    pub model_group: String,
    /// The deployment that answered (or last failed); `None` when the
    /// request never reached the router.
    pub deployment_id: Option<String>,
    pub provider: Option<String>,
    pub api_base: Option<String>,
    /// The upstream model name.
    pub model: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub total_tokens: u64,
    /// USD.
    pub cost: f64,
    /// The provider gave no usage and the tokens are an estimate.
    pub cost_estimated: bool,
    pub start_time_ms: i64,
    pub end_time_ms: i64,
    /// Time to the first streamed chunk.
    pub ttft_ms: Option<i64>,
    pub status: SpendStatus,
    /// The OpenAI error `type` of a failure.
    pub error_type: Option<String>,
    pub http_status: u16,
    pub cache_hit: bool,
}

impl SpendRecord {
    /// A successful request with nothing but its identity and times set;
    /// the caller fills in the rest with struct update syntax.
    pub fn new(
        request_id: impl Into<String>,
        call_type: CallType,
        model_group: impl Into<String>,
        start_time_ms: i64,
        end_time_ms: i64,
    ) -> SpendRecord {
        SpendRecord {
            request_id: request_id.into(),
            call_type,
            key_hash: None,
            key_alias: None,
            user_id: None,
            team_id: None,
            end_user: None,
            tags: Vec::new(),
            model_group: model_group.into(),
            deployment_id: None,
            provider: None,
            api_base: None,
            model: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            cached_read_tokens: 0,
            cache_write_tokens: 0,
            total_tokens: 0,
            cost: 0.0,
            cost_estimated: false,
            start_time_ms,
            end_time_ms,
            ttft_ms: None,
            status: SpendStatus::Success,
            error_type: None,
            http_status: 200,
            cache_hit: false,
        }
    }

    /// The tags once each, in first-seen order: a tag sent twice is one
    /// row of `sy_spend_log_tags` (its primary key) and counts once.
    pub fn distinct_tags(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::with_capacity(self.tags.len());
        for tag in &self.tags {
            if !seen.contains(&tag.as_str()) {
                seen.push(tag);
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in [
            CallType::Chat,
            CallType::Embeddings,
            CallType::Rerank,
            CallType::Messages,
        ] {
            assert_eq!(c.as_str().parse::<CallType>(), Ok(c));
        }
        for s in [SpendStatus::Success, SpendStatus::Failure] {
            assert_eq!(s.as_str().parse::<SpendStatus>(), Ok(s));
        }
        assert!("completion".parse::<CallType>().is_err());
    }

    #[test]
    fn tags_are_kept_once_in_order() {
        let record = SpendRecord {
            tags: vec!["b".into(), "a".into(), "b".into()],
            ..SpendRecord::new("r", CallType::Chat, "m", 0, 0)
        };
        assert_eq!(record.distinct_tags(), ["b", "a"]);
    }
}
