//! The resource CRUD every collection of the public API shares: create with a client-chosen id,
//! get, list with paging, update with a field mask, etag and `allow_missing`, delete with an
//! etag and `allow_missing`, the observed status of each object, and the nudge to the service
//! that applies the collection (sent once a write is on disk, also when its caller went away).
//!
//! A kind ([`Kind`]) says how its names look, how its spec is validated and merged, and how a
//! stored object becomes its proto message; [`Resources`] does the rest, so the error semantics
//! of docs/api.md exist once.
//!
//! Nothing is answered from a write not on disk yet (docs/api.md, Durability): the store's
//! reads see writes whose flush is under way, so every answer built on one, OK or refusal,
//! waits for the store's durable barrier first ([`Resources::durable`]), or for the
//! write's own flush, which covers everything before it. A write's checks under the writer
//! lock read without it (its flush covers them), and a refusal waits only once the lock is
//! free, so writers still share flushes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use dpu_store::{Collection, Object, Pending, StoreError};
use pbjson_types::FieldMask;
use prost::Message;
use tokio::sync::OwnedMutexGuard;
use tonic::Status;

use super::{FULL_REPLACEMENT, check_update_mask, invalid, page_size, store_status};
use crate::services::Services;

/// One kind of resource.
pub trait Kind: Send + Sync + 'static {
    type Spec: Message + Default + Clone + Send + Sync + 'static;
    /// The observed status message.
    type Status: Clone + Send + Sync + 'static;
    /// The resource message.
    type Proto: Send + 'static;

    /// Field of the resource in requests ("sysctl"): violations name `sysctl_id`,
    /// `sysctl.name`, `sysctl.spec...`.
    const FIELD: &'static str;
    /// Store collection ("sysctls").
    const STORE: &'static str;
    /// Update mask paths the kind accepts; "spec" means the whole spec.
    const UPDATABLE: &'static [&'static str];

    /// The store key of a public name, or INVALID_ARGUMENT on `field`. Validates the id.
    fn key(name: &str, field: &str) -> Result<String, Status>;
    /// The public name of a store key (the inverse of [`key`](Self::key)).
    fn public_name(key: &str) -> String {
        key.to_owned()
    }
    /// Checks a spec; violations name fields under `field` (e.g. "sysctl.spec").
    fn validate(spec: &Self::Spec, field: &str) -> Result<(), Status>;
    /// Copies the field at mask `path` (one of [`UPDATABLE`](Self::UPDATABLE), not "spec")
    /// from `from` into `into`.
    fn merge(into: &mut Self::Spec, from: &Self::Spec, path: &str);
    /// Fills in what an update may leave blank from the spec `stored` under the same name
    /// (a subsystem's write-only secrets), before the updated spec is validated. Nothing by
    /// default.
    fn keep_stored(_new: &mut Self::Spec, _stored: &Self::Spec) {}
    /// The stored form of a valid spec: two spellings that mean the same are stored as one,
    /// so an unchanged round trip (a Get's spec sent back) changes nothing. As given by
    /// default.
    fn canonical(_spec: &mut Self::Spec) {}
    /// Whether a valid spec leaves something for the agent to give it once
    /// ([`assign`](Self::assign)). Nothing by default.
    fn unassigned(_spec: &Self::Spec) -> bool {
        false
    }
    /// Gives `spec` what it left to the agent, unique among `others` (the kind's other
    /// stored objects, read under the writer lock): a listener's port ID.
    fn assign(_spec: &mut Self::Spec, _others: &[Object<Self::Spec>]) -> Result<(), Status> {
        Ok(())
    }
    /// Notes in `new`, about to be stored over `stored` by the write that will be store
    /// revision `revision`, what that write sets anew (a listener's ANA group states).
    /// Nothing by default.
    fn mark_written(_new: &mut Self::Spec, _stored: Option<&Self::Spec>, _revision: u64) {}
    /// The status to show for an object at `generation` given what the service last reported
    /// (PENDING when it reported nothing or an older generation).
    fn status(observed: Option<Self::Status>, generation: i64) -> Self::Status;
    /// The resource message.
    fn to_proto(name: String, object: Object<Self::Spec>, status: Self::Status) -> Self::Proto;
}

/// Observed status of each object as last reported by its service, by public name, with
/// the creation time of the object it was about: an object deleted and created again
/// under its name starts at generation 1 again, and must not show what the service
/// reported for the one before it.
pub struct Statuses<S>(RwLock<HashMap<String, (i64, S)>>);

impl<S> Default for Statuses<S> {
    fn default() -> Self {
        Self(RwLock::new(HashMap::new()))
    }
}

impl<S: Clone> Statuses<S> {
    /// The status reported for `name` as created at `created` (its
    /// `create_time_unix_nanos`).
    pub fn get(&self, name: &str, created: i64) -> Option<S> {
        let m = self.0.read().ok()?;
        m.get(name).filter(|(c, _)| *c == created).map(|(_, s)| s.clone())
    }

    /// Forgets every status: the objects show what the kind shows before any report.
    pub fn clear(&self) {
        self.replace([]);
    }

    /// Replaces every status with `statuses`: (name, creation time, status).
    pub fn replace(&self, statuses: impl IntoIterator<Item = (String, i64, S)>) {
        let statuses = statuses.into_iter().map(|(name, c, s)| (name, (c, s))).collect();
        if let Ok(mut m) = self.0.write() {
            *m = statuses;
        }
    }
}

/// Creation times of `objects` by public name: what the service's report of each is
/// about ([`Statuses::replace`]).
pub fn creation_times<S>(
    objects: &[Object<S>],
    public_name: impl Fn(&str) -> String,
) -> HashMap<String, i64> {
    objects.iter().map(|o| (public_name(&o.name), o.create_time_unix_nanos)).collect()
}

/// The CRUD of one kind over its store collection.
pub struct Resources<K: Kind> {
    pub collection: Collection<K::Spec>,
    pub statuses: Arc<Statuses<K::Status>>,
    services: Services,
    /// The service that applies this kind ("system").
    service: &'static str,
}

impl<K: Kind> Clone for Resources<K> {
    fn clone(&self) -> Self {
        Self {
            collection: self.collection.clone(),
            statuses: self.statuses.clone(),
            services: self.services.clone(),
            service: self.service,
        }
    }
}

/// A required message field, or INVALID_ARGUMENT naming it.
pub fn required<'a, T>(value: Option<&'a T>, field: &str) -> Result<&'a T, Status> {
    value.ok_or_else(|| invalid(field, "required"))
}

fn etag(e: &str) -> Option<&str> {
    (!e.is_empty()).then_some(e)
}

/// A Create's checks of the resource message alone, before any stored object is read: the
/// name the client gave (empty or `name`), the kind's key of `name`, a spec. The key and
/// the spec, which the kind's [`Kind::validate`] judges next (after the existence check).
pub fn create_message<'a, K: Kind>(
    name: &str,
    given_name: &str,
    spec: Option<&'a K::Spec>,
) -> Result<(String, &'a K::Spec), Status> {
    let field = K::FIELD;
    if !given_name.is_empty() && given_name != name {
        return Err(invalid(&format!("{field}.name"), format!("must be empty or {name:?}")));
    }
    let key = K::key(name, &format!("{field}.name"))?;
    let spec = required(spec, &format!("{field}.spec"))?;
    Ok((key, spec))
}

/// An Update's checks of its message alone, before any stored object is read: the kind's
/// key of `name`, the mask's paths, a spec. The key and the spec.
pub fn update_message<'a, K: Kind>(
    name: &str,
    spec: Option<&'a K::Spec>,
    mask: Option<&FieldMask>,
) -> Result<(String, &'a K::Spec), Status> {
    let field = K::FIELD;
    let key = K::key(name, &format!("{field}.name"))?;
    check_update_mask(mask, K::UPDATABLE)?;
    let spec = required(spec, &format!("{field}.spec"))?;
    Ok((key, spec))
}

/// The spec an Update of `spec` with `mask` (checked: [`update_message`]) leaves, to be
/// validated: over the `stored` spec (None: a missing object that `allow_missing`
/// creates), the whole of `spec` when the mask is empty or names "spec" or "*", else the
/// fields the mask names merged onto the stored spec (onto a default one when missing);
/// then what the kind keeps from the stored spec ([`Kind::keep_stored`]).
pub fn updated_spec<K: Kind>(
    stored: Option<&K::Spec>,
    spec: &K::Spec,
    mask: Option<&FieldMask>,
) -> K::Spec {
    let paths: &[String] = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    let whole = paths.is_empty() || paths.iter().any(|p| p == "spec" || p == FULL_REPLACEMENT);
    let mut new = match stored {
        _ if whole => spec.clone(),
        Some(stored) => stored.clone(),
        None => K::Spec::default(),
    };
    if !whole {
        for path in paths {
            K::merge(&mut new, spec, path);
        }
    }
    if let Some(stored) = stored {
        K::keep_stored(&mut new, stored);
    }
    new
}

/// A Create request of one kind: the checks of its own fields (the id, a parent) that come
/// before the resource message's ([`create_message`]). The handler and the fuzz target
/// `dpud_api` run the same ones.
pub trait CreateRequest {
    type Kind: Kind;
    fn checked(&self) -> Result<CreateParts<'_, Self::Kind>, Status>;
}

/// What a Create request asks: the public name it creates, with the resource message's
/// name and spec.
pub type CreateParts<'a, K> = (String, &'a str, Option<&'a <K as Kind>::Spec>);

/// An Update request of one kind: its resource message (required) as the parts
/// [`Resources::update`] takes.
pub trait UpdateRequest {
    type Kind: Kind;
    fn checked(&self) -> Result<UpdateParts<'_, Self::Kind>, Status>;
}

/// What an Update request asks: the resource message's name, etag and spec, the mask and
/// `allow_missing`.
pub struct UpdateParts<'a, K: Kind> {
    pub name: &'a str,
    pub etag: &'a str,
    pub spec: Option<&'a K::Spec>,
    pub mask: Option<&'a FieldMask>,
    pub allow_missing: bool,
}

/// A stored mutation on its way to disk ([`Resources::locked`]).
struct Stored<T>(tokio::task::JoinHandle<Result<T, StoreError>>);

impl<T> Stored<T> {
    /// Waits until the mutation is on disk, then yields its result.
    async fn durable<K: Kind>(self) -> Result<T, Status> {
        self.0.await.map_err(task_failed)?.map_err(named_status::<K>)
    }
}

/// The status for a store failure of kind `K`, naming the object by its public name: a
/// store key (`nvmf-namespaces/s1/1`, `switch-bridges/b1`) is no name a client can use.
fn named_status<K: Kind>(e: StoreError) -> Status {
    store_status(match e {
        StoreError::NotFound(key) => StoreError::NotFound(K::public_name(&key)),
        StoreError::AlreadyExists(key) => StoreError::AlreadyExists(K::public_name(&key)),
        StoreError::EtagMismatch { name, current } => {
            StoreError::EtagMismatch { name: K::public_name(&name), current }
        }
        StoreError::Conflict(key) => StoreError::Conflict(K::public_name(&key)),
        e => e,
    })
}

/// INTERNAL for a blocking task that panicked.
pub(crate) fn task_failed(e: tokio::task::JoinError) -> Status {
    Status::internal(format!("store task failed: {e}"))
}

/// RESOURCE_EXHAUSTED unless a Sync request of `encoded` bytes is within what one Sync of
/// `service` carries: half its internal message `limit`. The other half is for the reply,
/// which repeats every object's name with its status (a sysctl's value read back too), and
/// for generations growing. A write checked with it under the writer lock is never
/// acknowledged past what the agent can send: a Sync past the limit would fail on every
/// try, leave new objects PENDING and a restarted service with no configuration at all.
pub fn fits_one_sync(service: &str, encoded: usize, limit: usize) -> Result<(), Status> {
    let carried = limit / 2;
    if encoded <= carried {
        return Ok(());
    }
    Err(Status::resource_exhausted(format!(
        "the {service} service's whole desired state would take {encoded} bytes, more than \
         one Sync carries ({carried}: half its {limit}-byte message limit); delete or shrink \
         other objects first"
    )))
}

/// `objects` as a write of `spec` under the store key `key` leaves them: that object's spec
/// replaced, or a new object added.
pub fn with_written<S>(objects: &mut Vec<Object<S>>, key: &str, spec: S) {
    match objects.iter_mut().find(|o| o.name == key) {
        Some(o) => o.spec = spec,
        None => objects.push(Object {
            name: key.to_owned(),
            spec,
            generation: 1,
            etag: String::new(),
            create_time_unix_nanos: 0,
            update_time_unix_nanos: 0,
        }),
    }
}

/// Stored bytes (keys and records) after which a List page ends, whatever its `page_size`:
/// a page of 1,000 large objects would otherwise be a reply of any size (beyond gRPC's
/// default 4 MiB a client accepts) built in the agent's memory for every List call.
const PAGE_BYTES: usize = 1 << 20;

impl<K: Kind> Resources<K> {
    pub fn new(
        collection: Collection<K::Spec>,
        statuses: Arc<Statuses<K::Status>>,
        services: Services,
        service: &'static str,
    ) -> Self {
        Self { collection, statuses, services, service }
    }

    /// The kind's collection in `store`, with no status reported yet.
    pub fn open(store: &dpu_store::Store, services: &Services, service: &'static str) -> Self {
        Self::new(
            store.collection::<K::Spec>(K::STORE),
            Arc::new(Statuses::default()),
            services.clone(),
            service,
        )
    }

    /// The same collection and statuses, nudging the services of `services`.
    pub fn with_services(&self, services: &Services) -> Self {
        Self { services: services.clone(), ..self.clone() }
    }

    /// Runs a write's store mutation on a task of its own that holds the writer lock
    /// `one_writer` until the mutation is in the tree, and hands the lock back with the
    /// mutation on its way to disk; once it is there, a task nudges the owning service if
    /// `changed` says the result is a change of desired state. A mutation that changed the
    /// store tells the service its revision at once, under the lock
    /// ([`desired_at`](crate::services::ServiceHandle::desired_at): what `dpuctl delete
    /// --wait` waits for a sync to reach). The next writer's checks may
    /// read the mutation before it is on disk: whatever that writer answers waits for its own
    /// flush, which covers this one, or for the barrier ([`refused`](Self::refused)).
    ///
    /// A caller that goes away (a cancelled call, a deadline) drops its future at any await,
    /// but the store's compare-and-swap runs on a blocking thread to its end all the same: the
    /// lock must not be free for the next writer's checks before that mutation has landed, and
    /// the service must hear of it, since nothing else would tell it (a retried Create answers
    /// ALREADY_EXISTS, a retried Delete NOT_FOUND).
    async fn locked<T: Send + 'static>(
        &self,
        one_writer: OwnedMutexGuard<()>,
        mutation: impl Future<Output = Result<Pending<T>, StoreError>> + Send + 'static,
        changed: fn(&T) -> bool,
    ) -> Result<(OwnedMutexGuard<()>, Result<Stored<T>, StoreError>), Status> {
        let service = self.services.get(self.service).cloned();
        tokio::spawn(async move {
            let stored = mutation.await.map(|pending| {
                // In the tree, the writer lock still held.
                if let (Some(service), Some(revision)) = (&service, pending.revision()) {
                    service.desired_at(revision);
                }
                Stored(tokio::spawn(async move {
                    let value = pending.durable().await?;
                    if let Some(service) = service.filter(|_| changed(&value)) {
                        service.request_sync();
                    }
                    Ok(value)
                }))
            });
            (one_writer, stored)
        })
        .await
        .map_err(task_failed)
    }

    pub fn to_proto(&self, o: Object<K::Spec>) -> K::Proto {
        let name = K::public_name(&o.name);
        let status = K::status(self.statuses.get(&name, o.create_time_unix_nanos), o.generation);
        K::to_proto(name, o, status)
    }

    /// Waits until everything the store's tree showed this call so far is on disk (a
    /// compare when nothing is unflushed): a crash would take back an answer built on the
    /// rest. UNAVAILABLE when a flush failed first (the store serves nothing then).
    pub async fn durable(&self) -> Result<(), Status> {
        self.collection.durable_barrier().await.map_err(named_status::<K>)
    }

    /// `refusal`, which a write built on what the tree showed it (ALREADY_EXISTS, NOT_FOUND,
    /// ABORTED, a check's FAILED_PRECONDITION), once that is on disk; what the store answers
    /// instead if a flush failed first. Called with the writer lock free, so a refusal does
    /// not hold the next writer behind a flush.
    async fn refused(&self, refusal: Status) -> Status {
        match self.durable().await {
            Ok(()) => refusal,
            Err(failed) => failed,
        }
    }

    /// A store read off the reactor whose result is answered: returned once what it saw is
    /// on disk ([`durable`](Self::durable)).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(Collection<K::Spec>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Status> {
        let read = self.blocking(f).await?;
        self.durable().await?;
        Ok(read)
    }

    /// Runs a store call off the reactor (sled reads may touch the disk).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Collection<K::Spec>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Status> {
        let c = self.collection.clone();
        tokio::task::spawn_blocking(move || f(c))
            .await
            .map_err(|e| Status::internal(format!("store task failed: {e}")))?
            .map_err(named_status::<K>)
    }

    /// Creates `name` (already built from a validated id) with `spec` after `check` (referential
    /// checks) passed. `given_name` is the name the client put in the message, if any.
    /// FAILED_PRECONDITION after the message's own checks when the agent is not configured
    /// with the kind's service: nothing would apply the object. Reads and deletes need no
    /// service, so what an earlier configuration stored can be seen and cleaned up.
    pub async fn create(
        &self,
        name: &str,
        given_name: &str,
        spec: Option<&K::Spec>,
        check: impl AsyncFnOnce(&K::Spec) -> Result<(), Status>,
    ) -> Result<K::Proto, Status> {
        let field = K::FIELD;
        let (key, spec) = create_message::<K>(name, given_name, spec)?;
        self.services.configured(self.service)?;
        let stored = async {
            let one_writer = self.collection.serialize_writes().await;
            // ALREADY_EXISTS before the spec is judged (as an Update answers NOT_FOUND
            // first): the checks would judge it in the existing object's place and could
            // answer INVALID_ARGUMENT or FAILED_PRECONDITION instead.
            if self.lookup(&key).await?.is_some() {
                return Err(named_status::<K>(StoreError::AlreadyExists(key)));
            }
            K::validate(spec, &format!("{field}.spec"))?;
            let mut spec = self.assigned(&key, spec.clone()).await?;
            K::mark_written(&mut spec, None, self.next_revision());
            check(&spec).await?;
            let (c, mut spec) = (self.collection.clone(), spec);
            K::canonical(&mut spec);
            let create = async move { c.create_applied(&key, &spec).await };
            let (_one_writer, created) = self.locked(one_writer, create, |_| true).await?;
            created.map_err(named_status::<K>)
        }
        .await;
        // The writer lock is free: a refusal waits for the disk without holding writers.
        let pending = match stored {
            Ok(pending) => pending,
            Err(refusal) => return Err(self.refused(refusal).await),
        };
        let created = pending.durable::<K>().await?;
        tracing::info!(%name, "{field} created");
        Ok(self.to_proto(created))
    }

    /// `spec` for the object `key`, with what it left to the agent given
    /// ([`Kind::assign`]). Run under the writer lock.
    async fn assigned(&self, key: &str, mut spec: K::Spec) -> Result<K::Spec, Status> {
        if K::unassigned(&spec) {
            let mut others = self.all().await?;
            others.retain(|o| o.name != key);
            K::assign(&mut spec, &others)?;
        }
        Ok(spec)
    }

    /// The store revision the next write will have. Read under the writer lock, where no
    /// other write lands in between ([`dpu_store::Pending::revision`]).
    fn next_revision(&self) -> u64 {
        self.collection.revision() + 1
    }

    /// The object named `name` (the request's `name` field), or NOT_FOUND, once that is on
    /// disk.
    pub async fn get(&self, name: &str) -> Result<K::Proto, Status> {
        let key = K::key(name, "name")?;
        let found = self.read(move |c| c.get(&key)).await?;
        let object = found.ok_or_else(|| Status::not_found(format!("{name} not found")))?;
        Ok(self.to_proto(object))
    }

    /// Checks that `parent`, the parent of a listing of its children (a request's `parent`
    /// field), exists: listing under one that does not is NOT_FOUND (AIP-132), so a
    /// misspelt parent does not read as one without children.
    pub async fn require_parent(&self, parent: &str) -> Result<(), Status> {
        let key = K::key(parent, "parent")?;
        match self.read(move |c| c.get(&key)).await? {
            Some(_) => Ok(()),
            None => Err(Status::not_found(format!("parent {parent} not found"))),
        }
    }

    /// The object stored under `key`, if any, as the tree holds it (for referential checks
    /// under the writer lock; an answer built on it waits for [`durable`](Self::durable)).
    pub async fn lookup(&self, key: &str) -> Result<Option<Object<K::Spec>>, Status> {
        let key = key.to_owned();
        self.blocking(move |c| c.get(&key)).await
    }

    /// Every object as the tree holds it (for referential checks under the writer lock and
    /// reconciliation; a sync sends it after [`durable`](Self::durable)).
    pub async fn all(&self) -> Result<Vec<Object<K::Spec>>, Status> {
        self.blocking(|c| c.all()).await
    }

    /// One page in name order; `id_prefix` limits it to ids starting with it ("" for all).
    /// Returned once it is on disk.
    pub async fn list(
        &self,
        id_prefix: &str,
        requested_size: i32,
        token: &str,
    ) -> Result<(Vec<K::Proto>, String), Status> {
        let size = page_size(requested_size)?;
        let (id_prefix, token) = (id_prefix.to_owned(), token.to_owned());
        let page = self.read(move |c| c.list_within(&id_prefix, size, PAGE_BYTES, &token)).await?;
        Ok((page.objects.into_iter().map(|o| self.to_proto(o)).collect(), page.next_page_token))
    }

    /// Updates the object named `name` (the message's name) with the fields of `spec` the mask
    /// names (all of them when the mask is empty or names "spec" or "*"), then what the kind keeps
    /// from the stored spec ([`Kind::keep_stored`]). The merged spec is validated and
    /// `check`ed before anything is written. Needs the kind's service configured, as
    /// [`create`](Self::create) does.
    pub async fn update<F>(
        &self,
        name: &str,
        given_etag: &str,
        spec: Option<&K::Spec>,
        mask: Option<&FieldMask>,
        allow_missing: bool,
        check: impl Fn(K::Spec) -> F,
    ) -> Result<K::Proto, Status>
    where
        F: Future<Output = Result<(), Status>>,
    {
        let field = K::FIELD;
        let (key, spec) = update_message::<K>(name, spec, mask)?;
        self.services.configured(self.service)?;
        let spec_field = format!("{field}.spec");
        // Check and write under one writer lock so the check sees every earlier write; the
        // flush (durable) happens after it is released.
        let stored = async {
            let mut one_writer = self.collection.serialize_writes().await;
            // The message's spec (all of it, or the fields the mask names merged onto the
            // stored spec) with what it may leave blank kept from the stored spec; the
            // result is validated, checked and written only if nothing changed in between
            // (the etag we read, or the client's).
            let mut attempt = 0;
            loop {
                attempt += 1;
                let current = self.lookup(&key).await?;
                // Missing: NOT_FOUND before any check, unless allow_missing creates it.
                if current.is_none() && !allow_missing {
                    return Err(Status::not_found(format!("{name} not found")));
                }
                let read_etag = current.as_ref().map(|o| o.etag.clone());
                // A stale etag is ABORTED (AIP-154) before the spec is merged and judged: both
                // are against a stored object the client has not seen.
                if let Some(given) = etag(given_etag) {
                    dpu_store::check_etag(&key, read_etag.as_deref(), given)
                        .map_err(named_status::<K>)?;
                }
                let new = updated_spec::<K>(current.as_ref().map(|o| &o.spec), spec, mask);
                K::validate(&new, &spec_field)?;
                let mut new = self.assigned(&key, new).await?;
                K::mark_written(&mut new, current.as_ref().map(|o| &o.spec), self.next_revision());
                check(new.clone()).await?;
                K::canonical(&mut new);
                let expected = etag(given_etag).map(str::to_owned).or(read_etag);
                let (c, key) = (self.collection.clone(), key.clone());
                let update = async move {
                    c.update_applied(&key, expected.as_deref(), allow_missing, move |_| new.clone())
                        .await
                };
                let updated;
                (one_writer, updated) = self.locked(one_writer, update, |_| true).await?;
                match updated {
                    Ok(o) => break Ok(o),
                    // Changed by someone else since we read it: merge again (bounded).
                    Err(StoreError::EtagMismatch { .. } | StoreError::AlreadyExists(_))
                        if given_etag.is_empty() && attempt < 8 => {}
                    Err(e) => return Err(named_status::<K>(e)),
                }
            }
        }
        .await;
        // The writer lock is free: a refusal waits for the disk without holding writers.
        let pending = match stored {
            Ok(pending) => pending,
            Err(refusal) => return Err(self.refused(refusal).await),
        };
        let updated = pending.durable::<K>().await?;
        tracing::info!(%name, generation = updated.generation, "{field} updated");
        Ok(self.to_proto(updated))
    }

    /// Deletes `name` after `check` passed.
    pub async fn delete(
        &self,
        name: &str,
        given_etag: &str,
        allow_missing: bool,
        check: impl AsyncFnOnce() -> Result<(), Status>,
    ) -> Result<(), Status> {
        let key = K::key(name, "name")?;
        let found = async {
            let one_writer = self.collection.serialize_writes().await;
            // A missing object is NOT_FOUND (or nothing to do), and a stale etag ABORTED
            // (AIP-154), before the checks, which judge the object as stored.
            let Some(stored) = self.lookup(&key).await? else {
                return Ok(None);
            };
            if let Some(given) = etag(given_etag) {
                dpu_store::check_etag(&key, Some(&stored.etag), given)
                    .map_err(named_status::<K>)?;
            }
            check().await?;
            let (c, etag) = (self.collection.clone(), etag(given_etag).map(str::to_owned));
            let delete = async move { c.delete_applied(&key, etag.as_deref()).await };
            let (_one_writer, deleted) =
                self.locked(one_writer, delete, |existed| *existed).await?;
            deleted.map(Some).map_err(named_status::<K>)
        }
        .await;
        // The writer lock is free: an answer built on what the tree showed (missing, a
        // refusal) waits for the disk without holding writers.
        let pending = match found {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                self.durable().await?;
                return match allow_missing {
                    true => Ok(()),
                    false => Err(Status::not_found(format!("{name} not found"))),
                };
            }
            Err(refusal) => return Err(self.refused(refusal).await),
        };
        let existed = pending.durable::<K>().await?;
        if !existed && !allow_missing {
            return Err(Status::not_found(format!("{name} not found")));
        }
        if existed {
            tracing::info!(%name, "{} deleted", K::FIELD);
        }
        Ok(())
    }
}

/// Test support: starts `write` with `store`'s flushes held, then `sync` once the write's
/// flush waits, and asserts `sync` has not finished 300 ms later (it waits for what it
/// read to be on disk) before the flushes go; returns both results.
#[cfg(test)]
pub(crate) async fn sync_during_a_held_flush<W, S>(
    store: &dpu_store::Store,
    write: W,
    sync: S,
) -> (W::Output, S::Output)
where
    W: std::future::Future + Send + 'static,
    W::Output: Send + 'static,
    S: std::future::Future + Send + 'static,
    S::Output: Send + 'static,
{
    let hold = store.hold_flushes();
    let write = tokio::spawn(write);
    hold.flush_waiting().await;
    let sync = tokio::spawn(sync);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!sync.is_finished(), "a sync went out before what it read was on disk");
    hold.release();
    (write.await.unwrap(), sync.await.unwrap())
}

#[cfg(test)]
mod tests {
    use dpu_proto::dpu::system::v1::{ApplyState, SysctlSpec, SysctlStatus};

    use super::*;
    use crate::api::system::SysctlKind;

    /// The sysctl resources of a fresh store (kept while its directory lives).
    fn sysctls() -> (tempfile::TempDir, Resources<SysctlKind>) {
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        (dir, Resources::open(&store, &Services::unreachable(&["system"]), "system"))
    }

    /// The sysctl resources of a fresh store (returned too) whose service is `h`'s fake one.
    fn sysctls_served_by(
        h: &crate::services::fake::Harness,
    ) -> (tempfile::TempDir, dpu_store::Store, Resources<SysctlKind>) {
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        let services = Services {
            handles: [("system".to_owned(), h.handle.clone())].into(),
            ..Services::default()
        };
        let r = Resources::open(&store, &services, "system");
        (dir, store, r)
    }

    /// A write of a kind whose service the agent is not configured with is
    /// FAILED_PRECONDITION naming the `[[services]]` entry it lacks, and stores nothing:
    /// nothing would ever apply it, and it would stay PENDING. What is stored already (the
    /// configuration changed since) can still be read and deleted, so an operator can see
    /// and clean it up. A malformed request is still INVALID_ARGUMENT first.
    #[tokio::test]
    async fn writes_need_their_service_configured_reads_and_deletes_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        let r = Resources::<SysctlKind>::open(&store, &Services::default(), "system");
        let (one, two) = (SysctlSpec { value: "1".into() }, SysctlSpec { value: "2".into() });
        let name = "sysctls/vm.swappiness";
        let accept = |_: SysctlSpec| async { Ok(()) };
        let unconfigured = |e: Status| {
            assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
            assert!(e.message().contains(r#"[[services]] name = "system""#), "{e:?}");
        };
        unconfigured(r.create(name, "", Some(&one), async |_| Ok(())).await.unwrap_err());
        unconfigured(r.update(name, "", Some(&one), None, true, accept).await.unwrap_err());
        assert!(r.all().await.unwrap().is_empty(), "a refused write stored something");
        let e = r.create("sysctls/", "", Some(&one), async |_| Ok(())).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");

        // Stored while the service was configured.
        r.collection.create_applied(name, &one).await.unwrap().durable().await.unwrap();
        assert_eq!(r.get(name).await.unwrap().spec.as_ref(), Some(&one));
        let (listed, _) = r.list("", 0, "").await.unwrap();
        assert_eq!(listed.len(), 1);
        unconfigured(r.update(name, "", Some(&two), None, false, accept).await.unwrap_err());
        assert_eq!(r.get(name).await.unwrap().spec.as_ref(), Some(&one));
        r.delete(name, "", false, async || Ok(())).await.unwrap();
        assert!(r.all().await.unwrap().is_empty());
    }

    /// What the service reported about an object does not show on another object created
    /// under its name after it was deleted (which starts at generation 1 again).
    #[tokio::test]
    async fn a_status_is_about_one_object_not_its_name() {
        let (_dir, r) = sysctls();
        let spec = SysctlSpec { value: "1".into() };
        let name = "sysctls/vm.swappiness";
        let create = async || r.create(name, "", Some(&spec), async |_| Ok(())).await.unwrap();
        let state = |s: &dpu_proto::dpu::system::v1::Sysctl| s.status.as_ref().unwrap().state;
        let first = create().await;
        let created = r.lookup(name).await.unwrap().unwrap().create_time_unix_nanos;
        let applied = SysctlStatus {
            state: ApplyState::Applied.into(),
            applied_generation: first.generation,
            ..Default::default()
        };
        r.statuses.replace([(name.to_owned(), created, applied)]);
        assert_eq!(state(&r.get(name).await.unwrap()), ApplyState::Applied as i32);
        r.delete(name, "", false, async || Ok(())).await.unwrap();
        // Another creation time, even within one clock tick of the first.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let again = create().await;
        assert_eq!(again.generation, first.generation);
        assert_eq!(state(&again), ApplyState::Pending as i32, "{again:?}");
    }

    /// A List reply stays within what a gRPC client accepts by default (4 MiB), whatever
    /// page_size it asks for: 1,000 applied sysctls of the longest value (the value and the
    /// value read back, 8 KiB each) would be a reply of 8 MiB that `dpuctl list` (page_size
    /// 1000) cannot receive, built in memory on every call, host role included. Paging
    /// still visits every object once.
    #[tokio::test]
    async fn a_page_fits_a_client_message_limit() {
        use dpu_proto::dpu::system::v1::ListSysctlsResponse;
        let (_dir, r) = sysctls();
        let value = "1".repeat(dpu_system::sysctl::MAX_VALUE_LEN);
        let count = 1_100;
        let mut applied = Vec::new();
        let mut last = None;
        for i in 0..count {
            let name = format!("sysctls/dev.big.k{i:04}");
            let spec = SysctlSpec { value: value.clone() };
            let pending = r.collection.create_applied(&name, &spec).await.unwrap();
            let status = SysctlStatus {
                state: ApplyState::Applied.into(),
                applied_generation: 1,
                observed_value: value.clone(),
                ..Default::default()
            };
            applied.push((name, 0, status));
            last = Some(pending);
        }
        last.unwrap().durable().await.unwrap();
        for (name, created, _) in &mut applied {
            *created = r.lookup(name).await.unwrap().unwrap().create_time_unix_nanos;
        }
        r.statuses.replace(applied);
        let (mut seen, mut token) = (Vec::new(), String::new());
        loop {
            let (sysctls, next_page_token) = r.list("", 1000, &token).await.unwrap();
            assert!(!sysctls.is_empty());
            let names: Vec<String> = sysctls.iter().map(|s| s.name.clone()).collect();
            let reply = ListSysctlsResponse { sysctls, next_page_token };
            assert!(reply.encoded_len() <= 4 << 20, "a reply of {} bytes", reply.encoded_len());
            seen.extend(names);
            if reply.next_page_token.is_empty() {
                break;
            }
            token = reply.next_page_token;
        }
        let expected: Vec<_> = (0..count).map(|i| format!("sysctls/dev.big.k{i:04}")).collect();
        assert_eq!(seen, expected);
    }

    /// A runtime with one blocking thread, which a check can leave busy so that the
    /// write's compare-and-swap waits for it.
    fn one_blocking_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(1)
            .build()
            .unwrap()
    }

    /// Starts creating a sysctl whose check leaves the one blocking thread busy, so the
    /// store's swap waits, and drops the call while it waits, as a client going away.
    /// Returns the name and what frees the blocking thread.
    async fn create_dropped_while_storing(
        r: &Resources<SysctlKind>,
    ) -> (&'static str, std::sync::mpsc::Sender<()>) {
        use std::time::Duration;
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let name = "sysctls/vm.swappiness";
        let spec = SysctlSpec { value: "1".into() };
        let check = async move |_: &SysctlSpec| {
            drop(tokio::task::spawn_blocking(move || gate.recv()));
            Ok(())
        };
        let write = r.create(name, "", Some(&spec), check);
        tokio::select! {
            biased;
            _ = write => panic!("the write finished with the blocking thread busy"),
            // The write waits for its swap; the caller goes away.
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        (name, release)
    }

    /// A write whose caller goes away (a cancelled call, a deadline) after its checks passed
    /// keeps the writer lock until its mutation is in the store: the store's compare-and-swap
    /// runs on a blocking thread and lands even when the call's future is dropped, so a lock
    /// given back at the drop would let the next writer check against a state that is about
    /// to change under it (two namespaces on one volume, a namespace on a deleted volume).
    #[test]
    fn a_cancelled_write_holds_the_writer_lock_until_it_is_stored() {
        use std::time::Duration;
        let rt = one_blocking_thread();
        rt.block_on(async {
            let (_dir, r) = sysctls();
            let (name, release) = create_dropped_while_storing(&r).await;
            let unblock = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                let _ = release.send(());
            });
            let _one_writer = r.collection.serialize_writes().await;
            let seen = r.collection.get(name).unwrap().is_some();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let later = r.collection.get(name).unwrap().is_some();
            assert_eq!(seen, later, "a write landed while another writer held the lock");
            unblock.join().unwrap();
        });
    }

    /// A write whose caller goes away once its mutation is under way still nudges the service
    /// when the object is stored: nothing else would (a retried Create answers ALREADY_EXISTS
    /// and a retried Delete NOT_FOUND, neither a change), so the service would keep the old
    /// state until an unrelated write.
    #[test]
    fn a_cancelled_write_still_nudges_its_service() {
        use std::time::Duration;

        use crate::services::fake::Harness;
        let rt = one_blocking_thread();
        rt.block_on(async {
            let h = Harness::start(None).await;
            let synced = async |count: usize| {
                for _ in 0..60 {
                    if h.syncs().len() >= count {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                false
            };
            assert!(synced(1).await, "the first instance is synced");
            let (_dir, _store, r) = sysctls_served_by(&h);
            let (name, release) = create_dropped_while_storing(&r).await;
            release.send(()).unwrap();
            assert!(synced(2).await, "stored but never synced: syncs at {:?}", h.syncs());
            assert!(r.collection.get(name).unwrap().is_some(), "the write landed");
            h.stop().await;
        });
    }

    /// A write is acknowledged only once its service's health shows its store revision as
    /// desired, and the synced revision reaches it only by a sync that read its snapshot
    /// after the write: while the service does not answer (so no sync can carry a Delete),
    /// the Delete's revision stays above the synced one, and the first sync once it answers
    /// again brings it there. A client that waits until synced reaches desired (`dpuctl
    /// delete --wait`) thus never returns before a sync that carried the deletion.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_a_sync_that_carried_a_delete_reaches_its_revision() {
        use std::time::Duration;

        use crate::services::fake::Harness;
        let h = Harness::start(None).await;
        let (_dir, store, r) = sysctls_served_by(&h);
        *h.reconciler.store.lock().unwrap() = Some(store.clone());
        let synced_through = async |revision: u64| {
            for _ in 0..100 {
                if h.handle.state().synced_revision >= revision {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        };
        let name = "sysctls/vm.swappiness";
        let spec = SysctlSpec { value: "1".into() };
        r.create(name, "", Some(&spec), async |_| Ok(())).await.unwrap();
        assert_eq!(h.handle.state().desired_revision, 1, "the create's revision");
        assert!(synced_through(1).await, "the create was synced: {:?}", h.handle.state());

        // The service stops answering: no sync carries the delete.
        *h.service.refuse.lock().unwrap() = Some("stopped".into());
        let syncs = h.syncs().len();
        r.delete(name, "", false, async || Ok(())).await.unwrap();
        let state = h.handle.state();
        assert_eq!((state.desired_revision, store.revision()), (2, 2), "{state:?}");
        // Three probes' time.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let state = h.handle.state();
        assert_eq!((state.desired_revision, state.synced_revision), (2, 1), "{state:?}");
        assert_eq!(h.syncs().len(), syncs, "a sync while the service did not answer");

        *h.service.refuse.lock().unwrap() = None;
        assert!(synced_through(2).await, "the delete was never confirmed: {:?}", h.handle.state());
        assert_eq!(h.syncs().len(), syncs + 1, "syncs at {:?}", h.syncs());
        h.stop().await;
    }

    /// A write's store revision is desired from the moment it is in the tree, before its
    /// flush ends and before the writer lock goes: a Delete allowed missing that another
    /// caller's delete, still flushing, made missing answers once that flush is done, and
    /// its client, reading the desired revision after that answer (`dpuctl delete
    /// --allow-missing --wait`), must find that delete counted, not a revision the service
    /// already reached.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_is_desired_before_its_flush_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        let services = Services::unreachable(&["system"]);
        let r = Resources::<SysctlKind>::open(&store, &services, "system");
        let handle = services.get("system").unwrap().clone();
        let name = "sysctls/vm.swappiness";
        let spec = SysctlSpec { value: "1".into() };
        r.create(name, "", Some(&spec), async |_| Ok(())).await.unwrap();
        assert_eq!(handle.state().desired_revision, 1);
        let hold = store.hold_flushes();
        let c = r.clone();
        let delete = tokio::spawn(async move { c.delete(name, "", false, async || Ok(())).await });
        hold.flush_waiting().await;
        let c = r.clone();
        let missing = tokio::spawn(async move { c.delete(name, "", true, async || Ok(())).await });
        tokio::time::sleep(WAITS).await;
        assert!(!missing.is_finished(), "answered before the delete it saw was on disk");
        assert_eq!(handle.state().desired_revision, 2, "the delete in the tree is not desired");
        hold.release();
        delete.await.unwrap().unwrap();
        missing.await.unwrap().unwrap();
    }

    /// The mask `*` is a full replacement (AIP-134), as an empty mask or `spec` is: the
    /// whole spec of the message is stored, and sent again it changes nothing.
    #[tokio::test]
    async fn the_mask_star_replaces_the_whole_spec() {
        use pbjson_types::FieldMask;
        let (_dir, r) = sysctls();
        let name = "sysctls/vm.swappiness";
        let one = SysctlSpec { value: "1".into() };
        r.create(name, "", Some(&one), async |_| Ok(())).await.unwrap();
        let star = FieldMask { paths: vec!["*".into()] };
        let two = SysctlSpec { value: "2".into() };
        let accept = |_: SysctlSpec| async { Ok(()) };
        let updated = r.update(name, "", Some(&two), Some(&star), false, accept).await.unwrap();
        assert_eq!((updated.spec.as_ref(), updated.generation), (Some(&two), 2));
        let again = r.update(name, "", Some(&two), Some(&star), false, accept).await.unwrap();
        assert_eq!((again.generation, &again.etag), (2, &updated.etag));
        // Allowed missing, it creates the object with the whole spec.
        let missing = "sysctls/vm.overcommit_memory";
        let created = r.update(missing, "", Some(&two), Some(&star), true, accept).await.unwrap();
        assert_eq!(created.spec, Some(two));
    }

    /// Creating a name that exists is ALREADY_EXISTS, and updating one that does not
    /// NOT_FOUND, whatever the spec is and the checks would say of it.
    #[tokio::test]
    async fn existence_is_answered_before_any_check() {
        let (_dir, r) = sysctls();
        let spec = SysctlSpec { value: "1".into() };
        let name = "sysctls/vm.swappiness";
        r.create(name, "", Some(&spec), async |_| Ok(())).await.unwrap();
        let refused = async |_: &SysctlSpec| Err(Status::failed_precondition("conflicts"));
        let e = r.create(name, "", Some(&spec), refused).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::AlreadyExists, "{e:?}");
        // Nor does the spec's own validity come first (docs/api.md, Errors).
        let invalid = SysctlSpec { value: "1\n2".into() };
        let e = r.create(name, "", Some(&invalid), async |_| Ok(())).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::AlreadyExists, "{e:?}");
        // Likewise updating a missing one is NOT_FOUND, unless allow_missing creates it.
        let missing = "sysctls/vm.overcommit_memory";
        let refused = |_: SysctlSpec| async { Err(Status::failed_precondition("conflicts")) };
        let e = r.update(missing, "", Some(&spec), None, false, refused).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        let e = r.update(missing, "", Some(&spec), None, true, refused).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
    }

    /// An Update writes the whole spec of its message when the mask is empty or names
    /// "spec" or "*", else the fields the mask names over the stored spec, or over a
    /// default one when the object is missing (created by `allow_missing`).
    #[test]
    fn an_update_merges_the_masked_fields_over_the_stored_spec() {
        let (stored, given) = (SysctlSpec { value: "1".into() }, SysctlSpec { value: "2".into() });
        let mask = |path: &str| FieldMask { paths: vec![path.into()] };
        for whole in [None, Some(mask("spec")), Some(mask("*"))] {
            for current in [Some(&stored), None] {
                let new = updated_spec::<SysctlKind>(current, &given, whole.as_ref());
                assert_eq!(new, given, "{whole:?} over {current:?}");
            }
        }
        let value = mask("spec.value");
        assert_eq!(updated_spec::<SysctlKind>(Some(&stored), &given, Some(&value)), given);
        let none = FieldMask { paths: vec![] };
        assert_eq!(updated_spec::<SysctlKind>(Some(&stored), &given, Some(&none)), given);
        // A mask path the kind does not merge leaves the stored field (the mask check
        // refuses such paths first: `update_message`).
        let other = mask("spec.other");
        assert_eq!(updated_spec::<SysctlKind>(Some(&stored), &given, Some(&other)), stored);
        assert_eq!(updated_spec::<SysctlKind>(None, &given, Some(&other)), SysctlSpec::default());
    }

    /// A stale etag is ABORTED (AIP-154) whatever the spec or the checks would say: both
    /// judge the object as stored, which the client has not seen; re-reading is what it
    /// must do first. Errors of the request's own shape (a malformed name, a mask path)
    /// still come first.
    #[tokio::test]
    async fn a_stale_etag_is_answered_before_the_spec_is_judged() {
        use pbjson_types::FieldMask;
        let (_dir, r) = sysctls();
        let name = "sysctls/vm.swappiness";
        let accept = |_: SysctlSpec| async { Ok(()) };
        let refused = |_: SysctlSpec| async { Err(Status::failed_precondition("conflicts")) };
        let one = SysctlSpec { value: "1".into() };
        let stale = r.create(name, "", Some(&one), async |_| Ok(())).await.unwrap().etag;
        let two = SysctlSpec { value: "2".into() };
        r.update(name, &stale, Some(&two), None, false, accept).await.unwrap();
        let invalid = SysctlSpec { value: "1\n2".into() };
        let mask = FieldMask { paths: vec!["spec.value".into()] };
        for (spec, mask) in [(&invalid, None), (&invalid, Some(&mask)), (&one, None)] {
            let e = r.update(name, &stale, Some(spec), mask, false, refused).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::Aborted, "{spec:?} {mask:?}: {e:?}");
        }
        let e = r.delete(name, &stale, false, async || Err(Status::failed_precondition("used")));
        assert_eq!(e.await.unwrap_err().code(), tonic::Code::Aborted);
        // The request's shape first.
        let bad_mask = FieldMask { paths: vec!["status".into()] };
        let e = r.update(name, &stale, Some(&one), Some(&bad_mask), false, accept).await;
        assert_eq!(e.unwrap_err().code(), tonic::Code::InvalidArgument);
        let e = r.delete("sysctls/", &stale, false, async || Ok(())).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        // Nothing changed; the current etag still works.
        let current = r.get(name).await.unwrap();
        assert_eq!(current.spec, Some(two));
        r.delete(name, &current.etag, false, async || Ok(())).await.unwrap();
        // A missing object is NOT_FOUND (or, allowed missing, nothing) before the checks.
        let used = async || Err(Status::failed_precondition("used"));
        let e = r.delete(name, "", false, used).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        r.delete(name, &stale, true, used).await.unwrap();
    }

    /// How long a test lets a call run to see that it waits (it would answer well within).
    const WAITS: std::time::Duration = std::time::Duration::from_millis(300);

    /// The sysctl resources of a fresh store, and the store (for its flush hold).
    fn sysctls_and_store() -> (tempfile::TempDir, dpu_store::Store, Resources<SysctlKind>) {
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        let r = Resources::open(&store, &Services::unreachable(&["system"]), "system");
        (dir, store, r)
    }

    /// Spawns `call` and checks that it has not answered within [`WAITS`].
    async fn still_waiting<F>(what: &str, call: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let call = tokio::spawn(call);
        tokio::time::sleep(WAITS).await;
        assert!(!call.is_finished(), "{what} answered before the write it saw was on disk");
        call
    }

    /// Answers built on what the store's tree shows wait until what it showed is on disk:
    /// a Get and a List of an object whose Create is not flushed yet, a Get (NOT_FOUND) and
    /// a Delete allowed missing of one whose Delete is not, a Create refused as existing,
    /// an Update that changes nothing. A crash before the writers' flush would take back
    /// what they answered (docs/api.md, Durability). Once the flush is done they answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_built_on_an_unflushed_write_wait_for_its_flush() {
        let (_dir, store, r) = sysctls_and_store();
        let (a, b) = ("sysctls/vm.a", "sysctls/vm.b");
        let one = SysctlSpec { value: "1".into() };
        r.create(b, "", Some(&one), async |_| Ok(())).await.unwrap();
        let hold = store.hold_flushes();
        // Other callers create `a` and delete `b`: both in the tree, neither on disk.
        let (c, spec) = (r.clone(), one.clone());
        let create =
            tokio::spawn(async move { c.create(a, "", Some(&spec), async |_| Ok(())).await });
        hold.flush_waiting().await;
        let delete = {
            let r = r.clone();
            tokio::spawn(async move { r.delete(b, "", false, async || Ok(())).await })
        };
        for _ in 0..100 {
            if r.collection.get(b).unwrap().is_none() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(r.collection.get(b).unwrap().is_none(), "the delete is in the tree");

        let c = r.clone();
        let get = still_waiting("a Get", async move { c.get(a).await }).await;
        let c = r.clone();
        let list = still_waiting("a List", async move { c.list("", 0, "").await }).await;
        let c = r.clone();
        let gone = still_waiting("a Get of a deleted one", async move { c.get(b).await }).await;
        let c = r.clone();
        let missing = still_waiting("a Delete allowed missing", async move {
            c.delete(b, "", true, async || Ok(())).await
        })
        .await;
        let (c, spec) = (r.clone(), one.clone());
        let exists = still_waiting("a Create of an existing one", async move {
            c.create(a, "", Some(&spec), async |_| Ok(())).await
        })
        .await;
        let (c, spec) = (r.clone(), one.clone());
        let unchanged = still_waiting("an Update that changes nothing", async move {
            c.update(a, "", Some(&spec), None, false, |_| async { Ok(()) }).await
        })
        .await;

        hold.release();
        let created = create.await.unwrap().unwrap();
        delete.await.unwrap().unwrap();
        assert_eq!(get.await.unwrap().unwrap().etag, created.etag);
        let (listed, _) = list.await.unwrap().unwrap();
        assert_eq!(listed.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), [a]);
        assert_eq!(gone.await.unwrap().unwrap_err().code(), tonic::Code::NotFound);
        missing.await.unwrap().unwrap();
        assert_eq!(exists.await.unwrap().unwrap_err().code(), tonic::Code::AlreadyExists);
        assert_eq!(unchanged.await.unwrap().unwrap().etag, created.etag);
    }

    /// When the flush of a write that reads saw fails, the answers built on them fail too:
    /// UNAVAILABLE (the store serves nothing until the agent restarts on what the disk
    /// holds), as a read after the failure is; the writer's own outcome is UNKNOWN.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_built_on_a_write_whose_flush_failed_fail_with_it() {
        let (_dir, store, r) = sysctls_and_store();
        let a = "sysctls/vm.a";
        let one = SysctlSpec { value: "1".into() };
        let hold = store.hold_flushes();
        let (c, spec) = (r.clone(), one.clone());
        let create =
            tokio::spawn(async move { c.create(a, "", Some(&spec), async |_| Ok(())).await });
        hold.flush_waiting().await;
        let c = r.clone();
        let get = still_waiting("a Get", async move { c.get(a).await }).await;
        let (c, spec) = (r.clone(), one.clone());
        let unchanged = still_waiting("an Update that changes nothing", async move {
            c.update(a, "", Some(&spec), None, false, |_| async { Ok(()) }).await
        })
        .await;
        hold.fail("injected EIO");
        assert_eq!(create.await.unwrap().unwrap_err().code(), tonic::Code::Unknown);
        for (what, answer) in [("Get", get.await.unwrap()), ("Update", unchanged.await.unwrap())] {
            let e = answer.unwrap_err();
            assert_eq!(e.code(), tonic::Code::Unavailable, "{what}: {e:?}");
            assert!(e.message().contains("injected EIO"), "{what}: {e:?}");
        }
    }
}
