#!/usr/bin/env python3
"""The NVMe-oF API (dpu.nvmf.v1) driven by Python grpcio, stubs generated from proto/ now.

Two phases, with NVMe/TCP I/O of the Rust test in between:

  create            the operator creates volumes, a subsystem, namespaces and a listener and
                    waits until each is APPLIED; pages through every List one object at a
                    time; updates with a field mask and the current etag, is refused a stale
                    etag (ABORTED) and an invalid NQN (INVALID_ARGUMENT with a BadRequest),
                    neither changing anything; the host role reads and may not create.
  stats-and-delete  the host role reads the I/O the initiator did in the statistics; the
                    operator deletes everything (allow_missing twice) and lists nothing left.

Every call has a deadline; every wait is bounded. Exits non-zero on the first mismatch.
"""

import time

from interop_common import bad_request_fields, channel, check, parser, run

CALL = 10  # Seconds: the deadline of every call.
WAIT = 20  # Seconds: the most a wait for the agent or the service may take.
MIB = 1 << 20
VOLUMES = ["volumes/v1", "volumes/v2", "volumes/v3"]
SUBSYSTEM = "subsystems/s1"
NAMESPACES = ["subsystems/s1/namespaces/1", "subsystems/s1/namespaces/2"]
LISTENER = "listeners/l1"
SERIAL = "PYAPI001"


def main():
    p = parser()
    p.add_argument("--phase", choices=sorted(PHASES), required=True)
    p.add_argument("--nqn", required=True)
    p.add_argument("--host-nqn", required=True)
    p.add_argument("--listener-port", type=int, required=True)
    # The model number the update sets; the Rust test reads it back with Identify.
    p.add_argument("--model-number", required=True)
    args = p.parse_args()
    run(args, PHASES[args.phase])


class Kind:
    """The four standard methods of one resource kind, by the names the proto gives them."""

    def __init__(self, stub, singular, plural):
        self.stub, self.singular, self.plural = stub, singular, plural

    def call(self, verb, request):
        return getattr(self.stub, f"{verb}{self.singular}")(request, timeout=CALL)

    def get(self, name):
        from dpu.nvmf.v1 import nvmf_pb2
        return self.call("Get", getattr(nvmf_pb2, f"Get{self.singular}Request")(name=name))

    def list_page(self, page_size, page_token):
        from dpu.nvmf.v1 import nvmf_pb2
        request = getattr(nvmf_pb2, f"List{self.singular}sRequest")(
            page_size=page_size, page_token=page_token)
        resp = getattr(self.stub, f"List{self.singular}s")(request, timeout=CALL)
        return list(getattr(resp, self.plural)), resp.next_page_token

    def delete(self, name, allow_missing):
        from dpu.nvmf.v1 import nvmf_pb2
        request = getattr(nvmf_pb2, f"Delete{self.singular}Request")(
            name=name, allow_missing=allow_missing)
        return self.call("Delete", request)


def kinds(chan):
    from dpu.nvmf.v1 import nvmf_pb2_grpc
    stub = nvmf_pb2_grpc.NvmfServiceStub(chan)
    return {
        "volumes": Kind(stub, "Volume", "volumes"),
        "subsystems": Kind(stub, "Subsystem", "subsystems"),
        "namespaces": Kind(stub, "Namespace", "namespaces"),
        "listeners": Kind(stub, "Listener", "listeners"),
    }


def kind_of(name, k):
    return k["namespaces"] if "/namespaces/" in name else k[name.split("/")[0]]


def expect_error(code, what, call):
    """Runs `call`, which must fail with `code`; returns the error."""
    import grpc
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() == code, f"{what} -> {e.code()}")
        return e
    check(False, f"{what} -> {code}, but it succeeded")


def wait_applied(kind, name, generation):
    """Polls Get until the object's status says the service applied `generation`."""
    from dpu.nvmf.v1 import nvmf_pb2
    deadline = time.monotonic() + WAIT
    while True:
        obj = kind.get(name)
        apply = obj.status.apply
        if apply.state == nvmf_pb2.APPLY_STATE_APPLIED and apply.applied_generation == generation:
            print(f"ok: {name} APPLIED at generation {generation}")
            return obj
        check(apply.state != nvmf_pb2.APPLY_STATE_FAILED, f"{name} FAILED: {apply.message}",
              quiet=True)
        check(time.monotonic() < deadline, f"{name} APPLIED within {WAIT} s (now {apply})",
              quiet=True)
        time.sleep(0.05)


def list_all(kind):
    """Every object of `kind`, one List page of page_size 1 at a time."""
    names, token, pages = [], "", 0
    while True:
        page, token = kind.list_page(1, token)
        pages += 1
        check(len(page) <= 1, f"{kind.plural} page {pages} holds at most 1 ({len(page)})",
              quiet=True)
        names += [o.name for o in page]
        if not token:
            return names
        check(pages < 100, f"{kind.plural}: the pages end", quiet=True)


def create_phase(args):
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from google.protobuf.field_mask_pb2 import FieldMask
    from dpu.nvmf.v1 import nvmf_pb2 as pb

    op = kinds(channel(args, args.operator_cert, args.operator_key))
    host_chan = channel(args, args.host_cert, args.host_key)
    host = kinds(host_chan)

    health = health_pb2_grpc.HealthStub(host_chan).Check(
        health_pb2.HealthCheckRequest(service="dpu.nvmf.v1.NvmfService"), timeout=CALL)
    check(health.status == health_pb2.HealthCheckResponse.SERVING, "health: NvmfService SERVING")

    # 1. Create every kind; each is APPLIED by the service within a bounded wait.
    for name in VOLUMES:
        volume = pb.Volume(spec=pb.VolumeSpec(ram=pb.RamBackend(size_bytes=MIB), block_size=512))
        created = op["volumes"].call(
            "Create", pb.CreateVolumeRequest(volume_id=name.split("/")[1], volume=volume))
        check(created.name == name and created.generation == 1, f"created {name}")
    subsystem = pb.Subsystem(spec=pb.SubsystemSpec(
        nqn=args.nqn, serial_number=SERIAL, model_number="python interop",
        allowed_hosts=[args.host_nqn]))
    created = op["subsystems"].call(
        "Create", pb.CreateSubsystemRequest(subsystem_id="s1", subsystem=subsystem))
    check(created.name == SUBSYSTEM and created.etag != "", f"created {SUBSYSTEM} with an etag")
    for name, volume in zip(NAMESPACES, VOLUMES):
        namespace = pb.Namespace(spec=pb.NamespaceSpec(volume=volume))
        created = op["namespaces"].call("Create", pb.CreateNamespaceRequest(
            parent=SUBSYSTEM, namespace_id=name.rsplit("/", 1)[1], namespace=namespace))
        check(created.name == name, f"created {name} on {volume}")
    listener = pb.Listener(spec=pb.ListenerSpec(
        trtype=pb.TRANSPORT_TYPE_TCP, address="127.0.0.1", port=args.listener_port))
    created = op["listeners"].call(
        "Create", pb.CreateListenerRequest(listener_id="l1", listener=listener))
    check(created.name == LISTENER, f"created {LISTENER} on 127.0.0.1:{args.listener_port}")

    every = VOLUMES + [SUBSYSTEM] + NAMESPACES + [LISTENER]
    applied = {name: wait_applied(kind_of(name, op), name, 1) for name in every}
    for name in VOLUMES:
        status = applied[name].status
        check((status.size_bytes, status.block_count) == (MIB, MIB // 512),
              f"{name}: 1 MiB of 512-byte blocks ({status.size_bytes}, {status.block_count})")
    for name in NAMESPACES:
        nguid = applied[name].status.nguid
        check(len(nguid) == 32 and int(nguid, 16) > 0, f"{name} has an NGUID ({nguid})")
    check(applied[LISTENER].status.port_id == 1, f"{LISTENER} serves under port ID 1")

    # 2. Page through every List one object at a time: each object once, in name order.
    expected = {"volumes": VOLUMES, "subsystems": [SUBSYSTEM], "namespaces": NAMESPACES,
                "listeners": [LISTENER]}
    for plural, names in expected.items():
        seen = list_all(op[plural])
        check(seen == names, f"{plural} paged one at a time: {seen} == {names}")

    # 3. Update with a field mask and the current etag: only the masked field changes.
    before = applied[SUBSYSTEM]
    mask = ["spec.model_number"]
    change = pb.Subsystem(name=SUBSYSTEM, etag=before.etag,
                          spec=pb.SubsystemSpec(model_number=args.model_number))
    updated = op["subsystems"].call("Update", pb.UpdateSubsystemRequest(
        subsystem=change, update_mask=FieldMask(paths=mask)))
    check(updated.generation == 2 and updated.etag != before.etag,
          f"update with the current etag: generation 2, a new etag ({updated.etag})")
    check(updated.spec.model_number == args.model_number, "the masked field changed")
    unmasked = pb.SubsystemSpec()
    unmasked.CopyFrom(updated.spec)
    unmasked.model_number = before.spec.model_number
    check(unmasked == before.spec, "the fields outside the mask kept their values")
    current = wait_applied(op["subsystems"], SUBSYSTEM, 2)

    # A stale etag: ABORTED, nothing changed.
    stale = pb.Subsystem(name=SUBSYSTEM, etag=before.etag,
                         spec=pb.SubsystemSpec(model_number="stale writer"))
    expect_error(grpc.StatusCode.ABORTED, "update with a stale etag", lambda: op["subsystems"].call(
        "Update", pb.UpdateSubsystemRequest(subsystem=stale, update_mask=FieldMask(paths=mask))))
    # Invalid NQNs, in a Create and in an Update: INVALID_ARGUMENT naming the field.
    bad = pb.Subsystem(spec=pb.SubsystemSpec(nqn="iqn.2024-01.not-nvme", serial_number="X",
                                             model_number="X", allowed_hosts=[args.host_nqn]))
    e = expect_error(grpc.StatusCode.INVALID_ARGUMENT, "create with an invalid NQN",
                     lambda: op["subsystems"].call(
                         "Create", pb.CreateSubsystemRequest(subsystem_id="s2", subsystem=bad)))
    fields = bad_request_fields(e)
    check(fields == ["subsystem.spec.nqn"], f"its BadRequest names subsystem.spec.nqn: {fields}")
    bad_update = pb.Subsystem(name=SUBSYSTEM, etag=current.etag,
                              spec=pb.SubsystemSpec(nqn="iqn.2024-01.not-nvme"))
    e = expect_error(grpc.StatusCode.INVALID_ARGUMENT, "update to an invalid NQN",
                     lambda: op["subsystems"].call("Update", pb.UpdateSubsystemRequest(
                         subsystem=bad_update, update_mask=FieldMask(paths=["spec.nqn"]))))
    fields = bad_request_fields(e)
    check(fields == ["subsystem.spec.nqn"], f"its BadRequest names subsystem.spec.nqn: {fields}")
    expect_error(grpc.StatusCode.NOT_FOUND, "the refused subsystems/s2 was not stored",
                 lambda: op["subsystems"].get("subsystems/s2"))
    after = op["subsystems"].get(SUBSYSTEM)
    check((after.generation, after.etag, after.spec) == (2, current.etag, current.spec),
          "the refused updates changed nothing")

    # 4. The host role reads everything, and may not write.
    for plural, names in expected.items():
        check(list_all(host[plural]) == names, f"host lists {plural}")
        for name in names:
            check(host[plural].get(name).spec == op[plural].get(name).spec, f"host gets {name}")
    volume = pb.Volume(spec=pb.VolumeSpec(ram=pb.RamBackend(size_bytes=MIB)))
    expect_error(grpc.StatusCode.PERMISSION_DENIED, "host CreateVolume", lambda: host["volumes"].call(
        "Create", pb.CreateVolumeRequest(volume_id="v9", volume=volume)))
    expect_error(grpc.StatusCode.PERMISSION_DENIED, "host DeleteListener",
                 lambda: host["listeners"].delete(LISTENER, False))
    expect_error(grpc.StatusCode.NOT_FOUND, "the host's volumes/v9 was not stored",
                 lambda: op["volumes"].get("volumes/v9"))
    check(op["listeners"].get(LISTENER).generation == 1, "the host's Delete changed nothing")
    print("nvmf_api create: all checks passed")


def stats_and_delete_phase(args):
    import grpc
    from dpu.nvmf.v1 import nvmf_pb2 as pb, nvmf_pb2_grpc

    host_chan = channel(args, args.host_cert, args.host_key)
    op = kinds(channel(args, args.operator_cert, args.operator_key))
    host = kinds(host_chan)

    # The initiator connected once as the allowed host (admin queue and one I/O queue), was
    # refused once as another host, and wrote then read one 512-byte block of namespace 1.
    stats = nvmf_pb2_grpc.NvmfServiceStub(host_chan).GetNvmfStats(
        pb.GetNvmfStatsRequest(), timeout=CALL)
    subsystems = {s.name: s for s in stats.subsystems}
    check(list(subsystems) == [SUBSYSTEM], f"stats of {SUBSYSTEM} ({list(subsystems)})")
    s1 = subsystems[SUBSYSTEM]
    check(s1.nqn == args.nqn, f"its NQN {s1.nqn}")
    check((s1.connects_accepted, s1.connects_refused) == (2, 1),
          f"2 Connects accepted, 1 refused ({s1.connects_accepted}, {s1.connects_refused})")
    io = s1.io
    check((io.reads, io.writes, io.read_bytes, io.write_bytes, io.errors) == (1, 1, 512, 512, 0),
          f"subsystem I/O counted: {io}".replace("\n", " "))
    namespaces = {n.name: n.counters for n in stats.namespaces}
    check(sorted(namespaces) == NAMESPACES, f"stats of {NAMESPACES} ({sorted(namespaces)})")
    one, two = namespaces[NAMESPACES[0]], namespaces[NAMESPACES[1]]
    check((one.reads, one.writes, one.read_bytes, one.write_bytes) == (1, 1, 512, 512),
          f"{NAMESPACES[0]} I/O counted: {one}".replace("\n", " "))
    check((two.reads, two.writes) == (0, 0), f"{NAMESPACES[1]} had no I/O")
    # The same counters in the namespace's status, read from the service for the answer.
    status = host["namespaces"].get(NAMESPACES[0]).status
    check(not status.stale and status.counters == one, "GetNamespace shows the same counters")
    volumes = {v.name: v for v in stats.volumes}
    check(volumes[VOLUMES[0]].allocated_bytes > 0, "the written RAM volume holds memory")
    check(volumes[VOLUMES[2]].allocated_bytes == 0, "an unwritten one holds none")

    # Delete everything, users before what they use; a second Delete with allow_missing is OK.
    for name in NAMESPACES + [SUBSYSTEM] + VOLUMES + [LISTENER]:
        kind = kind_of(name, op)
        kind.delete(name, True)
        kind.delete(name, True)
        print(f"ok: deleted {name}, and again with allow_missing")
        expect_error(grpc.StatusCode.NOT_FOUND, f"Get {name}", lambda: kind.get(name))
    expect_error(grpc.StatusCode.NOT_FOUND, "Delete of a missing listener without allow_missing",
                 lambda: op["listeners"].delete(LISTENER, False))
    for plural, kind in op.items():
        check(list_all(kind) == [], f"no {plural} left")
    print("nvmf_api stats-and-delete: all checks passed")


PHASES = {"create": create_phase, "stats-and-delete": stats_and_delete_phase}

if __name__ == "__main__":
    main()
