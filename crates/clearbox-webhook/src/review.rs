//! The `admission.k8s.io/v1` `AdmissionReview` that the API server sends and expects back.
//!
//! Only the fields a validating webhook reads are modelled. The object stays a
//! [`serde_json::Value`], and unknown fields are ignored because the API server may add some. The
//! format is described at
//! <https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/>.

use serde::Deserialize;
use serde_json::{Value, json};

/// The only `apiVersion` accepted and sent back.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// The reasons a request body is not a usable `AdmissionReview`, sent back with HTTP 400.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// The body is not JSON of the expected shape.
    #[error("the body is not an AdmissionReview: {0}")]
    Json(#[from] serde_json::Error),
    /// `apiVersion` or `kind` names something else.
    #[error(
        "the body is `{api_version}` `{kind}`, not `{API_VERSION}` `AdmissionReview`; configure \
         the webhook with admissionReviewVersions: [v1]"
    )]
    WrongType {
        /// The `apiVersion` sent.
        api_version: String,
        /// The `kind` sent.
        kind: String,
    },
    /// There is no `request`.
    #[error("the AdmissionReview has no `request`")]
    MissingRequest,
    /// `request.uid` is empty.
    #[error("the AdmissionReview request has an empty `uid`")]
    EmptyUid,
    /// The object nests deeper than any Kubernetes object does.
    #[error(
        "the object nests more than {MAX_DEPTH} levels of arrays and objects; no Kubernetes \
         object is that deep"
    )]
    TooDeep,
}

/// Deepest nesting of arrays and objects accepted in `request.object`. Pod specs reach about
/// 12 levels; the workload walk recurses once per level, so a bound keeps its stack small.
pub const MAX_DEPTH: usize = 32;

/// Returns whether `value` nests deeper than `limit`, without recursing.
fn deeper_than(value: &Value, limit: usize) -> bool {
    let mut pending = vec![(value, 1usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth > limit {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawReview {
    api_version: String,
    kind: String,
    request: Option<RawRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    uid: String,
    kind: GroupVersionKind,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    name: Option<String>,
    operation: String,
    #[serde(default)]
    object: Option<Value>,
    #[serde(default)]
    user_info: Option<UserInfo>,
}

#[derive(Deserialize)]
struct GroupVersionKind {
    kind: String,
}

#[derive(Deserialize)]
struct UserInfo {
    #[serde(default)]
    username: Option<String>,
}

/// The part of an admission request the webhook reads.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmissionRequest {
    /// `request.uid`, echoed in the response and recorded as the actor.
    pub uid: String,
    /// `request.kind.kind`, such as `Deployment`.
    pub kind: String,
    /// `request.namespace`, absent for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `request.name`, absent when the API server has not named the object yet
    /// (`generateName`).
    pub name: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// The object as it would be stored; `null` or absent for `DELETE`.
    pub object: Option<Value>,
    /// `request.userInfo.username`: who sent the request to the API server, such as
    /// `system:serviceaccount:kube-system:replicaset-controller`.
    pub user: Option<String>,
}

/// Parses and validates an `AdmissionReview` body.
pub fn parse_review(body: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    let raw: RawReview = serde_json::from_slice(body)?;
    if raw.api_version != API_VERSION || raw.kind != "AdmissionReview" {
        return Err(ReviewError::WrongType {
            api_version: raw.api_version,
            kind: raw.kind,
        });
    }
    let request = raw.request.ok_or(ReviewError::MissingRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::EmptyUid);
    }
    if request
        .object
        .as_ref()
        .is_some_and(|object| deeper_than(object, MAX_DEPTH))
    {
        return Err(ReviewError::TooDeep);
    }
    Ok(AdmissionRequest {
        uid: request.uid,
        kind: request.kind.kind,
        namespace: request.namespace.filter(|n| !n.is_empty()),
        name: request.name.filter(|n| !n.is_empty()),
        operation: request.operation,
        object: request.object.filter(|o| !o.is_null()),
        user: request
            .user_info
            .and_then(|info| info.username)
            .filter(|u| !u.is_empty()),
    })
}

/// Builds the `AdmissionReview` response for request `uid`. A denial carries `status.code` 403
/// and `message`, which `kubectl` shows after "admission webhook ... denied the request".
#[must_use]
pub fn response(uid: &str, allowed: bool, message: &str) -> Value {
    let mut response = json!({"uid": uid, "allowed": allowed});
    if allowed {
        response["status"] = json!({"message": message});
    } else {
        response["status"] = json!({"code": 403, "reason": "Forbidden", "message": message});
    }
    json!({"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: &Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": API_VERSION,
            "kind": "AdmissionReview",
            "request": request,
        }))
        .unwrap()
    }

    #[test]
    fn parses_pod_request() {
        let body = review(&json!({
            "uid": "705ab4f5",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "namespace": "prod",
            "operation": "CREATE",
            "object": {"kind": "Pod"},
            "userInfo": {"username": "admin"},
        }));
        let request = parse_review(&body).unwrap();
        assert_eq!(request.uid, "705ab4f5");
        assert_eq!(request.kind, "Pod");
        assert_eq!(request.namespace.as_deref(), Some("prod"));
        assert_eq!(request.name, None);
        assert_eq!(request.object, Some(json!({"kind": "Pod"})));
        assert_eq!(request.user.as_deref(), Some("admin"));
    }

    #[test]
    fn rejects_objects_nested_too_deep() {
        let mut nested = json!("nginx");
        for _ in 0..50 {
            nested = json!([nested]);
        }
        let body = review(&json!({
            "uid": "1", "kind": {"kind": "Pod"}, "operation": "CREATE",
            "object": {"kind": "Pod", "spec": {"containers": [{"name": "c", "image": nested}]}},
        }));
        assert!(matches!(parse_review(&body), Err(ReviewError::TooDeep)));
        // A real Pod's depth is accepted.
        let body = review(&json!({
            "uid": "1", "kind": {"kind": "Pod"}, "operation": "CREATE",
            "object": {"kind": "Pod", "spec": {"affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]}]}}}}},
        }));
        assert!(parse_review(&body).is_ok());
    }

    #[test]
    fn rejects_wrong_version() {
        let body = br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"}"#;
        let error = parse_review(body).unwrap_err();
        assert!(matches!(error, ReviewError::WrongType { .. }), "{error}");
        assert!(error.to_string().contains("admission.k8s.io/v1beta1"));
    }

    #[test]
    fn rejects_missing_request_and_uid() {
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#;
        assert!(matches!(
            parse_review(body),
            Err(ReviewError::MissingRequest)
        ));
        let body = review(&json!({"uid": "", "kind": {"kind": "Pod"}, "operation": "CREATE"}));
        assert!(matches!(parse_review(&body), Err(ReviewError::EmptyUid)));
    }

    #[test]
    fn rejects_non_json() {
        let error = parse_review(b"{\"apiVersion\": ").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the body is not an AdmissionReview")
        );
    }

    #[test]
    fn response_echoes_uid() {
        let value = response("abc", false, "image `x` denied");
        assert_eq!(value["response"]["uid"], "abc");
        assert_eq!(value["response"]["allowed"], false);
        assert_eq!(value["response"]["status"]["code"], 403);
        assert_eq!(value["response"]["status"]["message"], "image `x` denied");
    }
}
