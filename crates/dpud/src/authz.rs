//! Which role each gRPC method needs.
//!
//! Deny by default: a method missing from these tables is operator-only, so a new write method
//! can never be reached from the host side by accident.

use dpu_pki::Role;

/// Methods any authenticated client may call (health and reflection).
const ANY_ROLE_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// The narrow host-facing set: reading status.
const HOST_METHODS: &[&str] = &[
    "/dpu.system.v1.SystemService/GetInventory",
    "/dpu.system.v1.SystemService/GetHealth",
    "/dpu.system.v1.SystemService/GetSysctl",
    "/dpu.system.v1.SystemService/ListSysctls",
    "/dpu.nvmf.v1.NvmfService/GetVolume",
    "/dpu.nvmf.v1.NvmfService/ListVolumes",
    "/dpu.nvmf.v1.NvmfService/GetSubsystem",
    "/dpu.nvmf.v1.NvmfService/ListSubsystems",
    "/dpu.nvmf.v1.NvmfService/GetNamespace",
    "/dpu.nvmf.v1.NvmfService/ListNamespaces",
    "/dpu.nvmf.v1.NvmfService/GetListener",
    "/dpu.nvmf.v1.NvmfService/ListListeners",
    "/dpu.nvmf.v1.NvmfService/GetNvmfStats",
    // The handlers narrow these to the host's own ports (api::switch::kinds::is_host_port).
    "/dpu.switch.v1.SwitchService/GetPortStatus",
    "/dpu.switch.v1.SwitchService/ListPortStatuses",
];

/// The least role that may call `path` (the HTTP/2 `:path` of a gRPC call).
pub fn required_role(path: &str) -> Role {
    if ANY_ROLE_PREFIXES.iter().any(|p| path.starts_with(p)) || HOST_METHODS.contains(&path) {
        Role::Host
    } else {
        Role::Operator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_reads_operator_writes_unknown_is_operator() {
        assert_eq!(required_role("/grpc.health.v1.Health/Check"), Role::Host);
        assert_eq!(required_role("/dpu.system.v1.SystemService/GetInventory"), Role::Host);
        assert_eq!(required_role("/dpu.system.v1.SystemService/CreateSysctl"), Role::Operator);
        assert_eq!(required_role("/dpu.system.v1.SystemService/GetAgentMetrics"), Role::Operator);
        assert_eq!(required_role("/dpu.system.v1.SystemService/GetInventoryX"), Role::Operator);
        assert_eq!(required_role("/no.such.Service/Method"), Role::Operator);
        assert_eq!(required_role("/dpu.nvmf.v1.NvmfService/ListVolumes"), Role::Host);
        assert_eq!(required_role("/dpu.nvmf.v1.NvmfService/GetNvmfStats"), Role::Host);
        assert_eq!(required_role("/dpu.nvmf.v1.NvmfService/CreateVolume"), Role::Operator);
        assert_eq!(required_role("/dpu.nvmf.v1.NvmfService/DeleteNamespace"), Role::Operator);
        assert_eq!(required_role("/dpu.nvmf.v1.NvmfService/UpdateListener"), Role::Operator);
        assert_eq!(required_role("/dpu.switch.v1.SwitchService/ListPortStatuses"), Role::Host);
        assert_eq!(required_role("/dpu.switch.v1.SwitchService/ListPorts"), Role::Operator);
        assert_eq!(required_role("/dpu.switch.v1.SwitchService/ListMacEntries"), Role::Operator);
        assert_eq!(required_role("/dpu.switch.v1.SwitchService/CreatePort"), Role::Operator);
        assert_eq!(required_role(""), Role::Operator);
    }
}
