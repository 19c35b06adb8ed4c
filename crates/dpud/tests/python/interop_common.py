"""What the Python interop clients share: stubs generated from proto/, mTLS channels of the
host and operator certificates, checks that stop at the first mismatch, and google.rpc
BadRequest details read back from an error."""

import argparse
import os
import subprocess
import sys
import tempfile


def generate_stubs(proto_dir, out_dir):
    import grpc_tools
    protos = []
    for root, _, files in os.walk(proto_dir):
        protos += [os.path.join(root, f) for f in files if f.endswith(".proto")]
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{proto_dir}", f"-I{include}",
           f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"] + protos
    subprocess.run(cmd, check=True)
    # Generated modules import each other as packages.
    for root, _, _ in os.walk(out_dir):
        open(os.path.join(root, "__init__.py"), "a").close()
    sys.path.insert(0, out_dir)


def channel(args, cert, key):
    import grpc
    creds = grpc.ssl_channel_credentials(
        root_certificates=open(args.ca, "rb").read(),
        private_key=open(key, "rb").read(),
        certificate_chain=open(cert, "rb").read(),
    )
    return grpc.secure_channel(args.endpoint, creds)


def check(cond, what, quiet=False):
    """Exits non-zero naming `what` unless `cond`; prints it when it holds, unless `quiet`
    (a condition checked on every round of a wait)."""
    if not cond:
        print(f"interop FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    if not quiet:
        print(f"ok: {what}")


def bad_request_fields(error):
    """The fields the google.rpc.BadRequest details of a failed call name."""
    from grpc_status import rpc_status
    from google.rpc import error_details_pb2
    status = rpc_status.from_call(error)
    fields = []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            detail.Unpack(br)
            fields += [v.field for v in br.field_violations]
    return fields


def parser():
    """The arguments every interop client takes: where the agent is and the certificates."""
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--host-cert", required=True)
    p.add_argument("--host-key", required=True)
    p.add_argument("--operator-cert", required=True)
    p.add_argument("--operator-key", required=True)
    p.add_argument("--proto-dir", required=True)
    return p


def run(args, checks):
    """Generates the stubs, then runs `checks(args)`."""
    # Removed on every exit, also after a failed check (sys.exit unwinds through it).
    with tempfile.TemporaryDirectory(prefix="dpu-py-stubs-") as out:
        generate_stubs(args.proto_dir, out)
        checks(args)
