//! Tables for people; JSON/YAML (proto3 JSON mapping) for programs.

use dpu_client::manifest::{self, Kind};
use dpu_client::output::{Document, Format, serialize, table};
use dpu_client::switch::SwitchObject;
use dpu_proto::dpu::nvmf::v1 as nvmf;
use dpu_proto::dpu::switch::v1 as sw;
use dpu_proto::dpu::system::v1::{
    AgentMetrics, ApplyState, Health, Inventory, ServingState, Sysctl,
};

type Result = anyhow::Result<String>;

fn structured<T: serde::Serialize>(v: &T, format: Format) -> Option<Result> {
    (format != Format::Table).then(|| serialize(v, format).map_err(anyhow::Error::msg))
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

pub fn inventory(inv: &Inventory, format: Format) -> Result {
    if let Some(out) = structured(inv, format) {
        return out;
    }
    let mut out = table(
        &["FIELD", "VALUE"],
        &[
            vec!["hostname".into(), inv.hostname.clone()],
            vec!["kernel".into(), format!("{} ({})", inv.kernel_release, inv.architecture)],
            vec!["cpu".into(), format!("{} x {}", inv.cpu_count, inv.cpu_model)],
            vec![
                "memory".into(),
                format!(
                    "{} total, {} available",
                    gib(inv.memory_total_bytes),
                    gib(inv.memory_available_bytes)
                ),
            ],
            vec!["uptime".into(), format!("{} s", inv.uptime_seconds)],
        ],
    );
    out.push('\n');
    let rows: Vec<Vec<String>> = inv
        .interfaces
        .iter()
        .map(|i| {
            vec![
                i.name.clone(),
                if i.mac_address.is_empty() { "-".into() } else { i.mac_address.clone() },
                i.mtu.to_string(),
                i.oper_state.clone(),
                if i.addresses.is_empty() { "-".into() } else { i.addresses.join(",") },
            ]
        })
        .collect();
    out.push_str(&table(&["INTERFACE", "MAC", "MTU", "STATE", "ADDRESSES"], &rows));
    out.push('\n');
    let rows: Vec<Vec<String>> =
        inv.versions.iter().map(|v| vec![v.component.clone(), v.version.clone()]).collect();
    out.push_str(&table(&["COMPONENT", "VERSION"], &rows));
    Ok(out)
}

fn serving(state: i32) -> &'static str {
    match ServingState::try_from(state) {
        Ok(ServingState::Serving) => "SERVING",
        Ok(ServingState::NotServing) => "NOT_SERVING",
        _ => "UNKNOWN",
    }
}

/// `text`, or "-" when the agent left it empty (not reported, or never happened).
fn or_dash(text: &str) -> String {
    if text.is_empty() { "-".into() } else { text.to_owned() }
}

/// How much of a service's instance id the table shows (as `docker ps` shortens ids):
/// enough to tell one start from the next; `-o json` has it whole.
const SHORT_INSTANCE: usize = 12;

fn short_instance(id: &str) -> String {
    or_dash(id.get(..SHORT_INSTANCE).unwrap_or(id))
}

/// A time as UTC, to the second (RFC 3339): the card's clock, which may differ from the
/// host's, so no "ago" computed here.
fn utc(t: Option<&pbjson_types::Timestamp>) -> String {
    let Some(t) = t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.seconds).ok()) else {
        return "-".into();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn health(h: &Health, format: Format) -> Result {
    if let Some(out) = structured(h, format) {
        return out;
    }
    let mut rows = vec![vec![
        "dpud".into(),
        serving(h.agent).into(),
        or_dash(&h.agent_version),
        "-".into(),
        "-".into(),
        "-".into(),
        String::new(),
    ]];
    rows.extend(h.services.iter().map(|s| {
        vec![
            s.service.clone(),
            serving(s.state).into(),
            or_dash(&s.version),
            short_instance(&s.instance_id),
            s.restarts.to_string(),
            utc(s.last_sync_time.as_ref()),
            s.message.clone(),
        ]
    }));
    let headers = ["COMPONENT", "STATE", "VERSION", "INSTANCE", "RESTARTS", "LAST_SYNC", "MESSAGE"];
    Ok(table(&headers, &rows))
}

pub fn metrics(m: &AgentMetrics, format: Format) -> Result {
    if let Some(out) = structured(m, format) {
        return out;
    }
    let mut out = format!("uptime {} s, {} stored objects\n\n", m.uptime_seconds, m.stored_objects);
    let rows: Vec<Vec<String>> = m
        .methods
        .iter()
        .map(|x| {
            vec![
                x.method.clone(),
                x.requests.to_string(),
                x.errors.to_string(),
                format!("{:.3}", x.latency_p50_seconds * 1e3),
                format!("{:.3}", x.latency_p99_seconds * 1e3),
            ]
        })
        .collect();
    out.push_str(&table(&["METHOD", "REQUESTS", "ERRORS", "P50_MS", "P99_MS"], &rows));
    Ok(out)
}

fn apply_state(state: i32) -> &'static str {
    match ApplyState::try_from(state) {
        Ok(ApplyState::Applied) => "APPLIED",
        Ok(ApplyState::Pending) => "PENDING",
        Ok(ApplyState::Failed) => "FAILED",
        _ => "UNKNOWN",
    }
}

/// Objects of one kind: `single` renders one object as itself rather than as a list; a table
/// has `headers` and one `row` per object.
pub fn objects<T: serde::Serialize>(
    items: &[T],
    format: Format,
    single: bool,
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result {
    if format != Format::Table {
        return match (single, items.first()) {
            (true, Some(one)) => serialize(one, format).map_err(anyhow::Error::msg),
            _ => serialize(&items, format).map_err(anyhow::Error::msg),
        };
    }
    let rows: Vec<Vec<String>> = items.iter().map(row).collect();
    Ok(table(headers, &rows))
}

/// Resources of `kind`, as [`objects`]; in JSON and YAML each is a [`Document`] naming its
/// kind, so what `get` and `list` print goes back to `apply -f` as it is.
fn resources<T: serde::Serialize>(
    kind: Kind,
    items: &[T],
    format: Format,
    single: bool,
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result {
    if format == Format::Table {
        return objects(items, format, single, headers, row);
    }
    let documents: Vec<Document<'_, T>> = items.iter().map(|o| Document::new(kind, o)).collect();
    objects(&documents, format, single, headers, |_| Vec::new())
}

pub fn sysctls(items: &[Sysctl], format: Format, single: bool) -> Result {
    resources(
        manifest::SYSCTL,
        items,
        format,
        single,
        &["NAME", "VALUE", "STATE", "OBSERVED", "GENERATION", "MESSAGE"],
        |s| {
            let status = s.status.clone().unwrap_or_default();
            vec![
                s.name.clone(),
                s.spec.as_ref().map(|x| x.value.clone()).unwrap_or_default(),
                apply_state(status.state).into(),
                status.observed_value,
                s.generation.to_string(),
                status.message,
            ]
        },
    )
}

/// STATE and MESSAGE cells of an nvmf object status.
fn nvmf_apply(s: Option<&nvmf::ObjectStatus>) -> [String; 2] {
    let s = s.cloned().unwrap_or_default();
    let state = match nvmf::ApplyState::try_from(s.state) {
        Ok(nvmf::ApplyState::Applied) => "APPLIED",
        Ok(nvmf::ApplyState::Pending) => "PENDING",
        Ok(nvmf::ApplyState::Failed) => "FAILED",
        _ => "UNKNOWN",
    };
    [state.to_owned(), s.message]
}

/// The MESSAGE of an object whose live figures (CONTROLLERS, READS, WRITES) the agent
/// could not read from the service: they are those of its last sync, and it says so.
fn with_stale_note(message: String, stale: bool) -> String {
    const NOTE: &str = "figures as of the last sync (the nvmf service could not be asked)";
    match (stale, message.is_empty()) {
        (false, _) => message,
        (true, true) => NOTE.to_owned(),
        (true, false) => format!("{message}; {NOTE}"),
    }
}

/// A volume's rate limits as "500iops,10485760B/s" ("-" for none).
fn rate_limits(spec: &nvmf::VolumeSpec) -> String {
    let limits: Vec<String> = [(spec.max_iops, "iops"), (spec.max_bytes_per_second, "B/s")]
        .into_iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, unit)| format!("{v}{unit}"))
        .collect();
    if limits.is_empty() { "-".into() } else { limits.join(",") }
}

pub fn volumes(items: &[nvmf::Volume], format: Format, single: bool) -> Result {
    use nvmf::volume_spec::Backend;
    let headers = ["NAME", "BACKEND", "SIZE", "BLOCK", "LIMITS", "STATE", "GENERATION", "MESSAGE"];
    resources(manifest::VOLUME, items, format, single, &headers, |v| {
        let spec = v.spec.clone().unwrap_or_default();
        // The applied size and block size (a block device's own), else what was asked for.
        let applied = v.status.as_ref().filter(|s| s.block_count > 0);
        let (backend, size) = match &spec.backend {
            Some(Backend::Ram(r)) => ("ram".to_owned(), r.size_bytes.to_string()),
            Some(Backend::File(f)) => (format!("file {}", f.path), f.size_bytes.to_string()),
            // The spec names no size: the device's, once the service opened it.
            Some(Backend::BlockDevice(b)) => (
                format!("block {}", b.path),
                applied.map_or_else(|| "-".into(), |s| s.size_bytes.to_string()),
            ),
            None => ("-".into(), "-".into()),
        };
        let [state, message] = nvmf_apply(v.status.as_ref().and_then(|s| s.apply.as_ref()));
        let bs = match applied {
            Some(s) => s.size_bytes / s.block_count,
            None if spec.block_size == 0 => 512,
            None => u64::from(spec.block_size),
        };
        vec![
            v.name.clone(),
            backend,
            size,
            bs.to_string(),
            rate_limits(&spec),
            state,
            v.generation.to_string(),
            message,
        ]
    })
}

pub fn subsystems(items: &[nvmf::Subsystem], format: Format, single: bool) -> Result {
    let headers = [
        "NAME",
        "NQN",
        "HOSTS",
        "AUTH",
        "CNTLIDS",
        "QUEUES",
        "CONTROLLERS",
        "STATE",
        "GENERATION",
        "MESSAGE",
    ];
    resources(manifest::SUBSYSTEM, items, format, single, &headers, |s| {
        let spec = s.spec.clone().unwrap_or_default();
        let status = s.status.clone().unwrap_or_default();
        let hosts = if spec.allow_any_host {
            "any".to_owned()
        } else {
            spec.allowed_hosts.len().to_string()
        };
        let [state, message] = nvmf_apply(status.apply.as_ref());
        let message = with_stale_note(message, status.stale);
        let (ids, queues) = (cntlids(&spec), io_queues(&spec));
        vec![
            s.name.clone(),
            spec.nqn,
            hosts,
            auth(&spec.host_secrets),
            ids,
            queues,
            status.controllers.to_string(),
            state,
            s.generation.to_string(),
            message,
        ]
    })
}

/// The controller IDs a subsystem gives its controllers, "1-65519" by default; "?" for a
/// range the agent would not have stored.
fn cntlids(spec: &nvmf::SubsystemSpec) -> String {
    spec.cntlid_range().map_or_else(|_| "?".into(), |r| format!("{}-{}", r.start(), r.end()))
}

/// The most I/O queues a subsystem grants a controller, "32" by default; "?" for a limit
/// the agent would not have stored.
fn io_queues(spec: &nvmf::SubsystemSpec) -> String {
    spec.io_queue_limit().map_or_else(|_| "?".into(), |n| n.to_string())
}

/// The DH-HMAC-CHAP hosts of a subsystem: "-" for none, "2 hosts", "1 host, bidir",
/// "3 hosts, 1 bidir" (how many also authenticate the controller).
fn auth(secrets: &[nvmf::HostSecret]) -> String {
    let n = secrets.len();
    if n == 0 {
        return "-".into();
    }
    let hosts = if n == 1 { "1 host".to_owned() } else { format!("{n} hosts") };
    match secrets.iter().filter(|h| h.bidirectional).count() {
        0 => hosts,
        b if b == n => format!("{hosts}, bidir"),
        b => format!("{hosts}, {b} bidir"),
    }
}

/// Namespaces; `get` of one also shows the NGUID and UUID hosts see (too wide for a list;
/// `-o yaml` has them in `status`).
pub fn namespaces(items: &[nvmf::Namespace], format: Format, single: bool) -> Result {
    let mut headers = vec![
        "NAME",
        "VOLUME",
        "ANA_GROUP",
        "ACCESS",
        "HOSTS",
        "READS",
        "WRITES",
        "STATE",
        "GENERATION",
        "MESSAGE",
    ];
    if single {
        headers.splice(2..2, ["NGUID", "UUID"]);
    }
    resources(manifest::NAMESPACE, items, format, single, &headers, |n| {
        let spec = n.spec.clone().unwrap_or_default();
        let status = n.status.clone().unwrap_or_default();
        let c = status.counters.unwrap_or_default();
        let [state, message] = nvmf_apply(status.apply.as_ref());
        let message = with_stale_note(message, status.stale);
        // Empty until the service applied the namespace.
        let ids = [or_dash(&status.nguid), or_dash(&status.uuid)];
        let mut row = vec![
            n.name.clone(),
            spec.volume,
            spec.ana_group.max(1).to_string(),
            if spec.read_only { "read-only" } else { "read-write" }.to_owned(),
            // The subsystem's hosts, or as many of them as the namespace names.
            if spec.allowed_hosts.is_empty() {
                "all".to_owned()
            } else {
                spec.allowed_hosts.len().to_string()
            },
            c.reads.to_string(),
            c.writes.to_string(),
            state,
            n.generation.to_string(),
            message,
        ];
        if single {
            row.splice(2..2, ids);
        }
        row
    })
}

pub fn listeners(items: &[nvmf::Listener], format: Format, single: bool) -> Result {
    let headers = [
        "NAME",
        "ADDRESS",
        "PORT",
        "PORT_ID",
        "SERVES",
        "ANA",
        "REFERRALS",
        "STATE",
        "GENERATION",
        "MESSAGE",
    ];
    resources(manifest::LISTENER, items, format, single, &headers, |l| {
        let spec = l.spec.clone().unwrap_or_default();
        let status = l.status.clone().unwrap_or_default();
        let [state, message] = nvmf_apply(status.apply.as_ref());
        // The port ID it is served under, a discovery-only one's too; 0 while it is not.
        let port_id = if status.port_id == 0 { "-".to_owned() } else { status.port_id.to_string() };
        // Every listener connects the discovery controller; only these I/O controllers too.
        let serves = if spec.discovery_only { "discovery" } else { "io+discovery" };
        let referrals = referrals(&spec);
        vec![
            l.name.clone(),
            spec.address,
            spec.port.to_string(),
            port_id,
            serves.to_owned(),
            ana_states(&spec.ana_groups, &status.ana_groups),
            referrals,
            state,
            l.generation.to_string(),
            message,
        ]
    })
}

/// A listener's ANA states, e.g. "1=inaccessible,2=non-optimized"; "optimized" when
/// every group is. A group the service shows hosts in another state than the spec's (a
/// change past ANATT) has that one too: "1=change(shown inaccessible)".
fn ana_states(groups: &[nvmf::AnaGroupState], shown: &[nvmf::AnaGroupState]) -> String {
    let named: Vec<String> = groups
        .iter()
        .filter(|g| g.state != nvmf::AnaState::Optimized as i32)
        .map(|g| {
            let state = ana_state_name(g.state);
            match shown.iter().find(|s| s.group == g.group && s.state != g.state) {
                Some(s) => format!("{}={state}(shown {})", g.group, ana_state_name(s.state)),
                None => format!("{}={state}", g.group),
            }
        })
        .collect();
    if named.is_empty() { "optimized".to_owned() } else { named.join(",") }
}

/// An ANA state as the manifests spell it.
fn ana_state_name(state: i32) -> String {
    match nvmf::AnaState::try_from(state) {
        Ok(nvmf::AnaState::NonOptimized) => "non-optimized".into(),
        Ok(nvmf::AnaState::Inaccessible) => "inaccessible".into(),
        Ok(nvmf::AnaState::PersistentLoss) => "persistent-loss".into(),
        Ok(nvmf::AnaState::Change) => "change".into(),
        Ok(nvmf::AnaState::Optimized) => "optimized".into(),
        Ok(nvmf::AnaState::Unspecified) => "unspecified".into(),
        Err(_) => unknown(state),
    }
}

/// The discovery services a listener refers hosts to, e.g. "192.0.2.20:8009,[2001:db8::1]:4420"
/// (port 0 shown as 8009); "-" for none, "?" for a list the agent would not have stored.
fn referrals(spec: &nvmf::ListenerSpec) -> String {
    match spec.referral_addrs() {
        Ok(addrs) if addrs.is_empty() => "-".into(),
        Ok(addrs) => addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        Err(_) => "?".into(),
    }
}

/// A value of an enum this build does not know (a newer agent's): its number, never a
/// word this build knows, which would tell something else (no reservation, writable).
fn unknown(value: i32) -> String {
    format!("unknown({value})")
}

/// A reservation type as `nvme resv-report` users know it; "-" for none.
fn reservation_type(rtype: i32) -> String {
    let name = match nvmf::ReservationType::try_from(rtype) {
        Ok(nvmf::ReservationType::WriteExclusive) => "write-exclusive",
        Ok(nvmf::ReservationType::ExclusiveAccess) => "exclusive-access",
        Ok(nvmf::ReservationType::WriteExclusiveRegistrantsOnly) => "write-exclusive-reg-only",
        Ok(nvmf::ReservationType::ExclusiveAccessRegistrantsOnly) => "exclusive-access-reg-only",
        Ok(nvmf::ReservationType::WriteExclusiveAllRegistrants) => "write-exclusive-all-reg",
        Ok(nvmf::ReservationType::ExclusiveAccessAllRegistrants) => "exclusive-access-all-reg",
        Ok(nvmf::ReservationType::Unspecified) => "-",
        Err(_) => return unknown(rtype),
    };
    name.to_owned()
}

/// A host's write protection state (`nvmf::HostWriteProtection`): "yes" (Write Protect,
/// until a host or the operator lifts it), "until-restart" (Write Protect Until Power
/// Cycle) or "no".
pub fn host_write_protection(state: i32) -> String {
    let name = match nvmf::HostWriteProtection::try_from(state) {
        Ok(nvmf::HostWriteProtection::UntilRestart) => "until-restart",
        Ok(nvmf::HostWriteProtection::WriteProtect) => "yes",
        Ok(nvmf::HostWriteProtection::Unspecified) => "no",
        Err(_) => return unknown(state),
    };
    name.to_owned()
}

/// A namespace's HOST_WP column.
fn namespace_host_write_protection(n: &nvmf::NamespaceStats) -> String {
    // A service of an older version sets only the flag.
    if n.host_write_protected && n.host_write_protection == 0 {
        return "yes".into();
    }
    host_write_protection(n.host_write_protection)
}

/// A volume's device latency of one operation kind as "p50/p99" in microseconds, each
/// the bound of its power-of-two bucket (at most that long); "-" without operations.
fn latency_cell(h: Option<&nvmf::LatencyHistogram>) -> String {
    let Some(h) = h.filter(|h| h.count() > 0) else { return "-".into() };
    let at = |q| h.quantile_us(q).map_or_else(|| ">16777216".to_owned(), |us| us.to_string());
    format!("{}/{}", at(0.5), at(0.99))
}

/// Switch resources of any kind: name, spec fields, state.
/// Target counters, then one row per subsystem, per queue of each live controller
/// and per namespace.
pub fn nvmf_stats(s: &nvmf::NvmfStats, format: Format) -> Result {
    if let Some(out) = structured(s, format) {
        return out;
    }
    let io_cells = |io: Option<&nvmf::IoCounters>| {
        let io = io.copied().unwrap_or_default();
        [io.commands, io.reads, io.writes, io.read_bytes, io.write_bytes, io.errors]
            .map(|v| v.to_string())
    };
    let rows = vec![
        vec!["connections".into(), s.connections.to_string()],
        vec!["connections_shed".into(), s.connections_shed.to_string()],
        // Gauges, beside the totals they explain: open now, and waiting for a Connect.
        vec!["open_connections".into(), s.open_connections.to_string()],
        vec!["unconnected_connections".into(), s.unconnected_connections.to_string()],
        vec!["terminated_connections".into(), s.terminated_connections.to_string()],
        vec!["keep_alive_expired".into(), s.keep_alive_expired.to_string()],
        vec!["connects_refused".into(), s.connects_refused.to_string()],
        vec!["auth_failures".into(), s.auth_failures.to_string()],
        vec!["write_budget_waits".into(), s.write_budget_waits.to_string()],
        vec!["controllers_evicted".into(), s.controllers_evicted.to_string()],
    ];
    let mut out = table(&["COUNTER", "VALUE"], &rows);
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .subsystems
        .iter()
        .map(|sub| {
            let mut row = vec![
                sub.name.clone(),
                sub.live_controllers.to_string(),
                sub.connects_accepted.to_string(),
                sub.connects_refused.to_string(),
            ];
            row.extend(io_cells(sub.io.as_ref()));
            row
        })
        .collect();
    let io_headers = ["COMMANDS", "READS", "WRITES", "READ_BYTES", "WRITE_BYTES", "ERRORS"];
    let mut headers = vec!["SUBSYSTEM", "CONTROLLERS", "CONNECTS", "REFUSED"];
    headers.extend(io_headers);
    out.push_str(&table(&headers, &rows));
    out.push('\n');
    let mut rows = Vec::new();
    for c in s.subsystems.iter().flat_map(|sub| &sub.controllers) {
        for q in &c.queues {
            let digests = match (q.header_digest, q.data_digest) {
                (true, true) => "header,data",
                (true, false) => "header",
                (false, true) => "data",
                (false, false) => "-",
            };
            // Empty for a host-role caller, which is not told who the fabric hosts are.
            let mut row = vec![
                c.name.clone(),
                or_dash(&c.host_nqn),
                q.qid.to_string(),
                or_dash(&q.peer_address),
                q.sq_size.to_string(),
                q.in_flight.to_string(),
                digests.into(),
            ];
            row.extend(io_cells(q.io.as_ref()));
            rows.push(row);
        }
    }
    let mut headers = vec!["CONTROLLER", "HOST", "QID", "PEER", "SQ_SIZE", "IN_FLIGHT", "DIGESTS"];
    headers.extend(io_headers);
    out.push_str(&table(&headers, &rows));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .namespaces
        .iter()
        .map(|n| {
            let c = n.counters.unwrap_or_default();
            let r = n.reservation.clone().unwrap_or_default();
            vec![
                n.name.clone(),
                c.reads.to_string(),
                c.writes.to_string(),
                c.read_bytes.to_string(),
                c.write_bytes.to_string(),
                c.errors.to_string(),
                c.throttled.to_string(),
                reservation_type(r.r#type),
                r.registrants.to_string(),
                or_dash(&r.holder_host_id),
                if r.persist_through_power_loss { "yes" } else { "no" }.to_owned(),
                namespace_host_write_protection(n),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "NAMESPACE",
            "READS",
            "WRITES",
            "READ_BYTES",
            "WRITE_BYTES",
            "ERRORS",
            "THROTTLED",
            "RESERVATION",
            "REGISTRANTS",
            "HOLDER",
            "PERSISTS",
            "HOST_WP",
        ],
        &rows,
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .volumes
        .iter()
        .map(|v| {
            let allocated = v.allocated_bytes.map_or_else(|| "-".to_owned(), |b| b.to_string());
            vec![
                v.name.clone(),
                v.size_bytes.to_string(),
                allocated,
                latency_cell(v.read_latency.as_ref()),
                latency_cell(v.write_latency.as_ref()),
                latency_cell(v.flush_latency.as_ref()),
            ]
        })
        .collect();
    let headers = ["VOLUME", "SIZE_BYTES", "ALLOCATED_BYTES", "READ_US", "WRITE_US", "FLUSH_US"];
    out.push_str(&table(&headers, &rows));
    Ok(out)
}

pub fn switch_objects(kind: Kind, items: &[SwitchObject], format: Format, single: bool) -> Result {
    let headers = ["NAME", "SPEC", "STATE", "GENERATION", "MESSAGE"];
    resources(kind, items, format, single, &headers, |o| {
        let (state, message) = o.state();
        vec![o.name().to_owned(), o.spec_summary(), state, o.generation(), message]
    })
}

pub fn port_statuses(ports: &[sw::PortStatus], format: Format) -> Result {
    let headers = [
        "PORT",
        "MODE",
        "UP",
        "RX_PACKETS",
        "RX_BYTES",
        "TX_PACKETS",
        "TX_BYTES",
        "TX_DROPPED",
        "DROPS",
    ];
    objects(ports, format, false, &headers, |p| {
        vec![
            p.name.clone(),
            p.mode.clone(),
            if p.admin_up { "yes".into() } else { "no".into() },
            p.rx_packets.to_string(),
            p.rx_bytes.to_string(),
            p.tx_packets.to_string(),
            p.tx_bytes.to_string(),
            p.tx_dropped.to_string(),
            p.drops_total.to_string(),
        ]
    })
}

pub fn mac_entries(entries: &[sw::MacEntry], format: Format) -> Result {
    let headers = ["BRIDGE", "MAC", "DEST", "STATIC", "AGE_S"];
    objects(entries, format, false, &headers, |e| {
        vec![
            e.bridge.clone(),
            e.mac.clone(),
            e.dest.clone(),
            if e.is_static { "yes".into() } else { "no".into() },
            e.age_secs.to_string(),
        ]
    })
}

pub fn neighbours(items: &[sw::Neighbour], routes: &[sw::RouteStatus], format: Format) -> Result {
    if format != Format::Table {
        let both = sw::ListNeighboursResponse {
            neighbours: items.to_vec(),
            routes: routes.to_vec(),
            next_page_token: String::new(),
        };
        return serialize(&both, format).map_err(anyhow::Error::msg);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|n| {
            let mac = if n.mac.is_empty() { "(resolving)".into() } else { n.mac.clone() };
            vec![n.vrf.clone(), n.ip.clone(), mac]
        })
        .collect();
    let mut out = table(&["VRF", "IP", "MAC"], &rows);
    out.push('\n');
    let rows: Vec<Vec<String>> =
        routes.iter().map(|r| vec![r.vrf.clone(), r.prefix.clone(), r.via.clone()]).collect();
    out.push_str(&table(&["VRF", "PREFIX", "VIA"], &rows));
    Ok(out)
}

pub fn flows(items: &[sw::Flow], format: Format) -> Result {
    let headers = ["KEY", "ACTION", "CURRENT", "PACKETS", "BYTES", "IDLE_MS"];
    objects(items, format, false, &headers, |f| {
        vec![
            f.key.clone(),
            f.action.clone(),
            if f.current { "yes".into() } else { "stale".into() },
            f.packets.to_string(),
            f.bytes.to_string(),
            f.idle_ms.to_string(),
        ]
    })
}

pub fn switch_status(s: &sw::SwitchStatus, format: Format) -> Result {
    if let Some(out) = structured(s, format) {
        return out;
    }
    let mut out = port_statuses(&s.ports, format)?;
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .bridges
        .iter()
        .map(|b| {
            let opt = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
            vec![
                b.name.clone(),
                opt(b.vlan),
                opt(b.vni),
                b.members.join(","),
                format!("{}/{}", b.learned_macs, b.mac_limit),
                if b.svi.is_empty() { "-".into() } else { b.svi.clone() },
            ]
        })
        .collect();
    out.push_str(&table(&["BRIDGE", "VLAN", "VNI", "MEMBERS", "MACS", "SVI"], &rows));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .vteps
        .iter()
        .map(|v| {
            let mac = if v.next_hop_mac.is_empty() { "-".into() } else { v.next_hop_mac.clone() };
            vec![
                v.ip.clone(),
                v.next_hop.clone(),
                mac,
                v.tx_packets.to_string(),
                v.rx_packets.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["REMOTE_VTEP", "NEXT_HOP", "NEXT_HOP_MAC", "TX", "RX"], &rows));
    out.push('\n');
    let fc = s.flow_cache.unwrap_or_default();
    let mut rows = vec![
        vec!["config_epoch".into(), s.config_epoch.to_string()],
        vec![
            "flow_cache".into(),
            format!(
                "{}/{} entries, {} hits, {} misses, {} evicted",
                fc.entries, fc.capacity, fc.hits, fc.misses, fc.evicted
            ),
        ],
    ];
    let mut counters: Vec<_> = s.counters.iter().collect();
    counters.sort();
    rows.extend(counters.into_iter().map(|(k, v)| vec![k.clone(), v.to_string()]));
    out.push_str(&table(&["COUNTER", "VALUE"], &rows));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dpuctl health` shows the agent's version as the agent reports it (not dpuctl's
    /// own), and for each service its instance and when it was last synced, as
    /// operations.md says; what an agent or service did not report is "-".
    #[test]
    fn health_shows_the_agents_version_and_each_instance_and_last_sync() {
        use dpu_proto::dpu::system::v1::ServiceHealth;
        let instance = "0123456789abcdef0123456789abcdef";
        let h = Health {
            agent: ServingState::Serving.into(),
            agent_version: "9.8.7-agent".into(),
            services: vec![
                ServiceHealth {
                    service: "nvmf".into(),
                    state: ServingState::Serving.into(),
                    version: "1.2.3".into(),
                    instance_id: instance.into(),
                    restarts: 2,
                    last_sync_time: Some(pbjson_types::Timestamp {
                        seconds: 1_796_556_453,
                        nanos: 999_999_999,
                    }),
                    message: String::new(),
                    ..Default::default()
                },
                ServiceHealth {
                    service: "switch".into(),
                    state: ServingState::NotServing.into(),
                    message: "not answering".into(),
                    ..Default::default()
                },
            ],
        };
        let out = health(&h, Format::Table).unwrap();
        let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows[1][2], "9.8.7-agent", "dpud's version\n{out}");
        assert_eq!(
            rows[0],
            ["COMPONENT", "STATE", "VERSION", "INSTANCE", "RESTARTS", "LAST_SYNC", "MESSAGE"]
        );
        assert_eq!(rows[1], ["dpud", "SERVING", "9.8.7-agent", "-", "-", "-"], "{out}");
        assert_eq!(
            rows[2],
            ["nvmf", "SERVING", "1.2.3", "0123456789ab", "2", "2026-12-06T11:27:33Z"],
            "{out}"
        );
        assert_eq!(
            rows[3],
            ["switch", "NOT_SERVING", "-", "-", "0", "-", "not", "answering"],
            "{out}"
        );
        // An agent from before the field says nothing of its version.
        let older = Health { agent_version: String::new(), ..h };
        let out = health(&older, Format::Table).unwrap();
        let dpud = out.lines().nth(1).unwrap();
        assert!(!dpud.contains(env!("CARGO_PKG_VERSION")), "{dpud}");
        assert_eq!(dpud.split_whitespace().nth(2), Some("-"), "{out}");
    }

    /// Values a newer agent added are shown as unknown, not as "no", "-" or another state.
    #[test]
    fn unknown_enum_values_are_not_shown_as_known_ones() {
        assert_eq!(host_write_protection(3), "unknown(3)");
        assert_eq!(host_write_protection(0), "no");
        assert_eq!(host_write_protection(2), "until-restart");
        assert_eq!(reservation_type(7), "unknown(7)");
        assert_eq!(reservation_type(0), "-");
        let group = |group, state| nvmf::AnaGroupState { group, state, ..Default::default() };
        assert_eq!(ana_states(&[group(1, 9), group(2, 3)], &[]), "1=unknown(9),2=inaccessible");
        assert_eq!(ana_states(&[group(1, 1)], &[]), "optimized");
        // A change past ANATT, which the service shows hosts as inaccessible.
        let (change, shown) = ([group(1, 5), group(2, 2)], [group(1, 3), group(2, 2)]);
        assert_eq!(ana_states(&change, &shown), "1=change(shown inaccessible),2=non-optimized");
        let ns = |host_write_protection| nvmf::NamespaceStats {
            name: "subsystems/s/namespaces/1".into(),
            host_write_protected: true,
            host_write_protection,
            ..Default::default()
        };
        assert_eq!(namespace_host_write_protection(&ns(6)), "unknown(6)");
        assert_eq!(namespace_host_write_protection(&ns(0)), "yes");
    }

    #[test]
    fn auth_column() {
        let h = |bidirectional| nvmf::HostSecret { bidirectional, ..Default::default() };
        assert_eq!(auth(&[]), "-");
        assert_eq!(auth(&[h(false)]), "1 host");
        assert_eq!(auth(&[h(true)]), "1 host, bidir");
        assert_eq!(auth(&[h(false), h(false)]), "2 hosts");
        assert_eq!(auth(&[h(true), h(false), h(true)]), "3 hosts, 2 bidir");
    }

    #[test]
    fn cntlids_column() {
        let s = |min_cntlid, max_cntlid| nvmf::SubsystemSpec {
            min_cntlid,
            max_cntlid,
            ..Default::default()
        };
        assert_eq!(cntlids(&s(0, 0)), "1-65519");
        assert_eq!(cntlids(&s(100, 199)), "100-199");
        assert_eq!(cntlids(&s(400, 400)), "400-400");
        assert_eq!(cntlids(&s(0, 9)), "1-9");
        assert_eq!(cntlids(&s(0xFFF0, 0)), "?");
        assert_eq!(cntlids(&s(5, 4)), "?");
    }

    #[test]
    fn queues_column() {
        let s = |max_io_queues| nvmf::SubsystemSpec { max_io_queues, ..Default::default() };
        assert_eq!(io_queues(&s(0)), "32");
        assert_eq!(io_queues(&s(1)), "1");
        assert_eq!(io_queues(&s(128)), "128");
        assert_eq!(io_queues(&s(129)), "?");

        // In the table, next to CNTLIDS.
        let sub = |max_io_queues| nvmf::Subsystem {
            name: "subsystems/s1".into(),
            spec: Some(nvmf::SubsystemSpec {
                nqn: "nqn.2024-01.io.example:s1".into(),
                ..s(max_io_queues)
            }),
            ..Default::default()
        };
        let table = subsystems(&[sub(0), sub(4)], Format::Table, false).unwrap();
        let cells: Vec<Vec<&str>> =
            table.lines().map(|l| l.split_whitespace().skip(3).take(3).collect()).collect();
        assert_eq!(cells[0], ["AUTH", "CNTLIDS", "QUEUES"], "{table}");
        assert_eq!(cells[1..], [["-", "1-65519", "32"], ["-", "1-65519", "4"]], "{table}");
    }

    #[test]
    fn figures_the_agent_could_not_read_live_say_so() {
        let n = |stale| nvmf::Namespace {
            name: "subsystems/s1/namespaces/1".into(),
            status: Some(nvmf::NamespaceStatus {
                counters: Some(nvmf::NamespaceCounters { writes: 3, ..Default::default() }),
                stale,
                ..Default::default()
            }),
            ..Default::default()
        };
        let table = namespaces(&[n(false), n(true)], Format::Table, false).unwrap();
        let rows: Vec<&str> = table.lines().collect();
        assert!(!rows[1].contains("last sync"), "{table}");
        assert!(
            rows[2].ends_with("figures as of the last sync (the nvmf service could not be asked)")
        );
        assert_eq!(with_stale_note("refused".into(), true).split("; ").count(), 2);
    }

    /// `get` of one namespace shows the NGUID and UUID hosts see; a list does not.
    #[test]
    fn one_namespace_shows_its_ids() {
        let n = nvmf::Namespace {
            name: "subsystems/s1/namespaces/1".into(),
            spec: Some(nvmf::NamespaceSpec { volume: "volumes/v1".into(), ..Default::default() }),
            status: Some(nvmf::NamespaceStatus {
                nguid: "00112233445566778899aabbccddeeff".into(),
                uuid: "1b4e28ba-2fa1-11d2-883f-0016d3cca427".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let cells = |table: &str, row: usize| -> Vec<String> {
            let line = table.lines().nth(row).unwrap_or_default();
            line.split_whitespace().map(str::to_owned).collect()
        };
        let one = namespaces(std::slice::from_ref(&n), Format::Table, true).unwrap();
        assert_eq!(cells(&one, 0)[1..4], ["VOLUME", "NGUID", "UUID"], "{one}");
        assert_eq!(
            cells(&one, 1)[1..4],
            [
                "volumes/v1",
                "00112233445566778899aabbccddeeff",
                "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
            ]
        );
        let pending = nvmf::Namespace { status: None, ..n.clone() };
        let one = namespaces(&[pending], Format::Table, true).unwrap();
        assert_eq!(cells(&one, 1)[2..4], ["-", "-"], "{one}");
        let list = namespaces(&[n], Format::Table, false).unwrap();
        assert!(!list.contains("NGUID") && !list.contains("00112233"), "{list}");
    }

    #[test]
    fn referrals_column() {
        let l = |refs: &[(&str, u32)]| nvmf::ListenerSpec {
            referrals: refs
                .iter()
                .map(|(a, p)| nvmf::Referral { address: (*a).into(), port: *p })
                .collect(),
            ..Default::default()
        };
        assert_eq!(referrals(&l(&[])), "-");
        assert_eq!(referrals(&l(&[("192.0.2.20", 0)])), "192.0.2.20:8009");
        assert_eq!(
            referrals(&l(&[("192.0.2.20", 8009), ("2001:db8::1", 4420)])),
            "192.0.2.20:8009,[2001:db8::1]:4420"
        );
        assert_eq!(referrals(&l(&[("0.0.0.0", 0)])), "?");
        // In the table, between ANA and STATE.
        let listener = nvmf::Listener {
            name: "listeners/disc".into(),
            spec: Some(nvmf::ListenerSpec {
                address: "127.0.0.1".into(),
                port: 8009,
                discovery_only: true,
                ..l(&[("192.0.2.20", 0)])
            }),
            ..Default::default()
        };
        let out = listeners(&[listener], Format::Table, false).unwrap();
        let (head, row) = out.split_once('\n').unwrap();
        let cells = |line: &str| line.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(cells(head)[5..7], ["ANA", "REFERRALS"], "{out}");
        assert_eq!(cells(row)[5..7], ["optimized", "192.0.2.20:8009"], "{out}");
    }

    /// PORT_ID is the port ID the service serves a listener under, a discovery-only one's
    /// too (it names it in its discovery log entry), "-" while it serves none; SERVES says
    /// whether the listener connects I/O controllers or the discovery controller alone.
    #[test]
    fn listeners_show_port_id_and_what_they_serve() {
        let listener = |name: &str, discovery_only: bool, port_id: u32| nvmf::Listener {
            name: name.into(),
            spec: Some(nvmf::ListenerSpec {
                address: "127.0.0.1".into(),
                port: 8009,
                discovery_only,
                ..Default::default()
            }),
            status: Some(nvmf::ListenerStatus { port_id, ..Default::default() }),
            ..Default::default()
        };
        let items = [
            listener("listeners/disc", true, 7),
            listener("listeners/io", false, 3),
            listener("listeners/new", false, 0),
        ];
        let out = listeners(&items, Format::Table, false).unwrap();
        let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows[0][3..5], ["PORT_ID", "SERVES"], "{out}");
        assert_eq!(rows[1][3..5], ["7", "discovery"], "{out}");
        assert_eq!(rows[2][3..5], ["3", "io+discovery"], "{out}");
        assert_eq!(rows[3][3..5], ["-", "io+discovery"], "{out}");
    }

    /// A block device volume's SIZE is its device's once the service applied it (the spec
    /// names no size), "-" before.
    #[test]
    fn a_block_device_volume_shows_its_applied_size() {
        use nvmf::volume_spec::Backend;
        let volume = |status| nvmf::Volume {
            name: "volumes/b1".into(),
            spec: Some(nvmf::VolumeSpec {
                backend: Some(Backend::BlockDevice(nvmf::BlockDeviceBackend {
                    path: "/dev/loop0".into(),
                })),
                ..Default::default()
            }),
            status,
            ..Default::default()
        };
        let applied = nvmf::VolumeStatus { size_bytes: 1 << 30, block_count: 1 << 21, apply: None };
        let out = volumes(&[volume(Some(applied)), volume(None)], Format::Table, false).unwrap();
        let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
        // BACKEND "block /dev/loop0" is two words.
        assert_eq!(rows[0][2..4], ["SIZE", "BLOCK"], "{out}");
        assert_eq!(rows[1][3..5], ["1073741824", "512"], "{out}");
        assert_eq!(rows[2][3], "-", "{out}");
    }

    /// `dpuctl switch ports` shows each port's transmit drops beside its receive drops.
    #[test]
    fn port_statuses_show_tx_dropped() {
        let port = sw::PortStatus {
            name: "pf0vf0".into(),
            mode: "access".into(),
            tx_dropped: 7,
            drops_total: 2,
            ..Default::default()
        };
        let out = port_statuses(&[port], Format::Table).unwrap();
        let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows[0][7..], ["TX_DROPPED", "DROPS"], "{out}");
        assert_eq!(rows[1][7..], ["7", "2"], "{out}");
    }

    /// `dpuctl nvmf stats` shows the controllers evicted for a new Connect beside the other
    /// target-wide counters; JSON carries the count too (a uint64: a string).
    #[test]
    fn nvmf_stats_show_controllers_evicted() {
        let s =
            nvmf::NvmfStats { write_budget_waits: 8, controllers_evicted: 5, ..Default::default() };
        let out = nvmf_stats(&s, Format::Table).unwrap();
        let row = |name: &str| {
            let found = out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>());
            found.into_iter().find(|cells| cells.first() == Some(&name)).unwrap_or_default()
        };
        assert_eq!(row("write_budget_waits"), ["write_budget_waits", "8"], "{out}");
        assert_eq!(row("controllers_evicted"), ["controllers_evicted", "5"], "{out}");
        let json = nvmf_stats(&s, Format::Json).unwrap();
        assert!(json.contains(r#""controllersEvicted": "5""#), "{json}");
    }

    /// `dpuctl nvmf stats` shows the connections open now and those of them waiting for
    /// their Connect beside the totals; JSON carries both.
    #[test]
    fn nvmf_stats_show_open_and_unconnected_connections() {
        let s = nvmf::NvmfStats {
            connections: 9,
            open_connections: 4,
            unconnected_connections: 3,
            ..Default::default()
        };
        let out = nvmf_stats(&s, Format::Table).unwrap();
        let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
        let at = |name: &str| rows.iter().position(|cells| cells.first() == Some(&name));
        let row = |name: &str| at(name).map(|i| rows[i].clone()).unwrap_or_default();
        assert_eq!(row("open_connections"), ["open_connections", "4"], "{out}");
        assert_eq!(row("unconnected_connections"), ["unconnected_connections", "3"], "{out}");
        // Beside the connection totals, before the first table ends.
        assert!(at("connections_shed") < at("open_connections"), "{out}");
        assert!(at("open_connections") < at("terminated_connections"), "{out}");
        let json = nvmf_stats(&s, Format::Json).unwrap();
        assert!(json.contains(r#""openConnections": "4""#), "{json}");
        assert!(json.contains(r#""unconnectedConnections": "3""#), "{json}");
    }
}
