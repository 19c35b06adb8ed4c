#!/usr/bin/env python3
"""A client in another language: Python grpcio with stubs generated from proto/ right now.

Exercises the agent the way a host-side program would: health, server reflection, inventory
compared with this machine's real interfaces, a refused operator call, and a rich error detail.
Exits non-zero with a message on the first mismatch.
"""

import os

from interop_common import bad_request_fields, channel, check, parser, run


def main():
    run(parser().parse_args(), run_checks)


def run_checks(args):
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    from dpu.system.v1 import system_pb2, system_pb2_grpc

    host = channel(args, args.host_cert, args.host_key)
    operator = channel(args, args.operator_cert, args.operator_key)

    # Health.
    resp = health_pb2_grpc.HealthStub(host).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    check(resp.status == health_pb2.HealthCheckResponse.SERVING, "health: overall SERVING")
    # The test's agent drives the system service only: the others are not serving.
    for name, want, said in [
        ("dpu.system.v1.SystemService", health_pb2.HealthCheckResponse.SERVING, "SERVING"),
        ("dpu.nvmf.v1.NvmfService", health_pb2.HealthCheckResponse.NOT_SERVING, "NOT_SERVING"),
        ("dpu.switch.v1.SwitchService", health_pb2.HealthCheckResponse.NOT_SERVING, "NOT_SERVING"),
    ]:
        resp = health_pb2_grpc.HealthStub(host).Check(
            health_pb2.HealthCheckRequest(service=name), timeout=10)
        check(resp.status == want, f"health: {name} {said}")

    # Reflection lists the services.
    stub = reflection_pb2_grpc.ServerReflectionStub(host)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
    services = {s.name for r in responses for s in r.list_services_response.service}
    for name in ["dpu.system.v1.SystemService", "dpu.nvmf.v1.NvmfService", "grpc.health.v1.Health"]:
        check(name in services, f"reflection lists {name} (got {sorted(services)})")

    # Inventory matches this machine.
    inv = system_pb2_grpc.SystemServiceStub(host).GetInventory(system_pb2.GetInventoryRequest(), timeout=10)
    real = sorted(os.listdir("/sys/class/net"))
    got = sorted(i.name for i in inv.interfaces)
    check(got == real, f"inventory interfaces {got} == /sys/class/net {real}")
    for i in inv.interfaces:
        mtu = int(open(f"/sys/class/net/{i.name}/mtu").read())
        check(i.mtu == mtu, f"{i.name} MTU {i.mtu} == {mtu}")
        mac = open(f"/sys/class/net/{i.name}/address").read().strip()
        if mac not in ("", "00:00:00:00:00:00"):
            check(i.mac_address == mac, f"{i.name} MAC {i.mac_address} == {mac}")
    lo = [i for i in inv.interfaces if i.name == "lo"][0]
    check("127.0.0.1/8" in lo.addresses, f"lo has 127.0.0.1/8 ({list(lo.addresses)})")
    check(inv.hostname == os.uname().nodename, "hostname matches")
    check(inv.cpu_count == os.cpu_count(), f"cpu_count {inv.cpu_count} == {os.cpu_count()}")
    check({v.component for v in inv.versions} >= {"dpud", "system"}, "versions of dpud and system")

    # The host may not write; the operator may, and bad input carries a BadRequest detail.
    req = system_pb2.CreateSysctlRequest(
        sysctl_id="net.ipv4.ip_forward",
        sysctl=system_pb2.Sysctl(spec=system_pb2.SysctlSpec(value="1")))
    try:
        system_pb2_grpc.SystemServiceStub(host).CreateSysctl(req, timeout=10)
        check(False, "host role refused CreateSysctl")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.PERMISSION_DENIED, f"host CreateSysctl -> {e.code()}")
    bad = system_pb2.CreateSysctlRequest(sysctl_id="../etc", sysctl=req.sysctl)
    try:
        system_pb2_grpc.SystemServiceStub(operator).CreateSysctl(bad, timeout=10)
        check(False, "invalid id refused")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"invalid id -> {e.code()}")
        fields = bad_request_fields(e)
        check(fields == ["sysctl_id"], f"BadRequest names the field: {fields}")
    huge = system_pb2.CreateSysctlRequest(
        sysctl_id="vm.huge", sysctl=system_pb2.Sysctl(spec=system_pb2.SysctlSpec(value="x" * (10 << 20))))
    try:
        system_pb2_grpc.SystemServiceStub(operator).CreateSysctl(huge, timeout=30)
        check(False, "10 MiB request refused")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, f"10 MiB request -> {e.code()}")
    created = system_pb2_grpc.SystemServiceStub(operator).CreateSysctl(req, timeout=10)
    check(created.name == "sysctls/net.ipv4.ip_forward" and created.generation == 1, "operator CreateSysctl")
    print("interop: all checks passed")


if __name__ == "__main__":
    main()
