//! Where to connect and as whom. Each setting comes from, first to last: a flag typed on
//! the command line, the context file named with `--context`, the `DPUCTL_ENDPOINT`,
//! `DPUCTL_CA`, `DPUCTL_CERT` and `DPUCTL_KEY` environment variables, the context file
//! named by `DPUCTL_CONTEXT`, the default endpoint. A context the user names on the
//! command line is never overridden by the environment, which may be left from another
//! card.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::ArgMatches;
use clap::parser::ValueSource;
use dpu_client::ConnectOptions;
use serde::Deserialize;

use crate::Cli;

/// The card's address on the tmfifo link, as seen from the host.
const DEFAULT_ENDPOINT: &str = "https://192.168.100.2:50051";

/// Which connection arguments were typed on the command line; clap fills the others from
/// the environment, which ranks lower.
#[derive(Debug, Default, Clone, Copy)]
pub struct Typed {
    endpoint: bool,
    ca: bool,
    cert: bool,
    key: bool,
    context: bool,
}

impl Typed {
    pub fn of(matches: &ArgMatches) -> Self {
        let typed = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        Typed {
            endpoint: typed("endpoint"),
            ca: typed("ca"),
            cert: typed("cert"),
            key: typed("key"),
            context: typed("context"),
        }
    }
}

/// One source's settings (the flags, the environment, a context file); each may be unset.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    endpoint: Option<String>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

impl Settings {
    /// `self`, with what it leaves unset taken from `below`.
    fn over(self, below: Settings) -> Settings {
        Settings {
            endpoint: self.endpoint.or(below.endpoint),
            ca: self.ca.or(below.ca),
            cert: self.cert.or(below.cert),
            key: self.key.or(below.key),
        }
    }

    /// The settings of `cli` split by where clap found them: (typed, environment).
    fn split(cli: &Cli) -> (Settings, Settings) {
        fn pick<T: Clone>(typed: bool, value: &Option<T>) -> (Option<T>, Option<T>) {
            if typed { (value.clone(), None) } else { (None, value.clone()) }
        }
        let t = cli.typed;
        let (endpoint, env_endpoint) = pick(t.endpoint, &cli.endpoint);
        let (ca, env_ca) = pick(t.ca, &cli.ca);
        let (cert, env_cert) = pick(t.cert, &cli.cert);
        let (key, env_key) = pick(t.key, &cli.key);
        (
            Settings { endpoint, ca, cert, key },
            Settings { endpoint: env_endpoint, ca: env_ca, cert: env_cert, key: env_key },
        )
    }
}

/// A path written in the context file in `base`: a leading `~/` is the home directory, as
/// in a shell; another relative path is relative to the file.
fn file_path(base: &Path, p: PathBuf, home: Option<&Path>) -> anyhow::Result<PathBuf> {
    match p.strip_prefix("~") {
        Ok(rest) => {
            let home = home.with_context(|| format!("{}: HOME is not set", p.display()))?;
            Ok(home.join(rest))
        }
        Err(_) if p.is_relative() => Ok(base.join(p)),
        Err(_) => Ok(p),
    }
}

/// The settings of the context file at `path`, its paths resolved ([`file_path`]).
fn load(path: &Path, home: Option<&Path>) -> anyhow::Result<Settings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading context {}", path.display()))?;
    let mut file: Settings =
        toml::from_str(&text).with_context(|| format!("context {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: Option<PathBuf>| {
        p.map(|p| file_path(base, p, home))
            .transpose()
            .with_context(|| format!("context {}", path.display()))
    };
    file.ca = resolve(file.ca)?;
    file.cert = resolve(file.cert)?;
    file.key = resolve(file.key)?;
    Ok(file)
}

/// The settings in force: typed flags, a typed context, the environment, a context from
/// the environment, in that order.
fn layered(typed: Settings, env: Settings, context: Settings, context_typed: bool) -> Settings {
    if context_typed { typed.over(context).over(env) } else { typed.over(env).over(context) }
}

pub fn resolve(cli: &Cli, timeout: Duration) -> anyhow::Result<ConnectOptions> {
    let context = match &cli.context {
        Some(path) => load(path, std::env::var_os("HOME").as_deref().map(Path::new))?,
        None => Settings::default(),
    };
    let (typed, env) = Settings::split(cli);
    let s = layered(typed, env, context, cli.typed.context);
    let missing = |what: &str| {
        anyhow::anyhow!(
            "no {what}: pass --{what}, set DPUCTL_{}, or use --context",
            what.to_uppercase()
        )
    };
    Ok(ConnectOptions {
        endpoint: s.endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
        ca: s.ca.ok_or_else(|| missing("ca"))?,
        cert: s.cert.ok_or_else(|| missing("cert"))?,
        key: s.key.ok_or_else(|| missing("key"))?,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    fn endpoint(e: &str) -> Settings {
        Settings { endpoint: Some(e.into()), ..Default::default() }
    }

    #[test]
    fn a_typed_context_outranks_the_environment_and_flags_outrank_both() {
        let none = Settings::default;
        let ctx = || Settings { ca: Some("ctx-ca".into()), ..endpoint("https://ctx:1") };
        let env = || Settings { cert: Some("env-cert".into()), ..endpoint("https://env:1") };
        // --context on the command line: the environment fills only what it leaves unset.
        let s = layered(none(), env(), ctx(), true);
        assert_eq!(s, Settings { cert: Some("env-cert".into()), ..ctx() });
        // DPUCTL_CONTEXT: the other environment variables override it.
        let s = layered(none(), env(), ctx(), false);
        assert_eq!(s, Settings { ca: Some("ctx-ca".into()), ..env() });
        // A typed flag wins over both.
        for context_typed in [true, false] {
            let s = layered(endpoint("https://flag:1"), env(), ctx(), context_typed);
            assert_eq!(s.endpoint.as_deref(), Some("https://flag:1"));
        }
    }

    /// `~/` in a context file is the home directory; other relative paths are the file's.
    #[test]
    fn context_paths_expand_the_home_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("card.toml");
        let text = "ca = \"~/pki/ca.crt\"\ncert = \"certs/op.crt\"\nkey = \"/etc/op.key\"\n";
        std::fs::write(&file, text).unwrap();
        let s = load(&file, Some(Path::new("/home/op"))).unwrap();
        assert_eq!(s.ca, Some("/home/op/pki/ca.crt".into()));
        assert_eq!(s.cert, Some(dir.path().join("certs/op.crt")));
        assert_eq!(s.key, Some("/etc/op.key".into()));
        let e = format!("{:#}", load(&file, None).unwrap_err());
        assert!(e.contains("HOME is not set") && e.contains("card.toml"), "{e}");
        // Only a `~` of its own is the home directory (`~op/` is a name like any other).
        let s = file_path(Path::new("/ctx"), "~op/ca.crt".into(), Some(Path::new("/h")));
        assert_eq!(s.unwrap(), Path::new("/ctx/~op/ca.crt"));
    }

    /// Flags typed before or after the subcommand count as typed; the others are the
    /// environment's (clap fills them from it).
    #[test]
    fn typed_flags_are_told_from_the_rest() {
        let args = ["dpuctl", "--endpoint", "https://a:1", "health", "--context", "c.toml"];
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        let mut cli = Cli::from_arg_matches(&matches).unwrap();
        cli.typed = Typed::of(&matches);
        assert!(cli.typed.endpoint && cli.typed.context);
        assert!(!cli.typed.ca && !cli.typed.cert && !cli.typed.key);
        cli.ca = Some("from-env.crt".into());
        let (typed, env) = Settings::split(&cli);
        assert_eq!(typed, endpoint("https://a:1"));
        assert_eq!(env, Settings { ca: Some("from-env.crt".into()), ..Default::default() });
    }
}
