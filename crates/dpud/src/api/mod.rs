//! The public gRPC API: request validation, the mapping of store errors to status codes, and
//! the resource conventions (names, paging, field masks, etags) every service follows.

/// A resource message from a stored object and its status (every resource has the same
/// seven fields).
macro_rules! resource_message {
    ($msg:ident, $name:expr, $o:expr, $status:expr) => {
        $msg {
            name: $name,
            spec: Some($o.spec),
            status: Some($status),
            generation: $o.generation,
            etag: $o.etag,
            create_time: Some($crate::api::timestamp($o.create_time_unix_nanos)),
            update_time: Some($crate::api::timestamp($o.update_time_unix_nanos)),
        }
    };
}

/// [`resource::UpdateRequest`] for Update requests whose resource message is field `$field`
/// (required), with `update_mask` and `allow_missing`.
macro_rules! update_requests {
    ($($req:ty => $kind:ty, $field:ident);* $(;)?) => {
        $(impl $crate::api::resource::UpdateRequest for $req {
            type Kind = $kind;
            fn checked(
                &self,
            ) -> Result<$crate::api::resource::UpdateParts<'_, $kind>, tonic::Status> {
                let r = $crate::api::resource::required(self.$field.as_ref(), stringify!($field))?;
                Ok($crate::api::resource::UpdateParts {
                    name: &r.name,
                    etag: &r.etag,
                    spec: r.spec.as_ref(),
                    mask: self.update_mask.as_ref(),
                    allow_missing: self.allow_missing,
                })
            }
        })*
    };
}

/// [`CreateRequest`] for the Create requests of top-level kinds: `$collection/{$id}`.
macro_rules! create_requests {
    ($($req:ty => $kind:ty, $collection:literal, $field:ident, $id:ident);* $(;)?) => {
        $(impl $crate::api::resource::CreateRequest for $req {
            type Kind = $kind;
            fn checked(
                &self,
            ) -> Result<(String, &str, Option<&<$kind as $crate::api::resource::Kind>::Spec>), tonic::Status> {
                let name = $crate::api::create_name($collection, &self.$id, stringify!($id))?;
                // A port's id is an interface name too: its length is the id's fault, not
                // the message's.
                <$kind as $crate::api::resource::Kind>::key(&name, stringify!($id))?;
                let r = $crate::api::resource::required(self.$field.as_ref(), stringify!($field))?;
                Ok((name, &r.name, r.spec.as_ref()))
            }
        })*
    };
}

pub mod nvmf;
pub mod resource;
pub mod shared_read;
pub mod switch;
pub mod system;

use dpu_pki::Role;
use dpu_store::StoreError;
use pbjson_types::{FieldMask, Timestamp};
use tonic::{Code, Request, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::tls::PeerInfo;

/// Default and largest page sizes of every List call.
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

/// The requesting client's role (the gate already let it through); the narrowest role when
/// the request carries no peer information.
pub fn caller_role<T>(request: &Request<T>) -> Role {
    request.extensions().get::<PeerInfo>().map_or(Role::Host, |p| p.role)
}

/// INVALID_ARGUMENT naming the field, with a google.rpc.BadRequest detail a client can read.
pub fn invalid(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// How long a read the agent passes on to a service (inventory, live status, statistics,
/// tables) waits for the answer. A service that is stopped or stuck would otherwise hold
/// the caller until its own deadline; the probe marks it down within 2 s anyway.
pub const SERVICE_ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `call` to the `service` service, or UNAVAILABLE once it has not answered within
/// [`SERVICE_ANSWER_TIMEOUT`].
pub async fn answered<T>(
    service: &str,
    call: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    tokio::time::timeout(SERVICE_ANSWER_TIMEOUT, call).await.unwrap_or_else(|_| {
        Err(Status::unavailable(format!(
            "the {service} service did not answer within {} s",
            SERVICE_ANSWER_TIMEOUT.as_secs()
        )))
    })
}

/// The status for a store failure.
pub fn store_status(e: StoreError) -> Status {
    match e {
        StoreError::NotFound(name) => Status::not_found(format!("{name} not found")),
        StoreError::AlreadyExists(name) => Status::already_exists(format!("{name} already exists")),
        // A failed test-and-set: the client must re-read and retry (gRPC status code guide).
        e @ (StoreError::EtagMismatch { .. } | StoreError::Conflict(_)) => {
            Status::aborted(e.to_string())
        }
        StoreError::InvalidPageToken => {
            invalid("page_token", "not a token this server issued for this collection")
        }
        e @ (StoreError::Corrupt(..) | StoreError::Lost { .. }) => {
            tracing::error!(error = %e, "store corruption");
            Status::data_loss(e.to_string())
        }
        e @ StoreError::Sled(_) => {
            tracing::error!(error = %e, "store failure");
            Status::unavailable(format!("the state store failed; retry later ({e})"))
        }
        // The write is in memory, the disk may or may not hold it: not UNAVAILABLE, which
        // clients take for "not done, retry", nor ABORTED (a concurrency conflict).
        // UNKNOWN promises neither; the message says how to learn the outcome.
        e @ StoreError::Unflushed(_) => {
            tracing::error!(error = %e, "store flush failed");
            Status::unknown(format!(
                "{e}; after the restart, read the object to see whether the write is stored"
            ))
        }
        // The agent stops on a failed store (`Agent::store_failed`) and comes back with
        // what the disk holds: retrying later is right.
        e @ StoreError::Failed(_) => Status::unavailable(e.to_string()),
        e @ StoreError::Task(_) => Status::internal(e.to_string()),
    }
}

/// The id in `collection/id`, or INVALID_ARGUMENT on `field`.
pub fn parse_name<'a>(name: &'a str, collection: &str, field: &str) -> Result<&'a str, Status> {
    if name.is_empty() {
        return Err(invalid(field, "required"));
    }
    match name.strip_prefix(collection).and_then(|rest| rest.strip_prefix('/')) {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(invalid(field, format!("must look like \"{collection}/ID\", got {name:?}"))),
    }
}

/// Checks a resource id: 1..=63 of `[A-Za-z0-9._-]`, not starting with '.' or '-'.
pub fn validate_id(id: &str, field: &str) -> Result<(), Status> {
    let ok = (1..=63).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !id.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{id:?} is not an id: 1..63 of [A-Za-z0-9._-], not starting with . or -"),
        ))
    }
}

/// `{collection}/{id}` for a Create of a top-level resource, after checking the id.
pub fn create_name(collection: &str, id: &str, id_field: &str) -> Result<String, Status> {
    validate_id(id, id_field)?;
    Ok(format!("{collection}/{id}"))
}

/// FAILED_PRECONDITION when `what` still has `users` (deleting something referenced).
pub fn in_use(what: &str, users: &[String]) -> Result<(), Status> {
    if users.is_empty() {
        Ok(())
    } else {
        Err(Status::failed_precondition(format!(
            "{what} is used by {}; delete or change those first",
            users.join(", ")
        )))
    }
}

/// The page size to use for a request's `page_size`.
pub fn page_size(requested: i32) -> Result<usize, Status> {
    match usize::try_from(requested) {
        Err(_) => Err(invalid("page_size", "must not be negative")),
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(n) => Ok(n.min(MAX_PAGE_SIZE)),
    }
}

/// The update mask path that replaces the whole resource (AIP-134): here its spec, the
/// one part a client writes.
pub const FULL_REPLACEMENT: &str = "*";

/// Checks an update mask against the paths an Update accepts. An absent or empty mask, or
/// [`FULL_REPLACEMENT`], means every updatable field.
pub fn check_update_mask(mask: Option<&FieldMask>, allowed: &[&str]) -> Result<(), Status> {
    let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    // AIP-134: "*" is the whole resource and stands alone; beside other paths it would
    // make them meaningless, so such a mask is a mistake of the caller's.
    if paths.len() > 1 && paths.iter().any(|p| p == FULL_REPLACEMENT) {
        return Err(invalid("update_mask", "\"*\" must be the only path"));
    }
    for path in paths {
        if path != FULL_REPLACEMENT && !allowed.contains(&path.as_str()) {
            return Err(invalid(
                "update_mask",
                format!("unknown or read-only path {path:?}; updatable: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

pub fn timestamp(unix_nanos: i64) -> Timestamp {
    Timestamp {
        seconds: unix_nanos.div_euclid(1_000_000_000),
        nanos: unix_nanos.rem_euclid(1_000_000_000) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            parse_name("sysctls/net.ipv4.ip_forward", "sysctls", "name").unwrap(),
            "net.ipv4.ip_forward"
        );
        for bad in ["", "sysctls", "sysctls/", "sysctlsx/a", "other/a", "/a"] {
            let e = parse_name(bad, "sysctls", "name").unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument, "{bad}");
            let details = e.get_details_bad_request().unwrap();
            assert_eq!(details.field_violations[0].field, "name");
        }
    }

    #[test]
    fn paging_and_masks() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(5000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
        let mask = FieldMask { paths: vec!["spec.value".into()] };
        assert!(check_update_mask(Some(&mask), &["spec", "spec.value"]).is_ok());
        let bad = FieldMask { paths: vec!["status".into()] };
        assert_eq!(
            check_update_mask(Some(&bad), &["spec"]).unwrap_err().code(),
            Code::InvalidArgument
        );
        assert!(check_update_mask(None, &["spec"]).is_ok());
        let all = FieldMask { paths: vec![FULL_REPLACEMENT.into()] };
        assert!(check_update_mask(Some(&all), &["spec"]).is_ok());
        let mixed = FieldMask { paths: vec!["spec".into(), FULL_REPLACEMENT.into()] };
        let e = check_update_mask(Some(&mixed), &["spec"]).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    }

    /// A store error's code says what the client may conclude: a write whose flush failed
    /// may be stored or not (UNKNOWN, not UNAVAILABLE's "retry"); a failed store comes back
    /// after the restart (UNAVAILABLE); ABORTED is for concurrency conflicts only, not for a
    /// store task that died (INTERNAL).
    #[test]
    fn store_errors_map_to_what_the_client_may_conclude() {
        let code = |e| store_status(e).code();
        assert_eq!(code(StoreError::Unflushed("EIO".into())), Code::Unknown);
        let e = store_status(StoreError::Unflushed("EIO".into()));
        assert!(e.message().contains("may or may not be stored"), "{e:?}");
        assert_eq!(code(StoreError::Failed("EIO".into())), Code::Unavailable);
        assert_eq!(code(StoreError::Task("panicked".into())), Code::Internal);
        let stale = StoreError::EtagMismatch { name: "sysctls/a".into(), current: "x".into() };
        assert_eq!(code(stale), Code::Aborted);
        assert_eq!(code(StoreError::Conflict("sysctls/a".into())), Code::Aborted);
    }

    #[test]
    fn timestamps_split_nanos() {
        let t = timestamp(1_500_000_000_250);
        assert_eq!((t.seconds, t.nanos), (1500, 250));
    }
}
