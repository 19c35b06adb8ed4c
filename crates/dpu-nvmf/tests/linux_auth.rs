//! NVMe in-band authentication (DH-HMAC-CHAP) against the unmodified Linux initiator:
//! Debian's 6.12 kernel (its 6.1 build lacks CONFIG_NVME_HOST_AUTH) and nvme-cli in a
//! QEMU guest, as the other guest tests boot it.
//!
//! The guest's host NQN has a secret on the subsystem. The guest then:
//! * connects without a secret: its kernel sees AUTHREQ in the Connect response and gives
//!   up ("authentication required"), so no disk appears;
//! * connects with a wrong secret: the target answers the Reply with AUTH_Failure1 and
//!   closes the queue;
//! * connects with the right secret: the admin queue and every I/O queue authenticate,
//!   data written reads back;
//! * the operator rotates the host's secret, now with the ffdhe3072 DH group and SHA-512
//!   required, and the host takes the new one (sysfs `dhchap_secret`): every queue of the
//!   same controller re-authenticates with a DH exchange, I/O goes on (this and the later
//!   connects report `hash hmac(sha512) dhgroup ffdhe3072`; the first ones Linux's first
//!   choice, `hmac(sha256)`);
//! * connects asking the target to prove itself too (`--dhchap-ctrl-secret`): the
//!   kernel checks our response and connects;
//! * asks the target to prove a secret it does not have: the kernel finds our response
//!   wrong, says so with AUTH_Failure2, and does not connect.
//!
//! The host secrets are transformed with SHA-256 and SHA-384 and the host NQN, the
//! controller secret with SHA-512 and the subsystem NQN (`DHHC-1:01:`, `02`, `03`), so each
//! transformation meets the kernel's.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};
use dpu_nvmf::auth::HostSecrets;
use dpu_nvmf::dhchap::Secret;
use dpu_nvmf::{Server, Target, Volume};
use dpu_nvmf_proto::auth::{dh_group, hash};

const SUB: &str = "nqn.2024-01.io.example.dpu:auth";
const GUEST_ID: &str = "5d0c8e4f-2b7a-4c19-9e36-a1f04b7d2c58";
const GUEST_NQN: &str = "nqn.2014-08.org.nvmexpress:uuid:5d0c8e4f-2b7a-4c19-9e36-a1f04b7d2c58";
const DEADLINE: Duration = Duration::from_secs(600);
const VOLUME: u64 = 16 << 20;

fn init_script(port: u16, modules: &[String], s: &Secrets) -> String {
    let prelude = common::nvme_init_prelude(modules);
    let Secrets { host, wrong, rotated, ctrl, wrong_ctrl } = s;
    format!(
        r#"{prelude}
# 6.12 refuses a host ID it already knows under another NQN: name ours.
T="-t tcp -a 192.0.2.2 -s {port} -n {SUB} --hostnqn={GUEST_NQN} --hostid={GUEST_ID}"
disks() {{ ls /sys/block | grep -c -E '^nvme[0-9]+n[0-9]+$'; }}
nvme connect $T > /tmp/c1 2>&1
mark no-secret rc=$? disks=$(disks)
nvme connect $T --dhchap-secret={wrong} > /tmp/c2 2>&1
mark wrong-secret rc=$? disks=$(disks)
nvme connect $T --dhchap-secret={host} > /tmp/c3 2>&1
mark right-secret rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace"
mark namespace $(cat /sys/block/$DEV/size)
mark queues $(dmesg | grep -o 'mapped [0-9/]* default/read/poll' | tail -n 1 | cut -d' ' -f2)
dd if=/dev/urandom of=/tmp/pat bs=64k count=32 2>/dev/null
dd if=/tmp/pat of=/dev/$DEV bs=64k conv=fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$DEV of=/tmp/back bs=64k count=32 2>/dev/null && cmp /tmp/pat /tmp/back && mark data-ok
# Rotation: once the target has the new secret, the host takes it and re-authenticates
# every queue of the same controller.
CTRL=$(echo $DEV | sed 's/n1$//')
CNTLID=$(cat /sys/class/nvme/$CTRL/cntlid)
auths() {{ dmesg | grep -c 'qid 0: authenticated with hash'; }}
A1=$(auths)
mark want-rotation
sleep 1
echo -n "{rotated}" > /sys/class/nvme/$CTRL/dhchap_secret
i=0; while [ $(auths) -le $A1 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark reauthenticated $(( $(auths) - A1 )) same-controller=$([ "$(cat /sys/class/nvme/$CTRL/cntlid 2>/dev/null)" = "$CNTLID" ] && echo yes || echo no)
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$DEV of=/tmp/back bs=64k count=32 2>/dev/null && cmp /tmp/pat /tmp/back && mark data-ok-rotated
nvme disconnect -n {SUB} > /dev/null 2>&1
waitblk "$DEV" 0 || fail "disk stayed"
nvme connect $T --dhchap-secret={rotated} --dhchap-ctrl-secret={ctrl} > /tmp/c4 2>&1
mark bidirectional rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace (bidirectional)"
dd if=/dev/$DEV of=/tmp/back bs=64k count=32 2>/dev/null && cmp /tmp/pat /tmp/back && mark data-ok-bidirectional
nvme disconnect -n {SUB} > /dev/null 2>&1
waitblk "$DEV" 0 || fail "disk stayed"
nvme connect $T --dhchap-secret={rotated} --dhchap-ctrl-secret={wrong_ctrl} > /tmp/c5 2>&1
mark impostor-check rc=$? disks=$(disks)
dmesg | grep -i -E 'auth|dhchap' | tail -n 12
mark groups $(dmesg | grep -o 'dhgroup [a-z0-9]*' | cut -d' ' -f2 | sort -u | tr '\n' ' ')
mark hashes $(dmesg | grep -o 'with hash hmac([a-z0-9]*)' | cut -d'(' -f2 | tr -d ')' | sort -u | tr '\n' ' ')
mark done
poweroff -f
sleep 10
"#,
        wrong = wrong.as_str(),
        host = host.as_str(),
        rotated = rotated.as_str(),
        ctrl = ctrl.as_str(),
        wrong_ctrl = wrong_ctrl.as_str(),
    )
}

/// The secrets' texts handed to the guest.
struct Secrets {
    host: String,
    wrong: String,
    rotated: String,
    ctrl: String,
    wrong_ctrl: String,
}

fn random_key(len: usize) -> Vec<u8> {
    dpu_nvmf::dhchap::random_bytes(len).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_authenticates_with_dh_hmac_chap() {
    let (cache, kernel) = common::guest_kernel_6_12();
    let host = Secret::new(&random_key(32), 1).unwrap();
    let rotated = Secret::new(&random_key(48), 2).unwrap();
    let ctrl = Secret::new(&random_key(64), 3).unwrap();
    let texts = Secrets {
        host: host.to_text().to_string(),
        rotated: rotated.to_text().to_string(),
        wrong: Secret::new(&random_key(32), 1).unwrap().to_text().to_string(),
        ctrl: ctrl.to_text().to_string(),
        wrong_ctrl: Secret::new(&random_key(64), 3).unwrap().to_text().to_string(),
    };
    let t = Target::new();
    common::add_subsystem(&t, SUB, "DPUAUTH01", "dpu-nvmf auth test", &[GUEST_NQN]);
    let set_secrets = |host: &Secret, dh_group: u8, hash: u8| {
        let secrets = HostSecrets { host: host.clone(), ctrl: Some(ctrl.clone()), dh_group, hash };
        let map = BTreeMap::from([(GUEST_NQN.to_owned(), Arc::new(secrets))]);
        t.set_host_secrets(SUB, map).unwrap();
    };
    set_secrets(&host, dh_group::NULL, 0);
    let vol = Arc::new(Volume::ram("auth", 512, VOLUME).unwrap());
    t.add_namespace(SUB, 1, vol, [7; 16], [8; 16]).unwrap();
    let server = Server::new(t.clone(), 4);
    let addr = common::loopback_listener(&server, 1).await;
    let initrd =
        common::nvme_initramfs(&cache, &kernel, "auth", |m| init_script(addr.port(), m, &texts));
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();

    let mut marks = Marks::default();
    let deadline = Instant::now() + DEADLINE;
    let mut failures_before_right = 0;
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        if m.starts_with("wrong-secret") {
            failures_before_right = t.stats.auth_failures.load(Ordering::Relaxed);
        }
        if m == "want-rotation" {
            set_secrets(&rotated, dh_group::FFDHE3072, hash::SHA512);
        }
    }
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let log = vm.log().join("\n");
    let rc_not_zero =
        |name: &str| marks.value(&format!("{name} rc=")).is_some_and(|v| !v.starts_with("0 "));
    assert!(rc_not_zero("no-secret"), "connect without a secret must fail; log:\n{log}");
    assert!(rc_not_zero("wrong-secret"), "a wrong secret must fail; log:\n{log}");
    assert!(rc_not_zero("impostor-check"), "a controller without the secret must fail;\n{log}");
    let expect = [
        "right-secret rc=0".to_owned(),
        format!("namespace {}", VOLUME / 512),
        "data-ok".to_owned(),
        "data-ok-rotated".to_owned(),
        "bidirectional rc=0".to_owned(),
        "data-ok-bidirectional".to_owned(),
        "done".to_owned(),
    ];
    let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{log}");
    // The rotated secret came with ffdhe3072 and SHA-512: the re-authentication and the
    // later connects ran the exchange with that hash, the first ones none with the host's
    // first choice (SHA-256).
    let groups = marks.value("groups ").unwrap_or_default();
    assert_eq!(groups.trim(), "ffdhe3072 null", "DH groups the kernel reported");
    let hashes = marks.value("hashes ").unwrap_or_default();
    assert_eq!(hashes.trim(), "sha256 sha512", "hashes the kernel reported");
    let reauth = marks.value("reauthenticated ").unwrap_or_default();
    assert!(
        reauth.ends_with("same-controller=yes") && !reauth.starts_with('0'),
        "re-authentication with the rotated secret on the same controller: {reauth}\n{log}"
    );
    for name in ["no-secret", "wrong-secret", "impostor-check"] {
        let v = marks.value(&format!("{name} rc=")).unwrap_or_default();
        assert!(v.ends_with("disks=0"), "{name}: a disk appeared ({v})");
    }
    // The wrong secret and the impostor check each failed a transaction on our side.
    assert_eq!(failures_before_right, 1, "the wrong secret's Reply failed at the target");
    let failures = t.stats.auth_failures.load(Ordering::Relaxed);
    assert_eq!(failures, 2, "the host's AUTH_Failure2 closed the impostor check's queue");
    println!(
        "linux dh-hmac-chap: no secret -> rc {}, wrong secret -> rc {}, right secret -> connected ({}), bidirectional connected, impostor check -> rc {}; target auth failures {failures}",
        marks.value("no-secret rc=").unwrap_or_default(),
        marks.value("wrong-secret rc=").unwrap_or_default(),
        marks.value("queues ").unwrap_or_default(),
        marks.value("impostor-check rc=").unwrap_or_default(),
    );
    println!(
        "linux dh-hmac-chap: the authenticated connect took {:?}, the bidirectional one {:?}; after the rotation: {reauth}, {:?} from the new secret to the re-authentication",
        marks.between("wrong-secret", "right-secret").unwrap_or_default(),
        marks.between("data-ok-rotated", "bidirectional").unwrap_or_default(),
        marks
            .between("want-rotation", "reauthenticated")
            .unwrap_or_default()
            .saturating_sub(Duration::from_secs(1)),
    );
    server.stop();
}
