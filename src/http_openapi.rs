//! The OpenAPI 3.1 description served at `/api/v1/openapi.json`. Written by hand next to the
//! routes; `tests/http_api.rs` checks that every route here answers.

use serde_json::{json, Value};

fn view_params() -> Value {
    json!([
        {"name": "minutes", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10080, "default": 60}, "description": "window: the last M minutes, up to and including the current minute"},
        {"name": "topic", "in": "query", "schema": {"type": "string"}},
        {"name": "channel", "in": "query", "schema": {"type": "string"}}
    ])
}

fn ok_json(desc: &str, schema: Value) -> Value {
    json!({"200": {"description": desc, "content": {"application/json": {"schema": schema}}},
           "400": {"$ref": "#/components/responses/BadRequest"},
           "401": {"$ref": "#/components/responses/Unauthorized"}})
}

pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sunward API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HTTP transport of Sunward's one API. Every call needs `Authorization: Bearer <token>` (the token is printed by `sunward serve` at start, or set with SUNWARD_TOKEN). Times are integer milliseconds since the Unix epoch, UTC. The same commands are reachable as `POST /api/v1/rpc/{command}` and, in the desktop app, over Tauri IPC."
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/health": {"get": {"summary": "Liveness and basic counts", "responses": ok_json("ok", json!({"$ref": "#/components/schemas/Health"}))}},
            "/api/v1/mentions": {"post": {
                "summary": "Store mentions given as Sunward NDJSON (one object per line)",
                "description": "Required fields: source, id, created_at (RFC 3339), text. Optional: channel, author {handle, name, followers}, url, lang, in_reply_to, topics, inbound. Idempotent on (source, id). Bad lines are rejected with a reason (see /api/v1/rejects); the rest is stored.",
                "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": ok_json("what happened to each line", json!({"$ref": "#/components/schemas/IngestReport"}))
            }},
            "/api/v1/events": {"get": {
                "summary": "Server-Sent Events: mentions, heartbeat, resync",
                "description": "Event names: `mentions` {count, latest} after each stored batch (within 1 s), `heartbeat` {now} at connect and every 5 s, `resync` {} when the client lagged and must re-read. Also accepts ?access_token= for EventSource clients.",
                "responses": {"200": {"description": "event stream", "content": {"text/event-stream": {}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}
            }},
            "/api/v1/volume": {"get": {"summary": "Per-minute volume by sentiment label, with channel and topic totals", "parameters": view_params(), "responses": ok_json("volume", json!({"$ref": "#/components/schemas/Volume"}))}},
            "/api/v1/sentiment": {"get": {"summary": "Net sentiment, shares by label and trend", "parameters": view_params(), "responses": ok_json("sentiment", json!({"type": "object"}))}},
            "/api/v1/stream": {"get": {"summary": "Latest mentions, newest first", "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 30}},
                {"name": "topic", "in": "query", "schema": {"type": "string"}},
                {"name": "channel", "in": "query", "schema": {"type": "string"}}
            ], "responses": ok_json("mentions", json!({"type": "object", "properties": {"mentions": {"type": "array", "items": {"$ref": "#/components/schemas/Mention"}}}}))}},
            "/api/v1/rejects": {"get": {"summary": "Dead letters: rejected records with their reasons", "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}}], "responses": ok_json("rejects", json!({"type": "object"}))}},
            "/api/v1/charts/{name}.svg": {"get": {"summary": "A chart rendered by plotters as SVG (volume, sentiment, channels, topics)", "parameters": [
                {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "enum": ["volume", "sentiment", "channels", "topics"]}},
                {"name": "minutes", "in": "query", "schema": {"type": "integer"}},
                {"name": "width", "in": "query", "schema": {"type": "integer"}},
                {"name": "height", "in": "query", "schema": {"type": "integer"}},
                {"name": "tz_offset_minutes", "in": "query", "schema": {"type": "integer"}}
            ], "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}}},
            "/api/v1/rpc/{command}": {"post": {
                "summary": "Any command of the one API with JSON arguments: health, volume, sentiment, stream, chart, rejects, wall_profile, sources",
                "parameters": [{"name": "command", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": ok_json("the command's result", json!({"type": "object"}))
            }},
            "/api/v1/sources": {"get": {"summary": "Live listening sources with their health (idle, connected, lagging, backing_off, failing, disabled) and cursor; secrets are never returned", "responses": ok_json("sources", json!({"type": "object"}))}},
            "/api/v1/sources/{name}/events": {"post": {
                "summary": "Webhook source: other listening tools push Sunward NDJSON here",
                "description": "Authenticated by HMAC-SHA256, not by the bearer token: `X-Sunward-Timestamp: <unix seconds>` and `X-Sunward-Signature: sha256=<hex HMAC of \"timestamp.body\" with the source's secret>`. Unsigned, wrongly signed, stale (> 5 min) and replayed requests get 401 and change nothing. See docs/sources.md.",
                "security": [],
                "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "ingest report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IngestReport"}}}}, "401": {"description": "bad or missing signature"}, "404": {"description": "no webhook source of that name"}}
            }},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Unauthorized": {"description": "missing or wrong token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "BadRequest": {"description": "bad arguments; the message says which", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
                "Health": {"type": "object", "properties": {"ok": {"type": "boolean"}, "version": {"type": "string"}, "demo": {"type": "boolean"}, "mentions": {"type": "integer"}, "now": {"type": "integer"}}},
                "IngestReport": {"type": "object", "properties": {
                    "read": {"type": "integer"}, "stored": {"type": "integer"}, "duplicates": {"type": "integer"},
                    "rejected": {"type": "integer"}, "deleted": {"type": "integer"},
                    "reasons": {"type": "object", "additionalProperties": {"type": "integer"}}
                }, "required": ["stored", "duplicates", "rejected"]},
                "Counts": {"type": "object", "properties": {"total": {"type": "integer"}, "negative": {"type": "integer"}, "neutral": {"type": "integer"}, "positive": {"type": "integer"}}},
                "Volume": {"type": "object", "properties": {
                    "from": {"type": "integer"}, "to": {"type": "integer"},
                    "total": {"$ref": "#/components/schemas/Counts"},
                    "series": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Counts"}, {"type": "object", "properties": {"t": {"type": "integer"}}}]}},
                    "by_channel": {"type": "array", "items": {"type": "object"}},
                    "by_topic": {"type": "array", "items": {"type": "object"}}
                }},
                "Mention": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "source": {"type": "string"}, "source_id": {"type": "string"}, "channel": {"type": "string"},
                    "created_at": {"type": "integer"}, "text": {"type": "string", "description": "plain text; hostile input, never render as HTML"},
                    "author": {"type": "object"}, "url": {"type": "string"}, "lang": {"type": "string"}, "topics": {"type": "array", "items": {"type": "string"}},
                    "sentiment": {"type": "number"}, "label": {"type": "string", "enum": ["negative", "neutral", "positive"]}, "influence": {"type": "integer"}
                }}
            }
        }
    })
}
