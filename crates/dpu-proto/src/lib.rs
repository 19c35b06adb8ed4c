//! Generated code for the `dpu.*` protobuf packages.
//!
//! The files under `src/gen/` are produced by `cargo xtask codegen` from `proto/` and checked in,
//! so building the workspace needs no protoc. A test in xtask regenerates them and fails when the
//! checked-in copy is stale.

#![allow(clippy::all, clippy::pedantic, missing_docs, rust_2018_idioms, unused_qualifications)]

pub mod dpu {
    pub mod system {
        pub mod v1 {
            include!("gen/dpu.system.v1.rs");
            include!("gen/dpu.system.v1.serde.rs");
        }
    }
    pub mod nvmf {
        pub mod v1 {
            include!("gen/dpu.nvmf.v1.rs");
            include!("gen/dpu.nvmf.v1.serde.rs");
        }
    }
    pub mod switch {
        pub mod v1 {
            include!("gen/dpu.switch.v1.rs");
            include!("gen/dpu.switch.v1.serde.rs");
        }
    }
    pub mod internal {
        pub mod v1 {
            include!("gen/dpu.internal.v1.rs");
            include!("gen/dpu.internal.v1.serde.rs");
        }
    }
}

/// Encoded `FileDescriptorSet` of every package, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("gen/descriptor.bin");

/// Full names of the public services the agent serves (for health and reflection).
pub const PUBLIC_SERVICES: &[&str] =
    &["dpu.system.v1.SystemService", "dpu.nvmf.v1.NvmfService", "dpu.switch.v1.SwitchService"];

pub use pbjson_types;

impl dpu::nvmf::v1::HostSecret {
    /// The DHGID of `dh_group` (the enum's values are the NVMe DHGIDs); a value outside a
    /// byte is 0xFF, which no DH group has.
    pub fn dh_group_id(&self) -> u8 {
        u8::try_from(self.dh_group).unwrap_or(u8::MAX)
    }

    /// The HashID `hash` asks for (the enum's values are the NVMe HashIDs; 0: the host's
    /// first choice); a value outside a byte is 0xFF, which no hash has.
    pub fn hash_id(&self) -> u8 {
        u8::try_from(self.hash).unwrap_or(u8::MAX)
    }

    /// Whether the entry has a controller secret (the host may ask the controller to prove
    /// itself); a blank one means one-way, as the agent and the service read it.
    pub fn has_ctrl_secret(&self) -> bool {
        !self.dhchap_ctrl_secret.trim().is_empty()
    }

    /// Whether an update's entry keeps the stored controller secret of its host: it
    /// leaves the secret blank (as every reply shows it) with `bidirectional` set; blank
    /// without it means one-way. The one reading of the two (the agent, `dpuctl`).
    pub fn keeps_stored_ctrl_secret(&self) -> bool {
        self.bidirectional && !self.has_ctrl_secret()
    }
}

/// An entry of a namespace's `allowed_hosts` that its subsystem does not let in
/// ([`SubsystemSpec::host_not_let_in`](dpu::nvmf::v1::SubsystemSpec::host_not_let_in)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostNotLetIn<'a> {
    /// The entry's index in `allowed_hosts`.
    pub index: usize,
    /// The host NQN it names.
    pub host: &'a str,
}

impl HostNotLetIn<'_> {
    /// Why the namespace is refused, starting at its `allowed_hosts` field (the caller puts
    /// the path to the spec before it); `subsystem` is its subsystem's name. The one wording
    /// of the refusal (the agent's writes, the service's Sync).
    pub fn message(&self, subsystem: &str) -> String {
        let Self { index, host } = self;
        format!(
            "allowed_hosts[{index}]: {subsystem} does not let host {host} in (allow_any_host is \
             false and its allowed_hosts do not list it): no such host would ever see the \
             namespace; add the host to the subsystem first"
        )
    }
}

impl dpu::nvmf::v1::SubsystemSpec {
    /// The spec as the public API shows it: the DH-HMAC-CHAP secrets are write-only, so
    /// every `host_secrets` entry keeps its host NQN, has both secrets blank and says in
    /// `bidirectional` whether a controller secret is set. The one redaction every reader
    /// of a subsystem goes through (the agent's responses, `dpuctl apply`/`diff`'s
    /// comparison of a manifest with what the agent shows).
    pub fn without_secrets(mut self) -> Self {
        for h in &mut self.host_secrets {
            h.bidirectional = h.has_ctrl_secret();
            h.dhchap_secret.clear();
            h.dhchap_ctrl_secret.clear();
        }
        self
    }

    /// The spec written in an update as the public API then shows it: as
    /// [`without_secrets`](Self::without_secrets), and bidirectional where the entry keeps
    /// the stored controller secret ([`HostSecret::keeps_stored_ctrl_secret`]), so a
    /// manifest that leaves its secrets out compares equal to the agent's copy (assuming
    /// the agent has one stored, which only the agent knows).
    ///
    /// [`HostSecret::keeps_stored_ctrl_secret`]: dpu::nvmf::v1::HostSecret::keeps_stored_ctrl_secret
    pub fn shown_once_written(self) -> Self {
        let kept: Vec<bool> =
            self.host_secrets.iter().map(|h| h.keeps_stored_ctrl_secret()).collect();
        let mut shown = self.without_secrets();
        for (h, kept) in shown.host_secrets.iter_mut().zip(kept) {
            h.bidirectional |= kept;
        }
        shown
    }

    /// Whether host `host_nqn` may connect to the subsystem (and see its namespaces): any
    /// host (`allow_any_host`) or one its `allowed_hosts` list, as the service's registry
    /// reads the spec it applies (`dpu_nvmf::target::SubsystemSpec::allows`). The one
    /// reading of the two fields for a spec of the API (the agent's checks, the service's
    /// Sync).
    pub fn allows_host(&self, host_nqn: &str) -> bool {
        self.allow_any_host || self.allowed_hosts.iter().any(|h| h == host_nqn)
    }

    /// The first entry of `namespace`'s `allowed_hosts` (its index and NQN) that this
    /// subsystem does not let in ([`allows_host`](Self::allows_host)): no such host ever
    /// connects, so the namespace would be shown to nobody by it (a typo, most often). Hosts
    /// in `named_before` pass: the namespace named them already, and a subsystem update that
    /// dropped them (revoking a host is one write) left the entry inert, which must not fail
    /// the namespace. The one check of a namespace's hosts against its subsystem (the
    /// agent's writes, the service's Sync).
    pub fn host_not_let_in<'a>(
        &self,
        namespace: &'a dpu::nvmf::v1::NamespaceSpec,
        named_before: &[String],
    ) -> Option<HostNotLetIn<'a>> {
        let new = |h: &&String| !named_before.contains(h);
        let hosts = namespace.allowed_hosts.iter().enumerate();
        hosts
            .filter(|(_, h)| new(h) && !self.allows_host(h))
            .map(|(index, host)| HostNotLetIn { index, host })
            .next()
    }

    /// Whether any entry of `host_secrets` carries secret text (a write, not a read).
    pub fn has_secrets(&self) -> bool {
        self.host_secrets
            .iter()
            .any(|h| !h.dhchap_secret.is_empty() || !h.dhchap_ctrl_secret.is_empty())
    }

    /// The controller IDs `min_cntlid`..=`max_cntlid` ask for, a 0 bound at its default
    /// (1, [`MAX_CNTLID`]); an error is the field at fault and what is wrong with it (a
    /// message starting with the field's name). The one reading of the two fields (the
    /// agent's validation, the service, `dpuctl`).
    pub fn cntlid_range(&self) -> Result<std::ops::RangeInclusive<u16>, (&'static str, String)> {
        let bound = |field: &'static str, v: u32, default: u16| match v {
            0 => Ok(default),
            v => u16::try_from(v)
                .ok()
                .filter(|&v| v <= MAX_CNTLID)
                .ok_or_else(|| (field, format!("{field} {v} is outside 1-{MAX_CNTLID}"))),
        };
        let min = bound("min_cntlid", self.min_cntlid, 1)?;
        let max = bound("max_cntlid", self.max_cntlid, MAX_CNTLID)?;
        if min > max {
            return Err(("min_cntlid", format!("min_cntlid {min} is above max_cntlid {max}")));
        }
        Ok(min..=max)
    }

    /// The I/O queue limit `max_io_queues` asks for ([`DEFAULT_IO_QUEUES`] for 0); an error
    /// is the field and what is wrong with it. The one reading of the field (the agent's
    /// validation, the service, `dpuctl`).
    pub fn io_queue_limit(&self) -> Result<u16, (&'static str, String)> {
        match self.max_io_queues {
            0 => Ok(DEFAULT_IO_QUEUES),
            n => u16::try_from(n).ok().filter(|&n| n <= MAX_IO_QUEUES).ok_or_else(|| {
                ("max_io_queues", format!("max_io_queues {n} is outside 1-{MAX_IO_QUEUES}"))
            }),
        }
    }
}

impl dpu::nvmf::v1::ListenerSpec {
    /// The transport in the one form it has: TCP for an unset one, which means TCP (the
    /// only transport), so an update that only respells it changes nothing.
    pub fn canonical_trtype(&self) -> i32 {
        use dpu::nvmf::v1::TransportType;
        if self.trtype == TransportType::Unspecified as i32 {
            TransportType::Tcp as i32
        } else {
            self.trtype
        }
    }

    /// Gives each ANA group its `set_revision` for a write of this spec over `stored`
    /// (none: a create) that will be store revision `revision`: the stored one where the
    /// group's state stays as stored, else `revision`. What a client sent is ignored.
    pub fn mark_ana_writes(&mut self, stored: Option<&Self>, revision: u64) {
        for g in &mut self.ana_groups {
            let kept = stored.and_then(|s| s.ana_groups.iter().find(|o| o.group == g.group));
            g.set_revision = match kept {
                Some(o) if o.state == g.state => o.set_revision,
                _ => revision,
            };
        }
    }

    /// The spec as replies show it: no `set_revision` (the agent's bookkeeping).
    pub fn without_ana_revisions(mut self) -> Self {
        for g in &mut self.ana_groups {
            g.set_revision = 0;
        }
        self
    }

    /// Whether a host asking for header digests in its ICReq gets them: unless the spec
    /// says false; unset allows them, as Linux's nvmet and the service's own configuration
    /// file do. The one reading of the field (the service, `dpuctl`).
    pub fn header_digest_allowed(&self) -> bool {
        self.allow_header_digest != Some(false)
    }

    /// As [`header_digest_allowed`](Self::header_digest_allowed), for data digests.
    pub fn data_digest_allowed(&self) -> bool {
        self.allow_data_digest != Some(false)
    }
}

impl dpu::nvmf::v1::VolumeSpec {
    /// The block size the spec asks for in the one form each size has: 512 for a RAM or
    /// file volume's 0, which means 512 for them, so the two spellings are one size. A
    /// block device's 0 means its device's own size, which may be another, so it stays 0.
    /// The one reading of the spellings (the service's volume identity, `dpuctl`'s
    /// comparison with the agent's copy).
    pub fn canonical_block_size(&self) -> u32 {
        use dpu::nvmf::v1::volume_spec::Backend;
        match (&self.backend, self.block_size) {
            (Some(Backend::Ram(_) | Backend::File(_)), 0) => 512,
            (_, block_size) => block_size,
        }
    }
}

impl dpu::nvmf::v1::LatencyHistogram {
    /// Buckets of the histograms the nvmf service sends: bucket `i` (0..=24) counts
    /// operations of at most 2^i µs, the last those above 2^24 µs.
    pub const BUCKETS: usize = 26;

    /// The upper bound of bucket `i` in microseconds; `None` for the last (unbounded).
    pub fn bucket_bound_us(i: usize) -> Option<u64> {
        (i + 1 < Self::BUCKETS).then(|| 1u64 << i)
    }

    /// Operations counted (saturating: the counts come from another process).
    pub fn count(&self) -> u64 {
        self.counts.iter().fold(0, |sum, &c| sum.saturating_add(c))
    }

    /// Quantile `q` (0.5: the median, 0.99) as the bound of the bucket holding it (nearest
    /// rank), i.e. at most that many microseconds; `None` without operations or when it
    /// falls in the last, unbounded bucket.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen = c.saturating_add(seen);
            if seen >= rank {
                return Self::bucket_bound_us(i);
            }
        }
        None
    }
}

impl dpu::nvmf::v1::ListenerSpec {
    /// The discovery services this listener refers hosts to, checked: each an IP
    /// address ([`canonical_ip`]: any spelling, compared and returned in its one form)
    /// that is not a wildcard or multicast, a port in 0-65535 (0: 8009, the well-known
    /// discovery port), none twice, at most [`MAX_REFERRALS`]. An error is the field at
    /// fault and what is wrong with it (a message starting with the field's name). The one
    /// reading of the field (the agent's validation, the service, its configuration file).
    pub fn referral_addrs(&self) -> Result<Vec<std::net::SocketAddr>, (String, String)> {
        if self.referrals.len() > MAX_REFERRALS {
            let n = self.referrals.len();
            return Err((
                "referrals".into(),
                format!("referrals: {n} given, at most {MAX_REFERRALS}"),
            ));
        }
        let mut out = Vec::with_capacity(self.referrals.len());
        for (i, r) in self.referrals.iter().enumerate() {
            let field = |name: &str| format!("referrals[{i}].{name}");
            let ip = canonical_ip(&r.address).ok_or_else(|| {
                let f = field("address");
                (f.clone(), format!("{f} {:?} is not an IP address", r.address))
            })?;
            if ip.is_unspecified() || ip.is_multicast() {
                let f = field("address");
                return Err((f.clone(), format!("{f} {ip} is not the address of one host")));
            }
            let port = match r.port {
                0 => DISCOVERY_PORT,
                p => u16::try_from(p).map_err(|_| {
                    let f = field("port");
                    (f.clone(), format!("{f} {p} is outside 0-65535"))
                })?,
            };
            let addr = std::net::SocketAddr::new(ip, port);
            if out.contains(&addr) {
                let f = field("address");
                return Err((f.clone(), format!("{f}: {addr} is listed twice")));
            }
            out.push(addr);
        }
        Ok(out)
    }
}

/// An address given as text (a listener's, a referral's) in its one form: any spelling
/// `IpAddr` parses is that address (hex digits of either case, zero-padded groups, `::`
/// anywhere), and an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2) its
/// IPv4 address, which is what Linux binds and dials for it. Its `Display` is the form the
/// agent stores and hosts are told; two spellings of one address compare equal. The one
/// reading of such a text: the agent's stored form, the service's Sync and configuration
/// file, `dpuctl`'s comparison with the agent's copy. (The API refuses an IPv4-mapped
/// listener address when written, naming this form; one stored before reads as it.)
pub fn canonical_ip(text: &str) -> Option<std::net::IpAddr> {
    text.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// Most referrals one listener carries (each is a 1 KiB discovery log entry).
pub const MAX_REFERRALS: usize = 64;

/// The well-known NVMe-oF discovery port (NVMe/TCP 1.0 §3.1).
pub const DISCOVERY_PORT: u16 = 8009;

/// I/O queues a controller is granted when `max_io_queues` is 0.
pub const DEFAULT_IO_QUEUES: u16 = 32;
/// The largest `max_io_queues`.
pub const MAX_IO_QUEUES: u16 = 128;

/// The highest controller ID an NVMe-oF controller may have (NVMe-oF 1.1 §3.3.1: FFF0h
/// and above are reserved, FFFFh asks for a dynamic ID).
pub const MAX_CNTLID: u16 = 0xFFEF;

/// Most names [`failed_objects`] gives: a log line or a health message stays short
/// whatever the count.
pub const FAILED_NAMED: usize = 3;

/// What a sync left FAILED, for a log line or a health message: "1 object failed:
/// listeners/busy", "5 objects failed: a, b, c and 2 more" (the first [`FAILED_NAMED`]
/// names); None for none.
pub fn failed_objects<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut count = 0usize;
    let mut named = Vec::with_capacity(FAILED_NAMED);
    for name in names {
        count += 1;
        if named.len() < FAILED_NAMED {
            named.push(name);
        }
    }
    let objects = match count {
        0 => return None,
        1 => "1 object".to_owned(),
        n => format!("{n} objects"),
    };
    let more = match count - named.len() {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    Some(format!("{objects} failed: {}{more}", named.join(", ")))
}

impl dpu::nvmf::v1::SyncResponse {
    /// The names of the objects the Sync left FAILED: volumes, subsystems, namespaces,
    /// listeners.
    pub fn failed_names(&self) -> Vec<&str> {
        use dpu::nvmf::v1::ApplyState;
        // Each kind has its own status message, all holding an `apply` ObjectStatus.
        macro_rules! applied {
            ($objects:expr) => {
                $objects
                    .iter()
                    .map(|o| (o.name.as_str(), o.status.as_ref().and_then(|s| s.apply.as_ref())))
            };
        }
        applied!(self.volumes)
            .chain(applied!(self.subsystems))
            .chain(applied!(self.namespaces))
            .chain(applied!(self.listeners))
            .filter(|(_, apply)| apply.is_some_and(|a| a.state == ApplyState::Failed as i32))
            .map(|(name, _)| name)
            .collect()
    }
}

/// An enum field's value as the generated serializers write it (proto3 JSON mapping): its
/// name when this build knows the value, else its number, which the mapping's parsers
/// accept too. A newer peer adds values; refusing to serialize them would fail `dpuctl -o
/// json` and blank every object the client renders through JSON. `cargo xtask codegen`
/// makes pbjson's output use this instead of its "Invalid variant" error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue<T>(Result<T, i32>);

impl<T: TryFrom<i32>> EnumValue<T> {
    pub fn of(value: i32) -> Self {
        Self(T::try_from(value).map_err(|_| value))
    }
}

impl<T: serde::Serialize> serde::Serialize for EnumValue<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Ok(known) => known.serialize(serializer),
            Err(number) => serializer.serialize_i32(*number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dpu::nvmf::v1::SubsystemSpec;

    /// A summary of failed objects counts them all and names the first few.
    #[test]
    fn failed_objects_are_counted_and_the_first_named() {
        use super::failed_objects;
        assert_eq!(failed_objects([]), None);
        assert_eq!(failed_objects(["listeners/busy"]).unwrap(), "1 object failed: listeners/busy");
        assert_eq!(failed_objects(["a", "b", "c"]).unwrap(), "3 objects failed: a, b, c");
        let many = ["a", "b", "c", "d", "e"];
        assert_eq!(failed_objects(many).unwrap(), "5 objects failed: a, b, c and 2 more");
    }

    /// A Sync's FAILED objects of every kind, by name; APPLIED and PENDING ones are not.
    #[test]
    fn a_syncs_failed_objects_are_named() {
        use super::dpu::nvmf::v1::{
            ApplyState, Listener, ListenerStatus, Namespace, NamespaceStatus, ObjectStatus,
            SyncResponse, Volume, VolumeStatus,
        };
        let apply =
            |state: ApplyState| Some(ObjectStatus { state: state as i32, ..Default::default() });
        let volume = |name: &str, state| Volume {
            name: name.into(),
            status: Some(VolumeStatus { apply: apply(state), ..Default::default() }),
            ..Default::default()
        };
        let response = SyncResponse {
            volumes: vec![
                volume("volumes/ok", ApplyState::Applied),
                volume("volumes/f1", ApplyState::Failed),
            ],
            namespaces: vec![Namespace {
                name: "subsystems/s/namespaces/1".into(),
                status: Some(NamespaceStatus {
                    apply: apply(ApplyState::Pending),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            listeners: vec![Listener {
                name: "listeners/busy".into(),
                status: Some(ListenerStatus {
                    apply: apply(ApplyState::Failed),
                    port_id: 0,
                    ana_groups: Vec::new(),
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(response.failed_names(), ["volumes/f1", "listeners/busy"]);
    }

    /// A value a newer agent added is written as its number; known ones by name.
    #[test]
    fn unknown_enum_values_serialize_as_numbers() {
        use super::dpu::nvmf::v1::{AnaGroupState, AnaState};
        use super::dpu::switch::v1::ObjectStatus;
        fn json<T: serde::Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap_or_else(|e| format!("error: {e}"))
        }
        let g = |state| AnaGroupState { group: 2, state, ..Default::default() };
        let known = json(&g(AnaState::Inaccessible as i32));
        assert_eq!(known, r#"{"group":2,"state":"ANA_STATE_INACCESSIBLE"}"#);
        assert_eq!(json(&g(99)), r#"{"group":2,"state":99}"#);
        assert_eq!(json(&ObjectStatus { state: -3, ..Default::default() }), r#"{"state":-3}"#);
    }

    #[test]
    fn latency_quantiles_are_bucket_bounds_by_nearest_rank() {
        use super::dpu::nvmf::v1::LatencyHistogram as H;
        let mut h = H { counts: vec![0; H::BUCKETS], sum_ns: 0 };
        assert_eq!(h.quantile_us(0.5), None);
        h.counts[7] = 98; // at most 128 µs
        h.counts[12] = 1; // at most 4,096 µs
        h.counts[25] = 1; // above 2^24 µs
        assert_eq!(h.count(), 100);
        assert_eq!([0.5, 0.98, 0.99].map(|q| h.quantile_us(q)), [Some(128), Some(128), Some(4096)]);
        assert_eq!(h.quantile_us(1.0), None, "the unbounded bucket");
        assert_eq!(
            (H::bucket_bound_us(0), H::bucket_bound_us(24), H::bucket_bound_us(25)),
            (Some(1), Some(1 << 24), None)
        );
        // Counts from another process may add up past u64: saturated, not a panic.
        let huge = H { counts: vec![u64::MAX, u64::MAX], sum_ns: 0 };
        assert_eq!((huge.count(), huge.quantile_us(0.99)), (u64::MAX, Some(1)));
    }

    /// A listener spec with `refs` as its referrals (address, port).
    fn referrals_spec(refs: &[(&str, u32)]) -> super::dpu::nvmf::v1::ListenerSpec {
        use super::dpu::nvmf::v1::{ListenerSpec, Referral};
        ListenerSpec {
            referrals: refs
                .iter()
                .map(|(a, p)| Referral { address: (*a).into(), port: *p })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn referral_addrs_default_the_port_and_errors_name_the_field() {
        let got = referrals_spec(&[("192.0.2.20", 0), ("2001:db8::7", 4420)]).referral_addrs();
        let want = ["192.0.2.20:8009".parse().unwrap(), "[2001:db8::7]:4420".parse().unwrap()];
        assert_eq!(got, Ok(want.to_vec()));
        assert_eq!(referrals_spec(&[]).referral_addrs(), Ok(vec![]));
        let err = |refs: &[(&str, u32)]| referrals_spec(refs).referral_addrs().unwrap_err();
        assert_eq!(err(&[("192.0.2.1", 0), ("host", 1)]).0, "referrals[1].address");
        assert_eq!(err(&[("0.0.0.0", 8009)]).0, "referrals[0].address");
        assert_eq!(err(&[("224.0.0.1", 8009)]).0, "referrals[0].address");
        assert_eq!(err(&[("192.0.2.1", 70_000)]).0, "referrals[0].port");
        let e = err(&[("192.0.2.1", 0), ("192.0.2.1", 8009)]);
        assert_eq!(
            e,
            (
                "referrals[1].address".into(),
                "referrals[1].address: 192.0.2.1:8009 is listed twice".into()
            )
        );
        let many: Vec<(&str, u32)> = (1..=65).map(|p| ("192.0.2.1", p)).collect();
        assert_eq!(err(&many).0, "referrals");
    }

    /// Referral addresses are read in their one form, as listener addresses are: any
    /// spelling of an address is that address, an IPv4-mapped one its IPv4 address (what
    /// Linux dials for it), so two spellings of one are listed twice.
    #[test]
    fn referral_addrs_are_read_in_their_canonical_form() {
        let got = referrals_spec(&[("::FFFF:192.0.2.20", 0), ("2001:0DB8:0:0::0007", 4420)])
            .referral_addrs();
        let want = ["192.0.2.20:8009".parse().unwrap(), "[2001:db8::7]:4420".parse().unwrap()];
        assert_eq!(got, Ok(want.to_vec()));
        assert!(got.unwrap()[0].is_ipv4(), "told to hosts as IPv4 (ADRFAM 1)");
        let twice =
            |a: &str, b: &str| referrals_spec(&[(a, 0), (b, 8009)]).referral_addrs().unwrap_err();
        assert_eq!(twice("192.0.2.1", "::ffff:192.0.2.1").0, "referrals[1].address");
        assert_eq!(twice("2001:db8::1", "2001:DB8:0::01").0, "referrals[1].address");
        let unspecified = referrals_spec(&[("::ffff:0.0.0.0", 0)]).referral_addrs().unwrap_err();
        assert_eq!(unspecified.0, "referrals[0].address", "a wildcard however spelt");
    }

    /// A manifest that leaves the secrets out but says `bidirectional` is shown as the
    /// agent will show it: bidirectional, the stored controller secret kept.
    #[test]
    fn shown_once_written_keeps_bidirectional_for_a_kept_ctrl_secret() {
        use super::dpu::nvmf::v1::HostSecret;
        let entry = |secret: &str, ctrl: &str, bidirectional| HostSecret {
            host_nqn: "nqn.2014-08.org.example:h1".into(),
            dhchap_secret: secret.into(),
            dhchap_ctrl_secret: ctrl.into(),
            bidirectional,
            ..Default::default()
        };
        let shown = |h: HostSecret| {
            let spec = SubsystemSpec { host_secrets: vec![h], ..Default::default() };
            let s = spec.shown_once_written().host_secrets.remove(0);
            assert_eq!((s.dhchap_secret.as_str(), s.dhchap_ctrl_secret.as_str()), ("", ""));
            s.bidirectional
        };
        assert!(shown(entry("", "", true)), "blank, bidirectional: the stored one is kept");
        assert!(!shown(entry("", "", false)), "blank, not bidirectional: one-way");
        assert!(shown(entry("DHHC-1:00:a:", "DHHC-1:00:b:", false)), "a controller secret");
        assert!(!shown(entry("DHHC-1:00:a:", " ", false)));
        assert!(entry("", " ", true).keeps_stored_ctrl_secret());
        assert!(!entry("", "DHHC-1:00:b:", true).keeps_stored_ctrl_secret());
        // What a reply shows of a stored spec stays what its secrets say.
        let stored =
            SubsystemSpec { host_secrets: vec![entry("a", "", true)], ..Default::default() };
        assert!(!stored.without_secrets().host_secrets[0].bidirectional);
    }

    #[test]
    fn canonical_trtype_is_tcp_for_unset() {
        use super::dpu::nvmf::v1::{ListenerSpec, TransportType};
        let spec = |t: TransportType| ListenerSpec { trtype: t as i32, ..Default::default() };
        let tcp = TransportType::Tcp as i32;
        assert_eq!(spec(TransportType::Unspecified).canonical_trtype(), tcp);
        assert_eq!(spec(TransportType::Tcp).canonical_trtype(), tcp);
        assert_eq!(ListenerSpec { trtype: 77, ..Default::default() }.canonical_trtype(), 77);
    }

    #[test]
    fn canonical_block_size_is_one_form_per_size() {
        use super::dpu::nvmf::v1::{
            BlockDeviceBackend, FileBackend, RamBackend, VolumeSpec, volume_spec::Backend,
        };
        let spec = |backend, block_size| VolumeSpec {
            backend: Some(backend),
            block_size,
            ..Default::default()
        };
        let ram = Backend::Ram(RamBackend { size_bytes: 1 << 20 });
        let file = Backend::File(FileBackend::default());
        for backend in [ram, file] {
            assert_eq!(spec(backend.clone(), 0).canonical_block_size(), 512);
            assert_eq!(spec(backend.clone(), 512).canonical_block_size(), 512);
            assert_eq!(spec(backend, 4096).canonical_block_size(), 4096);
        }
        // A block device's 0 is its device's size, not 512.
        let device = Backend::BlockDevice(BlockDeviceBackend::default());
        assert_eq!(spec(device.clone(), 0).canonical_block_size(), 0);
        assert_eq!(spec(device, 512).canonical_block_size(), 512);
        assert_eq!(VolumeSpec::default().canonical_block_size(), 0);
    }

    #[test]
    fn io_queue_limit_defaults_and_errors_name_the_field() {
        let spec = |n| SubsystemSpec { max_io_queues: n, ..Default::default() };
        assert_eq!(spec(0).io_queue_limit(), Ok(32));
        assert_eq!(spec(1).io_queue_limit(), Ok(1));
        assert_eq!(spec(128).io_queue_limit(), Ok(128));
        let e = spec(129).io_queue_limit().unwrap_err();
        assert_eq!(e, ("max_io_queues", "max_io_queues 129 is outside 1-128".into()));
        assert!(spec(1 << 20).io_queue_limit().is_err());
    }

    #[test]
    fn cntlid_range_defaults_and_errors_name_the_field() {
        let r = |min, max| SubsystemSpec { min_cntlid: min, max_cntlid: max, ..Default::default() };
        assert_eq!(r(0, 0).cntlid_range(), Ok(1..=0xFFEF));
        assert_eq!(r(100, 199).cntlid_range(), Ok(100..=199));
        assert_eq!(r(7, 7).cntlid_range(), Ok(7..=7));
        assert_eq!(r(0xFFEF, 0).cntlid_range(), Ok(0xFFEF..=0xFFEF));
        let e = r(0xFFF0, 0).cntlid_range().unwrap_err();
        assert_eq!(e, ("min_cntlid", "min_cntlid 65520 is outside 1-65519".into()));
        let e = r(0, 70_000).cntlid_range().unwrap_err();
        assert_eq!(e, ("max_cntlid", "max_cntlid 70000 is outside 1-65519".into()));
        let e = r(200, 100).cntlid_range().unwrap_err();
        assert_eq!(e, ("min_cntlid", "min_cntlid 200 is above max_cntlid 100".into()));
    }
}
