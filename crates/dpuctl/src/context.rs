//! Where to connect and as whom: flags and environment over a context file over defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use dpu_client::ConnectOptions;
use serde::Deserialize;

use crate::Cli;

/// The card's address on the tmfifo link, as seen from the host.
const DEFAULT_ENDPOINT: &str = "https://192.168.100.2:50051";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextFile {
    endpoint: Option<String>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

fn relative_to(base: &Path, p: PathBuf) -> PathBuf {
    if p.is_relative() { base.join(p) } else { p }
}

pub fn resolve(cli: &Cli, timeout: Duration) -> anyhow::Result<ConnectOptions> {
    let mut file = ContextFile::default();
    if let Some(path) = &cli.context {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading context {}", path.display()))?;
        file = toml::from_str(&text).with_context(|| format!("context {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        file.ca = file.ca.map(|p| relative_to(base, p));
        file.cert = file.cert.map(|p| relative_to(base, p));
        file.key = file.key.map(|p| relative_to(base, p));
    }
    let missing = |what: &str| {
        anyhow::anyhow!(
            "no {what}: pass --{what}, set DPUCTL_{}, or use --context",
            what.to_uppercase()
        )
    };
    Ok(ConnectOptions {
        endpoint: cli
            .endpoint
            .clone()
            .or(file.endpoint)
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
        ca: cli.ca.clone().or(file.ca).ok_or_else(|| missing("ca"))?,
        cert: cli.cert.clone().or(file.cert).ok_or_else(|| missing("cert"))?,
        key: cli.key.clone().or(file.key).ok_or_else(|| missing("key"))?,
        timeout,
    })
}
