//! Block-device volumes on real block devices: loop devices (512 and 4096-byte sectors)
//! over sparse files in the target directory, so what reaches the device can be read back
//! from the file; and file volumes on file systems mounted for the test (ext4 on a loop
//! device, ramfs), to see where their I/O goes. Needs root (`losetup`, `mount`); every
//! device is detached and every file system unmounted on every exit path.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::loopdev::{LoopDevice, Mount};
use dpu_nvmf::initiator::{HostController, HostOptions};
use dpu_nvmf::target::{ListenerSpec, SubsystemSpec};
use dpu_nvmf::volume::{BlockBackend, FileBackend, VolumeError};
use dpu_nvmf::{Server, Target, Volume};
use dpu_nvmf_proto::Sqe;
use dpu_nvmf_proto::cqe::Status;
use nix::unistd::{Whence, lseek};

const DEVICE_BYTES: u64 = 8 << 20;
const MIB: u64 = 1 << 20;

/// A sparse backing file of [`DEVICE_BYTES`] in a fresh directory.
fn backing_file() -> (tempfile::TempDir, PathBuf) {
    backing_file_of(DEVICE_BYTES)
}

fn backing_file_of(bytes: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("nvmf-blockdev-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let file = dir.path().join("device.img");
    std::fs::File::create(&file).unwrap().set_len(bytes).unwrap();
    (dir, file)
}

fn read_file(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    std::fs::File::open(path).unwrap().read_exact_at(&mut buf, offset).unwrap();
    buf
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// `volume` as namespace 1 of subsystem `nqn` (any host) on a loopback listener, and a
/// host controller with one I/O queue connected to it.
async fn serve(nqn: &str, volume: &Arc<Volume>) -> (Arc<Target>, Arc<Server>, HostController) {
    let t = Target::new();
    let spec = SubsystemSpec {
        nqn: nqn.into(),
        serial: "BLOCKDEV0001".into(),
        model: "block device test".into(),
        allow_any_host: true,
        hosts: BTreeSet::new(),
        host_secrets: Default::default(),
        cntlids: dpu_nvmf::target::ALL_CNTLIDS,
        max_io_queues: dpu_nvmf::target::DEFAULT_IO_QUEUES,
    };
    t.add_subsystem(spec).unwrap();
    t.add_namespace(nqn, 1, volume.clone(), [1; 16], [2; 16]).unwrap();
    let server = Server::new(t.clone(), 2);
    let listener = ListenerSpec {
        port_id: 1,
        addr: "127.0.0.1:0".parse().unwrap(),
        allow_hdgst: true,
        allow_ddgst: true,
        discovery_only: false,
    };
    let addr = server.add_listener(listener).await.unwrap();
    let c = HostController::connect(addr, nqn, &HostOptions::default(), 1).await.unwrap();
    (t, server, c)
}

/// A Dataset Management Deallocate (AD set) of one range (context attributes, NLB, SLBA):
/// `blocks` blocks from `slba`.
async fn deallocate(q: &mut dpu_nvmf::initiator::HostQueue, slba: u64, blocks: u32) {
    let mut range = [0u8; 16];
    range[4..8].copy_from_slice(&blocks.to_le_bytes());
    range[8..16].copy_from_slice(&slba.to_le_bytes());
    let mut dsm = Sqe::new(dpu_nvmf_proto::sqe::io_opcode::DATASET_MANAGEMENT, 0);
    dsm.nsid = 1;
    dsm.cdw[1] = 1 << 2;
    q.submit_ok(dsm, Some(&range), 0).await.unwrap();
}

#[test]
fn block_device_volume_reads_writes_zeroes_and_deallocates_on_a_512_byte_device() {
    let (_dir, file) = backing_file();
    let dev = LoopDevice::attach(&file, 512).unwrap();
    let (backend, size) = FileBackend::open_block_device(dev.path()).unwrap();
    assert_eq!((size, backend.device_block_size()), (DEVICE_BYTES, Some(512)));
    assert!(backend.is_direct(), "a loop device takes O_DIRECT");
    drop(backend);

    // Unset block size: the device's own.
    let v = Volume::block_device("loop", dev.path(), None).unwrap();
    assert_eq!((v.block_size(), v.blocks()), (512, DEVICE_BYTES / 512));
    let b = v.backend();

    // An aligned write (direct) and a 512-byte one beside it (through the page cache).
    let big = pattern(64 << 10, 0);
    let small = pattern(512, 0x5A);
    b.write_at(&big, MIB).unwrap();
    b.write_at(&small, 2 * MIB + 512).unwrap();
    b.flush().unwrap();
    let mut back = vec![0u8; big.len()];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back, big);
    let mut back = vec![0u8; 512];
    b.read_at(&mut back, 2 * MIB + 512).unwrap();
    assert_eq!(back, small);
    assert_eq!(read_file(&file, MIB, big.len()), big, "the device's file holds the write");
    assert_eq!(read_file(&file, 2 * MIB + 512, 512), small);

    // Write Zeroes: zeroes in place.
    b.write_zeroes(MIB + 8192, 8192).unwrap();
    let mut back = vec![0xFFu8; 16384];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back[..8192], big[..8192]);
    assert!(back[8192..].iter().all(|&x| x == 0));

    // Deallocate: reads zero, and the device gives the space back (the loop device punches
    // a hole into its file). A Dataset Management Deallocate does the same (the device has
    // Write Zeroes): deallocated blocks read as zero.
    assert!(b.deallocated_reads_zero());
    let (start, len) = (MIB + 32768, 32768u64);
    b.deallocate(start, len).unwrap();
    let mut back = vec![0xFFu8; len as usize];
    b.read_at(&mut back, start).unwrap();
    assert!(back.iter().all(|&x| x == 0));
    b.flush().unwrap();
    let f = std::fs::File::open(&file).unwrap();
    let start = start as i64;
    let next_data = lseek(&f, start, Whence::SeekData).unwrap();
    assert!(next_data >= start + len as i64, "data at {next_data} inside the deallocated range");
    // Only that range: the written block before it is still there.
    assert_eq!(read_file(&file, MIB + 16384, 16384), big[16384..32768]);
    dev.detach().unwrap();
}

/// A block device without Write Zeroes (a loop device over a file on ramfs, which has no
/// fallocate: neither Write Zeroes nor discard): a host's Dataset Management Deallocate
/// only discards, as nvmet's, so the data stays where the device cannot discard instead
/// of zeroes being written over the whole range, and Identify Namespace promises nothing
/// of deallocated blocks (DLFEAT 0, as nvmet for such a device). Write Zeroes still
/// zeroes (the kernel writes them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deallocate_on_a_device_without_write_zeroes_only_discards() {
    use dpu_nvmf_proto::sqe::io_opcode;
    const NQN: &str = "nqn.2024-01.io.example:no-write-zeroes";
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ramfs = Mount::new("ramfs", Path::new("nvmf-test"), dir.path()).unwrap();
    let file = ramfs.path().join("device.img");
    std::fs::File::create(&file).unwrap().set_len(DEVICE_BYTES).unwrap();
    let dev = LoopDevice::attach(&file, 512).unwrap();
    let v = Arc::new(Volume::block_device("loop", dev.path(), None).unwrap());
    assert!(!v.backend().deallocated_reads_zero());
    let (t, server, mut c) = serve(NQN, &v).await;
    assert_eq!(c.admin.identify(0, 1).await.unwrap()[33], 0, "DLFEAT");
    let data = pattern(8 * 512, 5);
    let q = &mut c.io[0];
    assert!(q.write(1, 64, &data, 512).await.unwrap().cqe.status.is_success());
    deallocate(q, 64, 4).await;
    let mut wz = Sqe::new(io_opcode::WRITE_ZEROES, 0);
    wz.nsid = 1;
    wz.set_rw(68, 4);
    q.submit_ok(wz, None, 0).await.unwrap();
    let mut flush = Sqe::new(io_opcode::FLUSH, 0);
    flush.nsid = 1;
    q.submit_ok(flush, None, 0).await.unwrap();
    let on_device = read_file(&file, 64 * 512, 8 * 512);
    assert_eq!(on_device[..4 * 512], data[..4 * 512], "not written over with zeroes");
    assert!(on_device[4 * 512..].iter().all(|&x| x == 0), "Write Zeroes zeroed");
    server.stop();
    drop((c, t, v));
    dev.detach().unwrap();
}

/// A file volume on a file system that cannot punch holes (ramfs here; NFSv3, vfat, exfat
/// likewise): a host's Dataset Management Deallocate leaves the file as it is, as nvmet's
/// (whose punch the file system refuses), instead of writing zeroes over the range (a
/// whole-namespace trim by mkfs or fstrim filled the sparse file and held a pool thread
/// for minutes), and Identify Namespace promises nothing of deallocated blocks (DLFEAT 0).
/// Write Zeroes still zeroes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deallocate_where_the_file_system_punches_no_holes_leaves_the_file() {
    use dpu_nvmf_proto::sqe::io_opcode;
    use std::os::unix::fs::MetadataExt;
    const NQN: &str = "nqn.2024-01.io.example:no-holes";
    const VOLUME_BYTES: u64 = 64 * MIB;
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ramfs = Mount::new("ramfs", Path::new("nvmf-test"), dir.path()).unwrap();
    let path = ramfs.path().join("volume.img");
    let v = Arc::new(Volume::file("f", &path, 512, VOLUME_BYTES).unwrap());
    let allocated = || std::fs::metadata(&path).unwrap().blocks();
    assert!(!v.backend().deallocated_reads_zero());
    let (t, server, mut c) = serve(NQN, &v).await;
    assert_eq!(c.admin.identify(0, 1).await.unwrap()[33], 0, "DLFEAT");
    let q = &mut c.io[0];
    deallocate(q, 0, (VOLUME_BYTES / 512) as u32).await;
    assert_eq!(allocated(), 0, "the whole volume deallocated: nothing written");
    // Written blocks stay as they are.
    let data = pattern(8 * 512, 5);
    assert!(q.write(1, 64, &data, 512).await.unwrap().cqe.status.is_success());
    let written = allocated();
    deallocate(q, 64, 4).await;
    assert_eq!(q.read(1, 64, 8, 512).await.unwrap().data, data);
    assert_eq!(allocated(), written);
    let mut wz = Sqe::new(io_opcode::WRITE_ZEROES, 0);
    wz.nsid = 1;
    wz.set_rw(68, 4);
    wz.cdw[2] |= 1 << 25; // DEAC: zeroed all the same
    q.submit_ok(wz, None, 0).await.unwrap();
    let back = q.read(1, 64, 8, 512).await.unwrap().data;
    assert_eq!(back[..4 * 512], data[..4 * 512]);
    assert!(back[4 * 512..].iter().all(|&x| x == 0), "Write Zeroes zeroed");
    server.stop();
    drop((c, t, v));
}

/// A block device volume follows its device when the device grows (here its loop file
/// grows and `losetup --set-capacity` tells the kernel): a host connected to its namespace
/// gets a namespace attribute notice and reads the new size, the new blocks take I/O and
/// the data before the old end stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grown_block_device_grows_its_namespace_under_a_connected_host() {
    const NQN: &str = "nqn.2024-01.io.example:grown-device";
    let (_dir, file) = backing_file();
    let dev = LoopDevice::attach(&file, 4096).unwrap();
    let v = Arc::new(Volume::block_device("loop", dev.path(), None).unwrap());
    let (t, server, mut c) = serve(NQN, &v).await;
    let old_blocks = DEVICE_BYTES / 4096;
    let data = pattern(4096, 3);
    let w = c.io[0].write(1, old_blocks - 1, &data, 4096).await.unwrap();
    assert!(w.cqe.status.is_success(), "{:?}", w.cqe);
    c.admin.set_features(0x0B, 1 << 8).await.unwrap();
    c.admin.send_only(Sqe::new(0x0C, 0)).await.unwrap();

    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(3 * DEVICE_BYTES).unwrap();
    dev.refresh_capacity().unwrap();
    let asked = Instant::now();
    let event = c.admin.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(event.dw0, 0x0004_0002, "namespace attribute changed");
    println!("the host was told {:?} after the device grew", asked.elapsed());
    let log = c.admin.get_log_page(4, 4096, 0).await.unwrap();
    assert_eq!(&log[0..8], &[1, 0, 0, 0, 0, 0, 0, 0]);
    let blocks = 3 * DEVICE_BYTES / 4096;
    let id_ns = c.admin.identify(0, 1).await.unwrap();
    assert_eq!(u64::from_le_bytes(id_ns[0..8].try_into().unwrap()), blocks, "NSZE");
    assert_eq!(v.blocks(), blocks);
    assert_eq!(c.io[0].read(1, old_blocks - 1, 1, 4096).await.unwrap().data, data);
    let last = pattern(4096, 9);
    let w = c.io[0].write(1, blocks - 1, &last, 4096).await.unwrap();
    assert!(w.cqe.status.is_success(), "{:?}", w.cqe);
    assert_eq!(read_file(&file, 3 * DEVICE_BYTES - 4096, 4096), last, "in the device's file");
    let past = c.io[0].read(1, blocks, 1, 4096).await.unwrap();
    assert_eq!(past.cqe.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    server.stop();
    drop((c, t, v));
    dev.detach().unwrap();
}

/// A block device that shrank under its volume (which follows no shrink; here its loop
/// file is cut and `losetup --set-capacity` tells the kernel): a read or write of blocks
/// past the device's new end fails with Internal Error and Do Not Retry, as Linux's nvmet
/// answers I/O past the end of its device. The write is not Capacity Exceeded although the
/// device refuses it with ENOSPC, as a full thin device refuses one: past the end, its
/// blocks are gone, no room will bring them back. Blocks before the end still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_past_the_end_of_a_shrunk_block_device_is_an_internal_error() {
    const NQN: &str = "nqn.2024-01.io.example:shrunk-device";
    let (_dir, file) = backing_file();
    let dev = LoopDevice::attach(&file, 512).unwrap();
    let v = Arc::new(Volume::block_device("loop", dev.path(), None).unwrap());
    let (t, server, mut c) = serve(NQN, &v).await;
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(DEVICE_BYTES / 2).unwrap();
    dev.refresh_capacity().unwrap();
    let gone = DEVICE_BYTES / 2 / 512;
    let data = pattern(4096, 4);
    let q = &mut c.io[0];
    let internal = Status::INTERNAL_ERROR.with_dnr();
    for slba in [gone, gone - 4] {
        assert_eq!(q.write(1, slba, &data, 512).await.unwrap().cqe.status, internal, "{slba}");
        assert_eq!(q.read(1, slba, 8, 512).await.unwrap().cqe.status, internal, "{slba}");
    }
    // The pool's calls say the same (the commands above may have run on io_uring).
    let b = v.backend();
    for e in [b.write_at(&data, gone * 512), b.write_zeroes(gone * 512, 4096)] {
        assert_eq!(e.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    }
    let w = q.write(1, gone - 8, &data, 512).await.unwrap();
    assert!(w.cqe.status.is_success(), "{:?}", w.cqe);
    assert_eq!(q.read(1, gone - 8, 8, 512).await.unwrap().data, data);
    server.stop();
    drop((c, t, v));
    dev.detach().unwrap();
}

#[test]
fn a_4096_byte_device_refuses_smaller_volume_blocks() {
    let (_dir, file) = backing_file();
    let dev = LoopDevice::attach(&file, 4096).unwrap();
    let e = Volume::block_device("loop", dev.path(), Some(512)).unwrap_err();
    assert!(
        matches!(e, VolumeError::BelowDeviceBlockSize { block_size: 512, device: 4096, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("use 4096"), "{e}");
    assert!(matches!(
        Volume::block_device("loop", dev.path(), Some(1024)),
        Err(VolumeError::BadBlockSize(1024))
    ));
    for chosen in [None, Some(4096)] {
        let v = Volume::block_device("loop", dev.path(), chosen).unwrap();
        assert_eq!((v.block_size(), v.blocks()), (4096, DEVICE_BYTES / 4096));
        let data = pattern(4096, 7);
        v.backend().write_at(&data, 3 * 4096).unwrap();
        v.backend().flush().unwrap();
        assert_eq!(read_file(&file, 3 * 4096, 4096), data);
    }
    dev.detach().unwrap();
}

/// A configured block device volume's `size`, if given, must be the device's: a wrong
/// one (the path names another device than meant) is refused, naming both sizes, and the
/// target is left without the volume.
#[test]
fn a_configured_block_device_size_must_be_the_devices() {
    let (_dir, file) = backing_file();
    let dev = LoopDevice::attach(&file, 512).unwrap();
    let config = |size: u64| {
        dpu_nvmf::config::Config::parse(&format!(
            "[[volumes]]\nname = \"d\"\nkind = \"block\"\npath = \"{}\"\nsize = {size}\n\
             [[subsystems]]\nnqn = \"nqn.2024-01.io.example:dev\"\nallow_any_host = true\n\
             [[subsystems.namespaces]]\nnsid = 1\nvolume = \"d\"\n",
            dev.path().display()
        ))
        .unwrap()
    };
    let target = Target::new();
    let e = config(2 * DEVICE_BYTES).apply(&target).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "volume d: size {} bytes, but {} holds {DEVICE_BYTES} bytes",
            2 * DEVICE_BYTES,
            dev.path().display()
        )
    );
    assert!(target.subsystems().is_empty());
    config(DEVICE_BYTES).apply(&target).unwrap();
    assert!(target.subsystem("nqn.2024-01.io.example:dev").is_some());
    drop(target);
    dev.detach().unwrap();
}

/// Runs `cmd`, failing the test with its output if it fails.
fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Bytes of `path` in the page cache, as `fincore` counts them (mincore(2)).
fn cached_bytes(path: &Path) -> u64 {
    let out = Command::new("fincore")
        .args(["--bytes", "--noheadings", "--output", "RES"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "fincore: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A file volume on ext4 (which takes O_DIRECT) moves its aligned blocks around the page
/// cache, and its unaligned ones through it, coherently; on ramfs (which refuses O_DIRECT;
/// tmpfs takes it since Linux 6.6) everything goes through the page cache.
#[test]
fn file_volume_io_bypasses_the_page_cache_where_the_file_system_allows() {
    dpu_lab::guest::ensure_commands(&[("mkfs.ext4", "e2fsprogs"), ("fincore", "util-linux")])
        .unwrap();
    const VOLUME_BYTES: u64 = 8 * MIB;
    let (dir, image) = backing_file_of(32 * MIB);
    let dev = LoopDevice::attach(&image, 512).unwrap();
    run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(dev.path()));
    let ext4_dir = dir.path().join("ext4");
    std::fs::create_dir(&ext4_dir).unwrap();
    let ext4 = Mount::new("ext4", dev.path(), &ext4_dir).unwrap();

    let path = ext4.path().join("volume.img");
    Volume::file("f", &path, 4096, VOLUME_BYTES).unwrap();
    let b = FileBackend::open_file(&path, VOLUME_BYTES).unwrap();
    assert!(b.is_direct(), "ext4 takes O_DIRECT");
    let big = pattern(MIB as usize, 3);
    b.write_at(&big, MIB).unwrap();
    b.flush().unwrap();
    let mut back = vec![0u8; big.len()];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back, big);
    assert_eq!(cached_bytes(&path), 0, "aligned writes and reads leave the page cache empty");

    // A 512-byte write goes through the page cache; an aligned read of its block then
    // sees it (Linux writes cached pages back before a direct read of their range).
    let small = pattern(512, 0x33);
    b.write_at(&small, 3 * MIB + 512).unwrap();
    let mut block = vec![0u8; 4096];
    b.read_at(&mut block, 3 * MIB).unwrap();
    assert_eq!(&block[512..1024], &small[..]);
    assert!(block[..512].iter().chain(&block[1024..]).all(|&x| x == 0));
    // A direct write over a cached block replaces what a buffered read sees.
    let over = pattern(4096, 0x44);
    b.write_at(&over, 3 * MIB).unwrap();
    assert_eq!(read_file(&path, 3 * MIB, 4096), over);
    assert_eq!(read_file(&path, MIB, big.len()), big, "the file holds the direct writes");
    drop(b);
    drop(ext4);
    dev.detach().unwrap();

    let ramfs_dir = dir.path().join("ramfs");
    std::fs::create_dir(&ramfs_dir).unwrap();
    let ramfs = Mount::new("ramfs", Path::new("nvmf-test"), &ramfs_dir).unwrap();
    let path = ramfs.path().join("volume.img");
    Volume::file("f", &path, 4096, VOLUME_BYTES).unwrap();
    let b = FileBackend::open_file(&path, VOLUME_BYTES).unwrap();
    assert!(!b.is_direct(), "ramfs refuses O_DIRECT");
    b.write_at(&big, MIB).unwrap();
    let mut back = vec![0u8; big.len()];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back, big);
    assert!(cached_bytes(&path) >= MIB, "ramfs holds the data in the page cache");
}
